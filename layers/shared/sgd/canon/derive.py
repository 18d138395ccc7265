"""Deterministic canon derivation: evidence documents (see sgd.ingest.extract) -> a canon with provenance.

Rules, in short: the palette is the colours the documents declare (order of first appearance); a forbidden colour
never enters it; incidental colours (the document's own text and background colours) are left out; fonts come
from typography statements, then uploaded font files, then fonts embedded in the PDFs; tone, dos and don'ts from
the voice statements; the logo clear space from a percentage rule (default 10 %). Every value names the evidence
that supports it, and conflicts between evidence items are written down, never silently resolved.
"""

from __future__ import annotations

import copy
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sgd.canon.usage import derive_colour_usage, derive_logo_rules, inferred_personality
from sgd.contracts.shapes import BrandCanon, LogoBackground, LogoVersionFields, VoiceFields, default_purpose
from sgd.design.color import normalize_hex
from sgd.errors import ValidationFailed
from sgd.ingest.extract_text import font_names_in, tone_phrase

DEFAULT_SAFE_ZONE_PCT = 10.0
MAX_PALETTE = 24
MAX_FONTS = 6
MAX_PHRASES = 50
CORROBORATE_DELTA_E = 3.0
IMAGE_PALETTE_MIN_SHARE = 0.05
_PERCENT = re.compile(r"(\d{1,2}(?:\.\d+)?)\s*(?:%|percent\b|per cent\b)", re.I)
_ASSET_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# What each missing field asks the user to upload; the route turns `missing` into a 422 with these hints.
MISSING_HINTS = {
    "palette_hex": "a guideline naming at least two brand colours (hex, RGB or CMYK values)",
    "fonts": "a guideline naming the brand typefaces, or the font files",
    "voice.tone": "a guideline describing the tone of voice (e.g. 'Our tone of voice is ...')",
}


@dataclass(frozen=True)
class DerivedCanon:
    canon: BrandCanon
    provenance: list[dict[str, Any]]
    missing: list[str]
    notes: list[str] = field(default_factory=list)


def _provenance(field_name: str, value: Any, evidence_ids: Iterable[str], source: str = "deterministic",
                note: str | None = None) -> dict[str, Any]:
    return {"field": field_name, "value": str(value), "evidence_ids": list(dict.fromkeys(evidence_ids)),
            "source": source, "note": note}


def _evidence_id(item: dict[str, Any]) -> str:
    return str(item.get("evidence_id") or item.get("asset_id") or item.get("source") or "")


# ---------------------------------------------------------------------------------------------------------------
# Colours
# ---------------------------------------------------------------------------------------------------------------


def _colour_votes(evidence: list[dict[str, Any]]) -> tuple[dict[str, list[tuple[str, str]]], bool]:
    """hex -> [(role, evidence_id)] in order of first appearance, and whether any text specification exists."""
    votes: dict[str, list[tuple[str, str]]] = {}
    has_text_specs = any(color.get("source") == "text" and color.get("role") == "declared"
                         for item in evidence for color in item.get("colors", []))
    for item in evidence:
        swatch_hexes = {swatch["hex"] for swatch in item.get("swatches", [])}
        for color in item.get("colors", []):
            role = color.get("role")
            if role == "incidental":
                # An unlabelled swatch stands in for a specification only when no document specifies colours.
                if has_text_specs or color.get("source") != "swatch" or color["hex"] not in swatch_hexes:
                    continue
                role = "declared"
            votes.setdefault(normalize_hex(color["hex"]), []).append((role, _evidence_id(item)))
    return votes, has_text_specs


def _corroborating(evidence: list[dict[str, Any]], hex_value: str) -> list[str]:
    """Evidence whose drawn swatches or image palette show this colour."""
    from sgd.design.colorimetry import ciede2000, hex_to_lab

    target = hex_to_lab(hex_value)
    found = []
    for item in evidence:
        shown = [swatch["hex"] for swatch in item.get("swatches", [])]
        shown += [entry["hex"] for entry in item.get("palette", []) if entry.get("share", 0) >= 0.01]
        if any(float(ciede2000(hex_to_lab(other), target)) < CORROBORATE_DELTA_E for other in shown):
            found.append(_evidence_id(item))
    return found


