"""Colour roles, usage rules and the design personality, read from a guideline's words and tables.

A colour table's role column ("Primary", "Accent") gives the colour's role, and its usage column ("Calls to action
only", "Never as a background", "60%") its usage rules (sgd.ingest.color_specs keeps those cells with the colour).
A sentence that names a palette colour (by the name the colour table gives it, or by its hex) and says how it is used
becomes a role ("Deep Sky is our primary colour") or a usage rule ("Hot Pink is for calls to action only", "never use
Sand as a background", "no text on Solar", "Ink covers about 60 % of a layout"); a split such as "60/30/10" over the
colours a sentence names, in order, becomes one proportion rule per colour. Every value cites the evidence that
states it. Where the documents are silent, roles are inferred from lightness and chroma
(sgd.design.color_roles.infer_roles) and the personality from the voice (sgd.design.personality), and their
provenance says "inferred".
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sgd.contracts.shapes import ColorRole, PersonalityFields, UsageRuleFields, VoiceFields
from sgd.design.color import normalize_hex

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
_HEX = re.compile(r"#[0-9A-Fa-f]{6}\b")
ROLE_WORDS: tuple[tuple[re.Pattern[str], ColorRole], ...] = (
    (re.compile(r"\b(?:primary|main|lead|hero|core|signature)\b(?:\s+brand)?\s+colou?r", re.I), "primary"),
    (re.compile(r"\b(?:secondary|supporting|complementary)\b(?:\s+brand)?\s+colou?r", re.I), "secondary"),
    (re.compile(r"\b(?:accent|highlight)\b(?:\s+colou?r)?", re.I), "accent"),
    (re.compile(r"\b(?:background|neutral|base)\s+colou?r\b|\bis\s+(?:the|our)\s+background\b", re.I), "background"),
    (re.compile(r"\b(?:text|type|body[\s-]copy|copy)\s+colou?r\b|\bfor\s+(?:all\s+)?(?:body\s+)?(?:text|copy)\b",
                re.I), "text"),
)
_CTA = r"(?:calls?[\s-]+to[\s-]+action|ctas?|buttons?)"
RULE_WORDS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"\b(?:only|exclusively|reserved|solely)\b.{{0,40}}\b{_CTA}\b|\b{_CTA}\b.{{0,20}}\bonly\b", re.I),
     "cta_only"),
    (re.compile(r"\b(?:never|not|don'?t|do not|avoid)\b.{0,40}\bbackgrounds?\b", re.I), "never_background"),
    (re.compile(r"\b(?:never|not|don'?t|do not|avoid)\b.{0,30}\b(?:set|place|put)\s+(?:text|type|copy)\s+on\b|"
                r"\bno\s+(?:text|type|copy)\s+on\b", re.I), "no_text_on"),
    (re.compile(r"\b(?:never|not|don'?t|do not|avoid)\b.{0,30}\b(?:for|as)\s+(?:text|type|copy|body copy)\b", re.I),
     "never_text"),
)
_SPLIT = re.compile(r"\b(\d{1,2})\s*/\s*(\d{1,2})(?:\s*/\s*(\d{1,2}))?\b")
_SHARE = re.compile(r"(\d{1,3}(?:\.\d+)?)\s*(?:%|percent\b|per cent\b)", re.I)
_AT_MOST = re.compile(r"\b(?:up to|at most|no more than|max(?:imum)?|not more than|under|below)\s*$", re.I)
_AT_LEAST = re.compile(r"\b(?:at least|min(?:imum)?|no less than|over|above)\s*$", re.I)
_AREA_WORDS = re.compile(r"\b(?:cover|covers|proportion|share|area|of (?:the|a|each|any) (?:layout|design|canvas|"
                         r"composition|page)|of the space|dominant|dominate)\b", re.I)


@dataclass(frozen=True)
class ColourUsage:
    roles: dict[str, ColorRole]
    rules: list[UsageRuleFields]
    provenance: list[dict[str, Any]]


def derive_colour_usage(evidence: Sequence[Mapping[str, Any]], palette: Sequence[str],
                        evidence_id: Any) -> ColourUsage:
    """Roles and usage rules for the palette from the evidence's sentences; the roles nobody stated inferred."""
    from sgd.design.color_roles import infer_roles

    names = _colour_names(evidence, palette)
    roles: dict[str, ColorRole] = {}
    rules: list[UsageRuleFields] = []
    provenance: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for item in evidence:  # a colour table's role and usage columns first: they are the guideline's own
        source = str(evidence_id(item))
        for colour in item.get("colors") or []:
            cells = colour.get("table") or {}
            try:
                color = normalize_hex(str(colour.get("hex") or ""))
            except ValueError:
                continue
            if color not in palette or not cells:
                continue
            row = " | ".join(filter(None, [colour.get("name"), color, cells.get("role"), cells.get("usage")]))
            role = role_in_cell(str(cells.get("role") or ""))
            if role is not None and color not in roles:
                roles[color] = role
                provenance.append(_entry(f"color_roles.{color}", role, [source],
                                         note=f"colour table, role column: {row}"[:300]))
            for rule in _rules_in(str(cells.get("usage") or ""), [color], usage_cell=True):
                key = (str(rule.get("kind")), color)
                if key not in seen:
                    seen.add(key)
                    rules.append(rule | {"statement": row[:300]})
                    provenance.append(_entry("usage_rules", f"{key[0]} {key[1]}", [source],
                                             note=f"colour table, usage column: {row}"[:300]))
    for item in evidence:
        source = str(evidence_id(item))
        for sentence in _sentences(str(item.get("text") or "")):
            named = _colours_in(sentence, names, palette)
            if not named:
                continue
            for rule in _rules_in(sentence, named):
                key = (str(rule.get("kind")), str(rule.get("hex")))
                if key in seen:
                    continue
                seen.add(key)
                rules.append(rule)
                provenance.append(_entry("usage_rules", f"{key[0]} {key[1]}", [source],
                                         note=rule.get("statement")))
            if len(named) == 1:
                for pattern, role in ROLE_WORDS:
                    if pattern.search(sentence) and named[0] not in roles:
                        roles[named[0]] = role
                        provenance.append(_entry(f"color_roles.{named[0]}", role, [source], note=sentence[:300]))
                        break
    inferred = infer_roles(list(palette), roles)
    for color, role in inferred.items():
        if color not in roles:
            provenance.append(_entry(f"color_roles.{color}", role, [], source="inferred",
                                     note="the documents state no role: inferred from its lightness and chroma"))
    return ColourUsage(inferred, rules, provenance)


