"""A brand's design personality and the design style it implies.

The personality has three axes, each 0..1: energy (calm 0, energetic 1), playfulness (formal 0, playful 1) and
richness (minimal 0, rich 1). A canon can state it (canon.personality, editable); otherwise it is read from the
voice: the tone words and the dos and don'ts each lean the axes by a small, fixed amount (LEXICON), from a neutral
0.5. Deterministic and explainable: `reasons` lists the words that moved each axis.

The style is what the engine does with it (DesignStyle.of): which layout families fit, how dense the brand graphic
is and which styles it draws, the type scale and weight, the whitespace, how much accent colour is used and the
shape of the call-to-action button. README's "Render" section documents the mapping.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from sgd.contracts.shapes import PersonalityFields, VoiceFields

Axis = Literal["energy", "playfulness", "richness"]
AXES: tuple[Axis, ...] = ("energy", "playfulness", "richness")
NEUTRAL = 0.5
STEP = 0.12  # how far one word leans an axis; a few words move it clearly, one stray word does not flip it

# word stem -> (axis, direction). Stems match the start of a word ("energ" matches energy, energetic, energising).
LEXICON: dict[str, tuple[tuple[Axis, int], ...]] = {
    # calm, measured, restrained
    "calm": (("energy", -1),), "quiet": (("energy", -1), ("richness", -1)), "measured": (("energy", -1),),
    "reassur": (("energy", -1),), "steady": (("energy", -1),), "serene": (("energy", -1),),
    "trust": (("energy", -1), ("playfulness", -1)), "reliab": (("energy", -1), ("playfulness", -1)),
    "sober": (("energy", -1), ("playfulness", -1)), "understated": (("energy", -1), ("richness", -1)),
    "gentle": (("energy", -1),), "unhurried": (("energy", -1),), "slow": (("energy", -1),),
    "thoughtful": (("energy", -1),), "craft": (("richness", 1),), "modern": (("richness", -1),),
    "innovat": (("energy", 1),), "ambitio": (("energy", 1),), "patient": (("energy", -1),),
    "relaxed": (("energy", -1), ("playfulness", 1)),
    # energetic, loud
    "energ": (("energy", 1),), "bold": (("energy", 1), ("richness", 1)), "loud": (("energy", 1),),
    "dynamic": (("energy", 1),), "exciting": (("energy", 1),), "excite": (("energy", 1),),
    "punchy": (("energy", 1),), "vibrant": (("energy", 1), ("richness", 1)), "lively": (("energy", 1),),
    "fast": (("energy", 1),), "intense": (("energy", 1),), "urgent": (("energy", 1),), "hype": (("energy", 1),),
    "adventur": (("energy", 1), ("playfulness", 1)), "youth": (("energy", 1), ("playfulness", 1)),
    "confident": (("energy", 1),), "passion": (("energy", 1),), "wild": (("energy", 1), ("playfulness", 1)),
    # formal
    "formal": (("playfulness", -1),), "professional": (("playfulness", -1),), "precise": (("playfulness", -1),),
    "authorit": (("playfulness", -1),), "expert": (("playfulness", -1),), "serious": (("playfulness", -1),),
    "corporate": (("playfulness", -1),), "respect": (("playfulness", -1),), "credib": (("playfulness", -1),),
    "institution": (("playfulness", -1),), "premium": (("playfulness", -1), ("richness", -1)),
    "refined": (("playfulness", -1), ("richness", -1)), "elegan": (("playfulness", -1), ("richness", -1)),
    "sophisticat": (("playfulness", -1),), "clear": (("playfulness", -1), ("richness", -1)),
    "plain": (("playfulness", -1), ("richness", -1)), "honest": (("playfulness", -1),),
    # playful
    "playful": (("playfulness", 1),), "fun": (("playfulness", 1), ("energy", 1)), "witty": (("playfulness", 1),),
    "cheeky": (("playfulness", 1),), "quirky": (("playfulness", 1),), "humo": (("playfulness", 1),),
    "friendly": (("playfulness", 1),), "warm": (("playfulness", 1),), "casual": (("playfulness", 1),),
    "irreveren": (("playfulness", 1), ("energy", 1)), "whimsical": (("playfulness", 1),),
    "cheerful": (("playfulness", 1), ("energy", 1)), "joy": (("playfulness", 1), ("energy", 1)),
    "silly": (("playfulness", 1),), "approachable": (("playfulness", 1),), "optimis": (("playfulness", 1),),
    # minimal
    "minimal": (("richness", -1),), "simple": (("richness", -1),), "clean": (("richness", -1),),
    "restrain": (("richness", -1),), "uncluttered": (("richness", -1),), "spare": (("richness", -1),),
    "modest": (("richness", -1),),
    # rich
    "rich": (("richness", 1),), "colourful": (("richness", 1),), "colorful": (("richness", 1),),
    "expressive": (("richness", 1),), "layered": (("richness", 1),), "maximal": (("richness", 1),),
    "ornate": (("richness", 1),), "lavish": (("richness", 1),), "vivid": (("richness", 1), ("energy", 1)),
    "eclectic": (("richness", 1), ("playfulness", 1)), "striking": (("richness", 1), ("energy", 1)),
}
# Don'ts name what the brand is not: a don't pointing at a word leans the other way, half as far.
DONT_WEIGHT = -0.5
_WORD = re.compile(r"[a-z][a-z-]*")
# In a don't, the phrase may forbid a device rather than a trait: "no exclamation marks" is a calm brand.
DEVICE_HINTS: tuple[tuple[re.Pattern[str], Axis, int], ...] = (
    (re.compile(r"exclamation", re.IGNORECASE), "energy", -1),
    (re.compile(r"slang|emoji", re.IGNORECASE), "playfulness", -1),
    (re.compile(r"clutter|busy|too many colou?rs", re.IGNORECASE), "richness", -1),
)


@dataclass(frozen=True)
class Personality:
    energy: float = NEUTRAL
    playfulness: float = NEUTRAL
    richness: float = NEUTRAL
    reasons: tuple[str, ...] = ()  # which words moved the axes (empty when stated in the canon)
    stated: bool = False  # the canon states it (rather than the voice implying it)

    def as_fields(self) -> PersonalityFields:
        return {"energy": round(self.energy, 2), "playfulness": round(self.playfulness, 2),
                "richness": round(self.richness, 2)}

    @property
    def character(self) -> tuple[float, float, float]:
        return (self.energy, self.playfulness, self.richness)

    @property
    def expressed(self) -> bool:
        """Stated in the canon, or implied by some word of the voice (else it is the neutral default)."""
        return bool(self.reasons) or self.stated

    def axis(self, name: Axis) -> float:
        return {"energy": self.energy, "playfulness": self.playfulness, "richness": self.richness}[name]

    @staticmethod
    def of(fields: PersonalityFields | None, voice: VoiceFields | None = None) -> Personality:
        """The stated personality when the canon has one, else the one the voice implies."""
        if fields:
            stated = {"energy": fields.get("energy", NEUTRAL), "playfulness": fields.get("playfulness", NEUTRAL),
                      "richness": fields.get("richness", NEUTRAL)}
            energy, playfulness, richness = (min(1.0, max(0.0, float(stated[axis]))) for axis in AXES)
            return Personality(energy, playfulness, richness, stated=True)
        return from_voice(voice or {})


def from_voice(voice: VoiceFields) -> Personality:
    """The personality the voice implies: each tone word and each do leans its axes by STEP, each don't the other
    way by half; clipped to 0.05..0.95 (no voice is absolute)."""
    leaning = dict.fromkeys(AXES, 0.0)
    reasons: list[str] = []

    def lean(text: str, weight: float) -> None:
        source = "don't" if weight < 0 else "voice"
        for word in dict.fromkeys(_WORD.findall(text.lower())):
            for stem, effects in LEXICON.items():
                if word.startswith(stem):
                    for axis, direction in effects:
                        leaning[axis] += STEP * direction * weight
                    reasons.append(f"{word} ({source})")
                    break

    lean(voice.get("tone") or "", 1.0)
    for phrase in voice.get("dos") or []:
        lean(phrase, 1.0)
    for phrase in voice.get("donts") or []:
        lean(phrase, DONT_WEIGHT)
        for pattern, axis, direction in DEVICE_HINTS:
            if pattern.search(phrase):
                leaning[axis] += STEP * direction
                reasons.append(f"{pattern.pattern} (don't)")
    values = [min(0.95, max(0.05, NEUTRAL + leaning[axis])) for axis in AXES]
    return Personality(values[0], values[1], values[2], tuple(dict.fromkeys(reasons)))


ButtonShape = Literal["square", "rounded", "pill"]


@dataclass(frozen=True)
class DesignStyle:
    """What the personality makes of a design."""

    personality: Personality
    margin_factor: float  # outer margin, share of the shorter side
    headline_scale: float  # the headline's largest size, relative to the copy area (1.0: the engine's default)
    headline_weight: Literal["regular", "bold"]
    graphic_styles: tuple[str, ...]  # brand-graphic styles in order of fit (sgd.design.graphics.STYLES)
    graphic_choices: int  # how many of the first graphic_styles the seeds walk
    graphic_density: float  # 0..1: fewer, larger shapes .. more, smaller ones
    accent_shapes: bool  # decorative accent shapes (bands, circles, corners) beyond the CTA and a rule
    accent_share: float  # the most of the canvas accent colour may cover outside the CTA
    button: ButtonShape
    eyebrow_upper: bool  # the eyebrow in capitals
    imagery_treatment: Literal["as_is", "duotone"] = "as_is"  # a picture as it is, or a duotone (minimal brands)

    @staticmethod
    def of(personality: Personality) -> DesignStyle:
        energy, play, rich = personality.energy, personality.playfulness, personality.richness
        quiet = ("blocks", "arcs", "lines")
        loud = ("tiles", "stripes", "rings", "dots", "arches", "sunrise")
        ordered = quiet + loud if rich + energy < 1.0 else loud + quiet
        # Calm and minimal brands keep the accent for the CTA and a rule; energetic or rich ones decorate.
        return DesignStyle(
            personality=personality,
            margin_factor=round(0.05 + 0.05 * (1 - rich) * (1 - 0.5 * energy), 4),
            headline_scale=round(0.85 + 0.35 * energy, 3),
            headline_weight="regular" if energy < 0.35 and play < 0.45 else "bold",
            graphic_styles=ordered,
            graphic_choices=3,
            graphic_density=round(min(1.0, max(0.0, 0.15 + 0.55 * rich + 0.3 * energy)), 3),
            accent_shapes=rich + energy >= 0.9,
            accent_share=round(0.03 + 0.12 * rich * energy + 0.05 * play, 3),
            button="pill" if play >= 0.6 else "square" if play < 0.3 and energy < 0.5 else "rounded",
            eyebrow_upper=play < 0.6,
            imagery_treatment="duotone" if rich < 0.35 and energy < 0.5 else "as_is",
        )


    @staticmethod
    def neutral() -> DesignStyle:
        """The style of a brand whose canon says nothing of its personality: the engine's defaults (every loud
        graphic style in turn, accent shapes, rounded buttons)."""
        return DesignStyle(personality=Personality(), margin_factor=0.06, headline_scale=1.0, headline_weight="bold",
                           graphic_styles=("tiles", "rings", "stripes", "dots", "arches", "sunrise"),
                           graphic_choices=6, graphic_density=0.5, accent_shapes=True, accent_share=0.15,
                           button="rounded", eyebrow_upper=True)


def describe(personality: Personality) -> str:
    """'calm, formal, minimal'-style words for notes and the audit."""

    def word(value: float, low: str, high: str) -> str:
        return low if value < 0.4 else high if value > 0.6 else f"balanced {low}/{high}"

    return ", ".join((word(personality.energy, "calm", "energetic"),
                      word(personality.playfulness, "formal", "playful"),
                      word(personality.richness, "minimal", "rich")))