def _derive_colours(evidence: list[dict[str, Any]], provenance: list[dict[str, Any]],
                    notes: list[str]) -> tuple[list[str], list[str]]:
    votes, has_text_specs = _colour_votes(evidence)
    palette: list[str] = []
    forbidden: list[str] = []
    for hex_value, entries in votes.items():
        declared = [evidence_id for role, evidence_id in entries if role == "declared"]
        banned = [evidence_id for role, evidence_id in entries if role == "forbidden"]
        note = None
        if declared and banned:
            declared_ids, banned_ids = set(declared), set(banned)
            if declared_ids & banned_ids or len(declared_ids) >= len(banned_ids):
                # Within one document a declared colour that is also 'never used' somewhere is a usage rule
                # ('never use Solar for body text'), not a ban; across documents the majority decides.
                note = f"also forbidden by {sorted(banned_ids)}; declared by {sorted(declared_ids)} (kept)"
                banned = []
            else:
                note = f"also declared by {sorted(declared_ids)}; forbidden by {sorted(banned_ids)} (majority)"
                declared = []
            notes.append(f"conflicting roles for {hex_value}: {note}")
        if declared:
            support = declared + [eid for eid in _corroborating(evidence, hex_value) if eid not in declared]
            if len(palette) < MAX_PALETTE:
                palette.append(hex_value)
                origin = None if has_text_specs else "no colour specification in the text: taken from labelled swatches"
                provenance.append(_provenance("palette_hex", hex_value, support, note=note or origin))
        elif banned and len(forbidden) < MAX_PALETTE:
            forbidden.append(hex_value)
            provenance.append(_provenance("forbidden_hex", hex_value, banned, note=note))
    if len(palette) < 2:
        palette = _image_palette_fallback(evidence, palette, forbidden, provenance, notes)
    return palette, forbidden


def _image_palette_fallback(evidence: list[dict[str, Any]], palette: list[str], forbidden: list[str],
                            provenance: list[dict[str, Any]], notes: list[str]) -> list[str]:
    """No document declares two colours: use the dominant colours of logos, then other images."""
    def rank(item: dict[str, Any]) -> tuple[bool, float]:
        return item.get("kind") != "logo", -float((item.get("logo") or {}).get("transparent_share", 0))

    ranked = sorted((item for item in evidence if item.get("palette")), key=rank)
    added = False
    for item in ranked:
        for entry in item["palette"]:
            hex_value = normalize_hex(entry["hex"])
            if entry.get("share", 0) < IMAGE_PALETTE_MIN_SHARE or hex_value in palette or hex_value in forbidden:
                continue
            if len(palette) >= MAX_PALETTE:
                break
            palette.append(hex_value)
            added = True
            provenance.append(_provenance("palette_hex", hex_value, [_evidence_id(item)],
                                          note=f"no declared colours: dominant colour of {item.get('kind')} "
                                               f"{item.get('source')!r} ({entry.get('share', 0):.0%} of its pixels)"))
    if added:
        notes.append("the palette comes from image colours: no document declares two brand colours")
    return palette


# ---------------------------------------------------------------------------------------------------------------
# Fonts, voice, clear space, logo
# ---------------------------------------------------------------------------------------------------------------