_LOGO = re.compile(r"\b(?:logo|logotype|wordmark|word mark|brand ?mark|lockup|symbol)\b", re.I)
_MIN_SIZE = re.compile(r"\b(?:minimum|min\.?|smallest|never (?:smaller|less) than|no (?:smaller|less) than|"
                       r"at least|not (?:smaller|less) than)\b", re.I)
_PIXELS = re.compile(r"(\d{1,4}(?:\.\d+)?)\s*(?:px|pixels?)\b", re.I)
_PLATE = re.compile(r"\b(?:plate|box|container|holding shape|badge|tile|panel)\b", re.I)
_ALWAYS = re.compile(r"\b(?:always|must|should|only)\b", re.I)
_NEVER = re.compile(r"\b(?:never|not|don'?t|do not|avoid|without)\b", re.I)
LOGO_MIN_WIDTH_RANGE = (8.0, 2000.0)  # guardrails/canon.json's bounds for logo_min_width_px


@dataclass(frozen=True)
class LogoRules:
    min_width_px: float | None
    plate: bool
    provenance: list[dict[str, Any]]


def derive_logo_rules(evidence: Sequence[Mapping[str, Any]], evidence_id: Any) -> LogoRules:
    """The logo's minimum width in pixels ("the logo is never smaller than 80 px wide") and whether the guideline
    puts it on a plate ("always place the logo on a white box"), from the sentences about the logo, with provenance.
    A minimum given only in print units (mm, cm, in) is converted at the CSS reference pixel, 96 px per inch
    (CSS_PX_PER_INCH; 1 mm = 3.78 px), rounded up so the minimum holds; the provenance states the conversion. A
    minimum in pixels wins over one in print units."""
    minimum: float | None = None
    plate = False
    provenance: list[dict[str, Any]] = []
    print_only: tuple[str, str, tuple[float, str]] | None = None
    for item in evidence:
        source = str(evidence_id(item))
        for sentence in _sentences(str(item.get("text") or "")):
            if not _LOGO.search(sentence):
                continue
            if minimum is None and _MIN_SIZE.search(sentence):
                pixels = _PIXELS.search(sentence)
                if pixels and LOGO_MIN_WIDTH_RANGE[0] <= float(pixels.group(1)) <= LOGO_MIN_WIDTH_RANGE[1]:
                    minimum = float(pixels.group(1))
                    provenance.append(_entry("logo_min_width_px", minimum, [source], note=sentence[:300]))
                elif print_only is None and (converted := print_minimum_px(sentence)) is not None:
                    print_only = (source, sentence, converted)
            if not plate and _PLATE.search(sentence) and _ALWAYS.search(sentence) and not _NEVER.search(sentence):
                plate = True
                provenance.append(_entry("logo_plate", True, [source], note=sentence[:300]))
    if minimum is None and print_only is not None:
        source, sentence, (minimum, stated) = print_only
        note = (f"the guideline gives the logo's minimum in print units only: {stated} = {minimum:g} px at the CSS "
                f"reference pixel (96 px per inch, rounded up): {sentence}")
        provenance.append(_entry("logo_min_width_px", minimum, [source], note=note[:300]))
    return LogoRules(minimum, plate, provenance)


