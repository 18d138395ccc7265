"""Where the brand's logo is in a design, and whether it is there at all.

An SGD render's layout says where it placed the logo. In an external design the logo is searched for: first as
ingested (the colour fit of sgd.critique.logo, exact for the logo over a flat background), then by its shape
(sgd.critique.logo_shape: knocked out, on a panel, a graphic or a photo, recoloured). When the canon has a logo and
the design shows none that matches, that is a finding ("logo missing or unrecognisable", severity from the policy's
logo_required); a logo found only by its shape in colours the guideline does not give it is one too (recoloured).
Never `ok` for a logo that was not found.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from sgd.contracts.shapes import BrandCanon
from sgd.critique.logo import PreparedLogo, find_logo
from sgd.critique.logo_shape import ACCEPT, colour_verdict, find_by_shape, shape_score
from sgd.critique.logo_snap import snap_box
from sgd.critique.policy import CritiquePolicy
from sgd.critique.regions import Box, clip_box

SHAPE_MIN_WIDTH_PX = 24  # below this a logo's shape is a blob: nothing to recognise it by
# Found by its shape alone (no colour to confirm it), a logo needs more pixels: below this width a letter, an icon or
# a ring of a brand graphic has as many edges in the right directions as a shrunken logo.
SHAPE_ONLY_MIN_WIDTH_PX = 40
# A colour match scoring below this is confirmed by the logo's shape at the same place (a ring of a brand graphic in
# the logo's colours can score 0.6-0.7 on colour alone); else the shape search decides.
CONFIRM_BELOW = 0.85


def locate_logo(rgb: np.ndarray, canon: BrandCanon, policy: CritiquePolicy, layout: Mapping[str, Any] | None,
                logo: PreparedLogo | None, lossy: bool = False, versions: Mapping[str, PreparedLogo] | None = None
                ) -> tuple[Box | None, dict[str, Any], list[dict[str, Any]], list[str]]:
    """(logo box or None, checks["logo_safe_zone"] so far, findings, repair suggestions). `lossy`: JPEG or WebP.
    `versions`: the canon's logo versions (asset id -> prepared; light, dark): each is looked for as well, and a logo
    found in the colours of any version is in its own colours (a one-colour version is judged as that version, not
    as a recoloured primary); the check names the version found (`logo_version`)."""
    height, width = rgb.shape[:2]
    named: dict[str, tuple[str | None, PreparedLogo]] = {logo.digest: (None, logo)} if logo is not None else {}
    for asset_id, item in (versions or {}).items():
        named.setdefault(item.digest, (asset_id, item))
    names = [name for name, _ in named.values()]
    candidates = [item for _, item in named.values()]
    if layout is not None:
        value = layout.get("logo_box")
        box = clip_box([float(v) for v in value], width, height) if isinstance(value, list | tuple) and \
            len(value) == 4 else None
        check = {"found": box is not None, "logo_source": "layout"}
        if box is None and candidates:
            return None, check, *_missing(width, height, policy.logo_required.get("renders", "off"))
        return box, check, [], []
    if not candidates:
        return None, {"found": False, "logo_source": "none"}, [], []
    shorter = min(width, height)
    # Below a couple of dozen pixels (or the guideline's minimum width) a logo is a blob: a letter or a dot of the
    # right colour would match it.
    minimum = max(policy.logo_min_width_pct / 100 * shorter, min(SHAPE_MIN_WIDTH_PX, 0.1 * shorter),
                  float(canon.get("logo_min_width_px") or 0) * 0.9)
    best: tuple[float, int, Any] | None = None  # (score, version index, match)
    for index, candidate in enumerate(candidates):  # the primary first: most designs show it, then no other fit
        match = find_logo(rgb, candidate, policy)
        if match is not None and match.box[2] >= minimum and (
                match.score >= CONFIRM_BELOW or shape_score(rgb, candidate, match.box, lossy) >= ACCEPT) and \
                (best is None or match.score > best[0]):
            best = (match.score, index, match)
            if match.score >= CONFIRM_BELOW:
                break
    if best is not None:
        _, index, match = best
        check = {"found": True, "logo_source": "matched", "match": "colour", "match_score": match.score,
                 "match_scale": match.scale}
        return tuple(match.box), check | _version(names[index]), [], []  # type: ignore
    shape, found = None, candidates[0]
    for candidate in candidates:
        maximum = min(policy.logo_max_width_pct / 100 * shorter, width, height / candidate.aspect)
        lowest = max(minimum, min(SHAPE_ONLY_MIN_WIDTH_PX, 0.1 * shorter))
        here = find_by_shape(rgb, candidate, lowest, maximum, lossy) if maximum >= lowest else None
        if here is not None and (shape is None or here.score > shape.score):
            shape, found = here, candidate
    if shape is None:
        return None, {"found": False, "logo_source": "matched"}, \
            *_missing(width, height, policy.logo_required.get("external", "off"))
    box = snap_box(np.ascontiguousarray(rgb[..., :3]), found, (shape.x, shape.y, shape.width, shape.height))
    allowed = list(canon.get("palette_hex") or [])
    verdict = colour_verdict(rgb, found, box, allowed, 2 * policy.logo_colour_delta_e)
    index = candidates.index(found)
    if verdict.kind == "recoloured":  # in the colours of another version: that version, as supplied
        for other, candidate in enumerate(candidates):
            if candidate is not found and (kept := colour_verdict(rgb, candidate, box, allowed,
                                                                  2 * policy.logo_colour_delta_e)).kind != "recoloured":
                verdict, index = kept, other
                break
    check = {"found": True, "logo_source": "matched", "match": "shape", "match_score": round(shape.score, 4),
             "match_scale": round(box[2] / found.width, 4), "colours": verdict.kind} | _version(names[index])
    findings, suggestions = [], []
    if verdict.kind == "recoloured" and policy.logo_recoloured != "off":
        colour = f" (mostly {verdict.colour})" if verdict.colour else ""
        findings.append({"kind": "logo_safe_zone", "severity": policy.logo_recoloured, "box": list(box),
                         "message": f"The logo appears recoloured{colour}: its shape matches the brand's logo but "
                                    "its colours are neither the ingested ones nor a one-colour version in a canon "
                                    "colour. Use the logo file as supplied, or its approved knockout."})
        suggestions.append("Use the brand's logo in its own colours (or its one-colour knockout in a canon colour)")
    return box, check, findings, suggestions


def _version(name: str | None) -> dict[str, Any]:
    return {"logo_version": name} if name is not None else {}


def _missing(width: int, height: int, severity: str) -> tuple[list[dict[str, Any]], list[str]]:
    if severity == "off":
        return [], []
    return ([{"kind": "logo_safe_zone", "severity": severity, "box": [0, 0, width, height],
              "message": "Logo missing or unrecognisable: the canon has a logo, and nothing in the design matches "
                         "its shape at any position or size the guideline allows. Place the brand's logo, "
                         "unaltered, with its clear space."}],
            ["Place the brand's logo (as supplied, or its one-colour knockout) with its clear space"])