def _derive_fonts(evidence: list[dict[str, Any]], provenance: list[dict[str, Any]], notes: list[str]) -> list[str]:
    named: dict[str, tuple[str, list[str], str]] = {}  # key -> (family, evidence ids, how)

    def add(family: str, evidence_id: str, how: str) -> None:
        key = re.sub(r"\s+", "", family.lower())
        if key in named:
            named[key][1].append(evidence_id)
        else:
            named[key] = (family, [evidence_id], how)

    for item in evidence:
        for statement in item.get("statements", {}).get("typography", []):
            for family in font_names_in(statement):
                add(family, _evidence_id(item), "named in a typography statement")
    for item in evidence:
        if item.get("kind") == "font" and item.get("font"):
            add(item["font"]["family"], _evidence_id(item), "uploaded font file")
    embedded_only = []
    for item in evidence:
        if item.get("kind") != "pdf":
            continue
        for family in item.get("fonts", []):
            key = re.sub(r"\s+", "", family.lower())
            if key in named:
                named[key][1].append(_evidence_id(item))  # the PDF embeds a font it names: corroboration
            else:
                embedded_only.append((family, _evidence_id(item)))
    if not named:
        for family, evidence_id in embedded_only:
            add(family, evidence_id, "embedded in the guideline PDF (no typography statement names a font)")
    elif embedded_only:
        notes.append("fonts embedded in a PDF but not named as brand fonts, left out: "
                     + ", ".join(dict.fromkeys(family for family, _ in embedded_only)))
    fonts = []
    for family, evidence_ids, how in list(named.values())[:MAX_FONTS]:
        fonts.append(family)
        provenance.append(_provenance("fonts", family, evidence_ids, note=how))
    if len(named) > MAX_FONTS:
        notes.append(f"more than {MAX_FONTS} fonts found; kept the first {MAX_FONTS}")
    return fonts


def _majority(candidates: list[tuple[str, str]]) -> tuple[str, list[str], str | None] | None:
    """[(value, evidence_id)] -> (the most supported value, first on a tie; its evidence; a conflict note)."""
    if not candidates:
        return None
    counts = Counter(value.lower() for value, _ in candidates)
    order = list(dict.fromkeys(value.lower() for value, _ in candidates))
    winner = max(order, key=lambda value: (counts[value], -order.index(value)))
    value = next(original for original, _ in candidates if original.lower() == winner)
    support = [evidence_id for original, evidence_id in candidates if original.lower() == winner]
    others = [original for original in dict.fromkeys(original for original, _ in candidates)
              if original.lower() != winner]
    note = f"other evidence says {others}; kept the {'majority' if counts[winner] > 1 else 'first'}" if others else None
    return value, support, note


def _derive_voice(evidence: list[dict[str, Any]], provenance: list[dict[str, Any]],
                  notes: list[str]) -> VoiceFields:
    tones = [(phrase, _evidence_id(item)) for item in evidence
             for statement in item.get("statements", {}).get("tone", [])
             if (phrase := tone_phrase(statement))]
    voice: VoiceFields = {}
    chosen = _majority(tones)
    if chosen:
        tone, support, note = chosen
        voice["tone"] = tone
        provenance.append(_provenance("voice.tone", tone, support, note=note))
        if note:
            notes.append(f"voice.tone: {note}")
    for key in ("dos", "donts"):
        phrases: dict[str, tuple[str, list[str]]] = {}
        for item in evidence:
            for phrase in item.get("statements", {}).get(key, []):
                phrase = phrase.strip()[:300]
                if phrase:
                    phrases.setdefault(phrase.lower(), (phrase, []))[1].append(_evidence_id(item))
        voice[key] = [phrase for phrase, _ in list(phrases.values())[:MAX_PHRASES]]
        for phrase, support in list(phrases.values())[:MAX_PHRASES]:
            provenance.append(_provenance(f"voice.{key}", phrase, support))
    return voice


def _derive_safe_zone(evidence: list[dict[str, Any]], provenance: list[dict[str, Any]], notes: list[str]) -> float:
    found: list[tuple[str, str]] = []
    without_percentage: list[str] = []
    for item in evidence:
        for statement in item.get("statements", {}).get("clear_space", []):
            match = _PERCENT.search(statement)
            if match and 0 <= float(match[1]) <= 40:
                found.append((match[1], _evidence_id(item)))
            else:
                without_percentage.append(statement)
    chosen = _majority(found)
    if chosen:
        value, support, note = chosen
        provenance.append(_provenance("logo_safe_zone_pct", float(value), support, note=note))
        if note:
            notes.append(f"logo_safe_zone_pct: {note}")
        return float(value)
    note = "default: the evidence states no clear-space percentage"
    measured = [s for s in without_percentage if re.search(r"\b(?:height|width|equal to|size of)\b", s, re.I)]
    if measured:
        note += f"; it gives a clear space relative to the logo instead: {measured[0]!r}"
    provenance.append(_provenance("logo_safe_zone_pct", DEFAULT_SAFE_ZONE_PCT, [], note=note))
    return DEFAULT_SAFE_ZONE_PCT