CSS_PX_PER_INCH = 96.0  # the CSS reference pixel: 1 in = 96 px, so 1 mm = 96 / 25.4 px
_PRINT_UNITS = {"mm": 1 / 25.4, "millimetre": 1 / 25.4, "millimeter": 1 / 25.4, "cm": 10 / 25.4,
                "centimetre": 10 / 25.4, "centimeter": 10 / 25.4, "in": 1.0, "inch": 1.0, "\"": 1.0}
_PRINT = re.compile(r"(\d{1,4}(?:[.,]\d+)?)\s*(mm|millimet(?:re|er)s?|cm|centimet(?:re|er)s?|inch(?:es)?|in\b|\")",
                    re.I)


def print_minimum_px(sentence: str) -> tuple[float, str] | None:
    """The first length in print units in `sentence` ("25 mm", "2.5 cm", "1 in", '0.75"') in CSS pixels (96 per
    inch), rounded up to a whole pixel, with the length as stated; None when there is none or it falls outside the
    canon's bounds."""
    found = _PRINT.search(sentence)
    if found is None:
        return None
    unit = found.group(2).lower()
    unit = "inch" if unit.startswith("inch") else unit.rstrip("s")
    inches = float(found.group(1).replace(",", ".")) * _PRINT_UNITS[unit]
    pixels = float(math.ceil(round(inches * CSS_PX_PER_INCH, 6)))
    if not LOGO_MIN_WIDTH_RANGE[0] <= pixels <= LOGO_MIN_WIDTH_RANGE[1]:
        return None
    return pixels, found.group(0).strip()


def inferred_personality(voice: VoiceFields) -> tuple[PersonalityFields | None, list[dict[str, Any]]]:
    """The personality the voice implies, with its provenance ("inferred", naming the words that moved it); None
    when no word of the voice says anything of it (the engine's neutral style applies)."""
    from sgd.design.personality import from_voice

    personality = from_voice(voice)
    if not personality.reasons:
        return None, []
    fields = personality.as_fields()
    note = "inferred from the voice: " + ", ".join(personality.reasons[:12])
    return fields, [_entry("personality", fields, [], source="inferred", note=note[:300])]


