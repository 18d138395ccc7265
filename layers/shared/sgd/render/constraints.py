"""Request constraints against the brand canon: a request may narrow the canon, never leave it silently.

Pure: canon and constraints in, the resolved palette/fonts/clear space plus every conflict out. The caller
turns conflicts into a 422 canon_conflict unless the request set override (then the notes record it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from sgd.contracts.shapes import BrandCanon
from sgd.design.color import normalize_hex

DEFAULT_LOGO_SAFE_ZONE_PCT = 10.0
Source = Literal["canon", "request", "neutral"]


@dataclass(frozen=True, slots=True)
class Conflict:
    field: str
    value: str | float
    reason: str

    def as_details(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class ResolvedConstraints:
    palette: tuple[str, ...]  # '#RRGGBB' upper case, dominant first: what the design may use
    fonts: tuple[str, ...]
    logo_safe_zone_pct: float
    source: Source
    conflicts: tuple[Conflict, ...] = ()
    overridden: bool = False  # conflicts exist and the request's override lifted them (audited in notes)
    notes: tuple[str, ...] = field(default=())

    @property
    def blocking(self) -> bool:
        """Conflicts that make the request a 422 canon_conflict."""
        return bool(self.conflicts) and not self.overridden


def font_key(name: str) -> str:
    """Fonts compare case- and whitespace-insensitively: 'open  sans' is 'Open Sans'."""
    return " ".join(name.split()).casefold()


def normalise_constraints(constraints: dict[str, Any] | None) -> dict[str, Any]:
    """Hex upper case, duplicate colours and fonts dropped (first kept), font whitespace collapsed."""
    constraints = constraints or {}
    fonts: dict[str, str] = {}
    for font in constraints.get("fonts") or []:
        fonts.setdefault(font_key(font), " ".join(font.split()))
    zone = constraints.get("logo_safe_zone_pct")
    return {
        "palette_hex": list(dict.fromkeys(normalize_hex(c) for c in constraints.get("palette_hex") or [])),
        "fonts": list(fonts.values()),
        "logo_safe_zone_pct": None if zone is None else float(zone),
        "override": bool(constraints.get("override", False)),
    }


def resolve_constraints(canon: BrandCanon | None, constraints: dict[str, Any] | None) -> ResolvedConstraints:
    """The palette, fonts and logo clear space a render uses; conflicts listed, never silently dropped."""
    from sgd.design.planner import NEUTRAL_PALETTE, palette_in_use

    wanted = normalise_constraints(constraints)
    request = {"constraints": wanted}
    if canon is None:
        return _without_canon(wanted, request, NEUTRAL_PALETTE, palette_in_use)

    forbidden = {normalize_hex(c) for c in canon.get("forbidden_hex") or []}
    canon_palette = [normalize_hex(c) for c in canon.get("palette_hex") or []]
    canon_fonts = {font_key(f): f for f in canon.get("fonts") or []}
    canon_zone = float(canon.get("logo_safe_zone_pct", DEFAULT_LOGO_SAFE_ZONE_PCT))

    conflicts: list[Conflict] = []
    for color in wanted["palette_hex"]:
        if color in forbidden:
            conflicts.append(Conflict("constraints.palette_hex", color, "forbidden by the canon"))
        elif color not in canon_palette:
            conflicts.append(Conflict("constraints.palette_hex", color, "not in the canon palette"))
    for font in wanted["fonts"]:
        if font_key(font) not in canon_fonts:
            conflicts.append(Conflict("constraints.fonts", font, "not a canon font"))
    zone = wanted["logo_safe_zone_pct"]
    if zone is not None and zone < canon_zone:
        conflicts.append(Conflict("constraints.logo_safe_zone_pct", zone,
                                  f"below the canon's logo clear space of {canon_zone:g}%"))

    notes: list[str] = []
    if conflicts and wanted["override"]:
        listed = "; ".join(f"{c.value} ({c.reason})" for c in conflicts)
        notes.append(f"override: the request's constraints were used despite conflicts with the canon: {listed}")
        dropped = [c.value for c in conflicts if c.reason == "forbidden by the canon"]
        if dropped:
            notes.append(f"forbidden colours are never used, even under override: {', '.join(map(str, dropped))}")
    palette = palette_in_use(canon, request)
    wanted_fonts: list[str] = wanted["fonts"]
    fonts = [canon_fonts.get(font_key(font), font) for font in wanted_fonts] or list(canon.get("fonts") or [])
    return ResolvedConstraints(
        palette=tuple(palette), fonts=tuple(fonts),
        logo_safe_zone_pct=canon_zone if zone is None else zone, source="canon",
        conflicts=tuple(conflicts), overridden=bool(conflicts) and wanted["override"], notes=tuple(notes),
    )


def _without_canon(wanted: dict[str, Any], request: dict[str, Any], neutral: tuple[str, ...],
                   palette_in_use: Any) -> ResolvedConstraints:
    zone = wanted["logo_safe_zone_pct"]
    given = bool(wanted["palette_hex"] or wanted["fonts"] or zone is not None)
    notes = []
    if wanted["palette_hex"]:
        notes.append("no canon yet: the request's constraints were used")
    elif given:
        notes.append("no canon yet: the request's constraints were used, with the neutral default palette "
                     f"({', '.join(neutral)})")
    else:
        notes.append("no canon and no constraints: rendered with the neutral default palette "
                     f"({', '.join(neutral)}) and the default fonts")
    return ResolvedConstraints(
        palette=tuple(palette_in_use(None, request)), fonts=tuple(wanted["fonts"]),
        logo_safe_zone_pct=DEFAULT_LOGO_SAFE_ZONE_PCT if zone is None else zone,
        source="request" if wanted["palette_hex"] else "neutral", notes=tuple(notes),
    )