def _is_logo(item: dict[str, Any]) -> bool:
    """An image uploaded as a logo, or one admission recognised as a logo that was not uploaded as something else."""
    kind = item.get("kind")
    purpose = item.get("purpose") or default_purpose(kind)
    return purpose == "logo" and kind in ("image", "logo") and bool(_ASSET_ID.match(str(item.get("asset_id"))))


def _derive_logo(evidence: list[dict[str, Any]], provenance: list[dict[str, Any]]) -> str | None:
    def score(item: dict[str, Any]) -> tuple[float, int]:
        logo = item.get("logo") or {}
        return float(logo.get("transparent_share", 0)), int(logo.get("width", 0)) * int(logo.get("height", 0))

    candidates = [item for item in evidence if _is_logo(item)]
    note = None
    if not candidates:
        candidates = [item for item in evidence if item.get("kind") == "image" and (item.get("logo") or {}).get(
            "transparent_share", 0) >= 0.05 and _ASSET_ID.match(str(item.get("asset_id")))]
        note = "no file was uploaded as a logo: the image with the most transparency"
    if not candidates:
        return None
    best = max(candidates, key=score)  # max keeps the first of equals
    provenance.append(_provenance("logo_asset_id", best["asset_id"], [_evidence_id(best)], note=note))
    return str(best["asset_id"])


LOGO_CONTRAST = 3.0  # WCAG 1.4.11 non-text contrast: the share of a logo's ink reaching it on white and on black
MAX_LOGO_VERSIONS = 6


def _derive_logo_versions(evidence: list[dict[str, Any]], provenance: list[dict[str, Any]]) -> list[LogoVersionFields]:
    """When more than one logo was uploaded (a dark one for light backgrounds, a light or reversed one for dark
    backgrounds), each version and the backgrounds it is made for, measured on its colours: the share of its ink
    (its palette, weighted by area) that reaches 3:1 on white against the share that does on black. An opaque logo
    (no transparency) is made for backgrounds like its own, its dominant colour. One logo: no versions (render
    derives a one-colour knockout from it where it needs one)."""
    logos = list({str(item["asset_id"]): item for item in evidence if _is_logo(item)}.values())
    if len(logos) < 2:
        return []
    versions: list[LogoVersionFields] = []
    for item in logos[:MAX_LOGO_VERSIONS]:
        use_on, note = _logo_background(item)
        versions.append({"asset_id": str(item["asset_id"]), "use_on": use_on})
        provenance.append(_provenance("logo_versions", f"{item['asset_id']}: {use_on}", [_evidence_id(item)],
                                      note=f"{item.get('source')!r}: {note}"))
    return versions


def _logo_background(item: dict[str, Any]) -> tuple[LogoBackground, str]:
    from sgd.design.color import contrast_ratio, relative_luminance

    palette = [entry for entry in item.get("palette") or [] if entry.get("hex")]
    if not palette:
        return "any", "its colours are unknown: usable on any background"
    if not item.get("logo"):  # opaque: its own background is its dominant colour
        ground = str(palette[0]["hex"])
        use_on: LogoBackground = "light" if relative_luminance(ground) > 0.18 else "dark"
        return use_on, f"an opaque logo on {ground}: made for {use_on} backgrounds"
    total = sum(float(entry.get("share", 0)) for entry in palette) or 1.0
    on_white = sum(float(entry.get("share", 0)) for entry in palette
                   if contrast_ratio(str(entry["hex"]), "#FFFFFF") >= LOGO_CONTRAST) / total
    on_black = sum(float(entry.get("share", 0)) for entry in palette
                   if contrast_ratio(str(entry["hex"]), "#000000") >= LOGO_CONTRAST) / total
    use_on = "light" if on_white > on_black else "dark" if on_black > on_white else "any"
    return use_on, (f"{on_white:.0%} of its ink reaches 3:1 on white, {on_black:.0%} on black: made for {use_on} "
                    "backgrounds")