def _entry(field_name: str, value: Any, evidence_ids: Iterable[str], source: str = "deterministic",
           note: str | None = None) -> dict[str, Any]:
    return {"field": field_name, "value": str(value), "evidence_ids": list(dict.fromkeys(evidence_ids)),
            "source": source, "note": note}


def _colour_names(evidence: Sequence[Mapping[str, Any]], palette: Sequence[str]) -> dict[str, str]:
    """Lower-cased colour name -> hex, for the palette colours the documents name."""
    names: dict[str, str] = {}
    for item in evidence:
        for colour in item.get("colors") or []:
            name = (colour.get("name") or "").strip()
            try:
                hex_value = normalize_hex(str(colour.get("hex") or ""))
            except ValueError:
                continue
            if name and hex_value in palette and len(name) >= 3:
                names.setdefault(name.lower(), hex_value)
    return names


def _sentences(text: str) -> list[str]:
    return [sentence.strip() for sentence in _SENTENCE_END.split(text) if 8 <= len(sentence.strip()) <= 400]


def _colours_in(sentence: str, names: Mapping[str, str], palette: Sequence[str]) -> list[str]:
    """The palette colours a sentence names, in the order it names them (each once)."""
    found: list[tuple[int, str]] = []
    lowered = sentence.lower()
    for name, hex_value in names.items():
        match = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", lowered)
        if match:
            found.append((match.start(), hex_value))
    for match in _HEX.finditer(sentence):
        hex_value = normalize_hex(match.group())
        if hex_value in palette:
            found.append((match.start(), hex_value))
    return list(dict.fromkeys(hex_value for _position, hex_value in sorted(found)))


CELL_ROLES: tuple[tuple[re.Pattern[str], ColorRole], ...] = (
    (re.compile(r"\b(?:primary|main|lead|hero|core|signature|brand)\b", re.I), "primary"),
    (re.compile(r"\b(?:secondary|supporting|complementary|tertiary)\b", re.I), "secondary"),
    (re.compile(r"\b(?:accent|highlight|action|cta)\b", re.I), "accent"),
    (re.compile(r"\b(?:background|ground|canvas|base|surface|paper)\b", re.I), "background"),
    (re.compile(r"\b(?:neutral|grey|gray)\b", re.I), "neutral"),
    (re.compile(r"\b(?:text|type|typography|copy|body|ink)\b", re.I), "text"),
)


def role_in_cell(cell: str) -> ColorRole | None:
    """The role a colour table's role cell names ("Primary", "Accent colour", "Body text"), or None."""
    for pattern, role in CELL_ROLES:
        if pattern.search(cell):
            return role
    return None


def _rules_in(sentence: str, named: Sequence[str], usage_cell: bool = False) -> list[UsageRuleFields]:
    """The usage rules a sentence states over the colours it names. `usage_cell`: the sentence is a colour table's
    usage cell, about that one colour ("60%", "Calls to action only"), so a bare percentage is its share."""
    statement = sentence[:300]
    rules: list[UsageRuleFields] = []
    split = _SPLIT.search(sentence)
    if split and len(named) >= 2:
        shares = [int(value) for value in split.groups() if value]
        if 90 <= sum(shares) <= 100:
            rules.extend({"kind": "proportion", "hex": color, "min_pct": float(share), "max_pct": float(share),
                          "statement": statement} for color, share in zip(named, shares, strict=False))
    if len(named) != 1:
        return rules  # a usage rule must be unambiguous about its colour
    color = named[0]
    for pattern, kind in RULE_WORDS:
        if pattern.search(sentence):
            rules.append({"kind": kind, "hex": color, "statement": statement})  # type: ignore[typeddict-item]
            break
    share = _SHARE.search(sentence)
    if share and (usage_cell or _AREA_WORDS.search(sentence)) and 0 < float(share.group(1)) <= 100:
        value = float(share.group(1))
        before = sentence[:share.start()]
        low: float | None = value
        high: float | None = value
        if _AT_MOST.search(before):
            low = None
        elif _AT_LEAST.search(before):
            high = None
        rules.append({"kind": "proportion", "hex": color, "min_pct": low, "max_pct": high, "statement": statement})
    return rules