# ---------------------------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------------------------


def _missing(canon: BrandCanon) -> list[str]:
    missing = []
    if len(canon.get("palette_hex", [])) < 2:
        missing.append("palette_hex")
    if not canon.get("fonts"):
        missing.append("fonts")
    if not canon.get("voice", {}).get("tone"):
        missing.append("voice.tone")
    return missing


def derive_canon(evidence: list[dict[str, Any]]) -> DerivedCanon:
    """Evidence documents (each with "evidence_id" and "asset_id") -> the canon, its provenance, and what is
    missing for a valid canon (guardrails/canon.json)."""
    provenance: list[dict[str, Any]] = []
    notes: list[str] = []
    palette, forbidden = _derive_colours(evidence, provenance, notes)
    fonts = _derive_fonts(evidence, provenance, notes)
    voice = _derive_voice(evidence, provenance, notes)
    canon: BrandCanon = {"palette_hex": palette, "forbidden_hex": forbidden, "fonts": fonts, "voice": voice,
                             "logo_safe_zone_pct": _derive_safe_zone(evidence, provenance, notes),
                             "logo_asset_id": _derive_logo(evidence, provenance)}
    versions = _derive_logo_versions(evidence, provenance)
    if versions:
        canon["logo_versions"] = versions
    logo_rules = derive_logo_rules(evidence, _evidence_id)
    if logo_rules.min_width_px is not None:
        canon["logo_min_width_px"] = logo_rules.min_width_px
    if logo_rules.plate:
        canon["logo_plate"] = True
    provenance.extend(logo_rules.provenance)
    if palette:
        usage = derive_colour_usage(evidence, palette, _evidence_id)
        canon["color_roles"] = usage.roles
        canon["usage_rules"] = usage.rules
        provenance.extend(usage.provenance)
    personality, personality_provenance = inferred_personality(voice)
    if personality is not None:
        canon["personality"] = personality
        provenance.extend(personality_provenance)
    return DerivedCanon(canon, provenance, _missing(canon), notes)


def _valid_hexes(values: Any) -> list[str]:
    hexes = []
    for value in values if isinstance(values, list) else []:
        if isinstance(value, str) and re.fullmatch(r"#?[0-9A-Fa-f]{6}", value.strip()):  # the canon's own form
            hexes.append(normalize_hex(value))
    return list(dict.fromkeys(hexes))


def merge_model_canon(derived: DerivedCanon, model_canon: dict[str, Any], *, model: str) -> DerivedCanon:
    """Combine with a model's canon: explicit deterministic colours, fonts and safe zone win; the model fills the
    gaps (and tone/dos/don'ts when the documents state none). Every disagreement is written into the provenance,
    naming both values."""
    canon: BrandCanon = copy.deepcopy(derived.canon)
    provenance = list(derived.provenance)
    notes = list(derived.notes)

    def disagreement(field_name: str, ours: Any, theirs: Any, kept: str) -> None:
        note = f"model {model} gave {theirs!r}; deterministic extraction gave {ours!r}; kept the {kept}"
        provenance.append(_provenance(field_name, ours if kept == "deterministic value" else theirs, [],
                                      "deterministic" if kept == "deterministic value" else "model", note))
        notes.append(f"{field_name}: {note}")

    def from_model(field_name: str, value: Any) -> None:
        note = f"filled by model {model}: the documents give none"
        provenance.append(_provenance(field_name, value, [], "model", note))

    given_voice = model_canon.get("voice")
    model_voice: dict[str, Any] = given_voice if isinstance(given_voice, dict) else {}
    for key in ("palette_hex", "forbidden_hex"):
        ours, theirs = canon.get(key, []), _valid_hexes(model_canon.get(key))
        if key == "forbidden_hex":
            theirs = [value for value in theirs if value not in canon.get("palette_hex", [])]
        explicit = len(ours) >= (2 if key == "palette_hex" else 1)
        if explicit:
            if theirs and set(theirs) != set(ours):
                disagreement(key, ours, theirs, "deterministic value")
        elif theirs:
            merged = list(dict.fromkeys(ours + [value for value in theirs if value not in canon.get(
                "forbidden_hex", [])]))[:MAX_PALETTE]
            canon[key] = merged
            for value in merged[len(ours):]:
                from_model(key, value)
    ours_fonts = canon.get("fonts", [])
    theirs_fonts = [str(font)[:64] for font in model_canon.get("fonts", []) if str(font).strip()] if isinstance(
        model_canon.get("fonts"), list) else []
    if ours_fonts:
        if theirs_fonts and [f.lower() for f in theirs_fonts] != [f.lower() for f in ours_fonts]:
            disagreement("fonts", ours_fonts, theirs_fonts, "deterministic value")
    elif theirs_fonts:
        canon["fonts"] = list(dict.fromkeys(theirs_fonts))[:MAX_FONTS]
        for font in canon["fonts"]:
            from_model("fonts", font)
    voice: VoiceFields = canon.setdefault("voice", {})
    theirs_tone = str(model_voice.get("tone") or "").strip()[:200]
    ours_tone = voice.get("tone")
    if ours_tone:
        if theirs_tone and theirs_tone.lower() != ours_tone.lower():
            disagreement("voice.tone", ours_tone, theirs_tone, "deterministic value")
    elif theirs_tone:
        voice["tone"] = theirs_tone
        from_model("voice.tone", theirs_tone)
    for key in ("dos", "donts"):
        theirs_list = [str(p).strip()[:300] for p in model_voice.get(key, []) if str(p).strip()] if isinstance(
            model_voice.get(key), list) else []
        ours_list = voice.get(key)
        if ours_list:
            if theirs_list and {p.lower() for p in theirs_list} != {p.lower() for p in ours_list}:
                disagreement(f"voice.{key}", ours_list, theirs_list, "deterministic value")
        elif theirs_list:
            voice[key] = theirs_list[:MAX_PHRASES]
            for phrase in theirs_list[:MAX_PHRASES]:
                from_model(f"voice.{key}", phrase)
    stated_zone = any(item["field"] == "logo_safe_zone_pct" and not str(item.get("note") or "").startswith("default")
                      for item in derived.provenance)
    theirs_zone = model_canon.get("logo_safe_zone_pct")
    ours_zone = canon.get("logo_safe_zone_pct", DEFAULT_SAFE_ZONE_PCT)  # derive_canon always sets it
    if isinstance(theirs_zone, int | float) and not isinstance(theirs_zone, bool) and 0 <= theirs_zone <= 40:
        if stated_zone:
            if float(theirs_zone) != float(ours_zone):
                disagreement("logo_safe_zone_pct", ours_zone, theirs_zone, "deterministic value")
        else:
            if float(theirs_zone) != float(ours_zone):
                disagreement("logo_safe_zone_pct", ours_zone, theirs_zone, "model value")
            canon["logo_safe_zone_pct"] = float(theirs_zone)
    theirs_logo = model_canon.get("logo_asset_id")
    if not canon.get("logo_asset_id") and isinstance(theirs_logo, str) and _ASSET_ID.match(theirs_logo):
        canon["logo_asset_id"] = theirs_logo
        from_model("logo_asset_id", theirs_logo)
    return replace(derived, canon=canon, provenance=provenance, missing=_missing(canon), notes=notes)


def canon_extractor(evidence: list[dict[str, Any]]) -> BrandCanon:
    """The local engine's canon hook (sgd.model_gateway.local.CanonExtractor). Raises a 422 naming what to upload when
    the evidence cannot support a valid canon."""
    derived = derive_canon(evidence)
    if derived.missing:
        raise ValidationFailed(
            "the evidence does not support a complete brand canon: upload "
            + "; ".join(MISSING_HINTS[name] for name in derived.missing),
            details={"missing": derived.missing})
    return derived.canon
