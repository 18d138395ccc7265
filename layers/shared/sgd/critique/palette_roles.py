"""Colour roles: the canon's usage rules (guardrails/canon.json usage_rules) checked on the pixels.

A canon colour can be on the palette and still be used against its rule. Each breach is a `palette` finding that
names the rule:

- `never_background`: the colour is the design's background (it covers BACKGROUND_SHARE of the canvas, or is the
  most common colour along the canvas's edge);
- `never_text`: a text line's ink is the colour;
- `no_text_on`: a text line's background is the colour;
- `cta_only`: the colour covers more than a call to action does (CTA_MAX_SHARE of the canvas);
- `proportion`: the colour's share of the canvas is outside min_pct..max_pct.

A colour "is" a rule's colour when its cluster (or the measured text colour) lies within ROLE_DELTA_E CIEDE2000 of
it. Text lines come from the contrast check (a layout's text boxes or the lines detected in the pixels).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sgd.contracts.shapes import BrandCanon
from sgd.critique.palette import ColourAnalysis
from sgd.critique.regions import Box
from sgd.design.colorimetry import ciede2000, srgb_to_lab

ROLE_DELTA_E = 6.0
BACKGROUND_SHARE = 0.4
EDGE_BAND = 0.02  # of the shorter side: the canvas's edge band, whose most common colour is its background
CTA_MAX_SHARE = 0.06


def _lab(hex_colour: str) -> np.ndarray:
    value = hex_colour.lstrip("#")
    return srgb_to_lab(np.array([int(value[i:i + 2], 16) for i in (0, 2, 4)], dtype=np.float64))


def _near(first: str, second: str) -> bool:
    return float(ciede2000(_lab(first), _lab(second))) <= ROLE_DELTA_E


def check_colour_roles(analysis: ColourAnalysis, canon: BrandCanon, text_lines: Sequence[Any]
                       ) -> tuple[list[dict[str, Any]], list[str]]:
    """Findings and repair suggestions for the canon's usage rules. `text_lines`: objects with `box`, `color` and
    `background` (hex) attributes (the contrast check's TextRegion)."""
    rules = [rule for rule in canon.get("usage_rules") or [] if isinstance(rule, dict) and rule.get("hex")]
    if not rules or not analysis.clusters:
        return [], []
    width, height = analysis.width, analysis.height
    canvas: Box = (0, 0, width, height)
    findings: list[dict[str, Any]] = []
    suggestions: list[str] = []

    def share_and_box(hex_colour: str) -> tuple[float, Box]:
        members = [cluster for cluster in analysis.clusters if _near(cluster.hex, hex_colour)]
        share = sum(cluster.share for cluster in members)
        boxes = [cluster.box for cluster in members if cluster.box is not None]
        if not boxes:
            return share, canvas
        x0, y0 = min(box[0] for box in boxes), min(box[1] for box in boxes)
        x1, y1 = max(box[0] + box[2] for box in boxes), max(box[1] + box[3] for box in boxes)
        return share, (x0, y0, x1 - x0, y1 - y0)

    for rule in rules:
        kind, colour = str(rule.get("kind")), str(rule.get("hex")).upper()
        statement = f" ({rule.get('statement')})" if rule.get("statement") else ""
        if kind == "never_background":
            share, box = share_and_box(colour)
            if share >= BACKGROUND_SHARE or _near(_edge_colour(analysis), colour):
                findings.append(_finding(f"{colour} is the design's background, and the canon's rule never_background"
                                         f"{statement} forbids that: use another canon colour for the background.",
                                         canvas))
                suggestions.append(f"Do not use {colour} as the background (rule never_background)")
        elif kind in ("never_text", "no_text_on"):
            for line in text_lines:
                used = line.color if kind == "never_text" else line.background
                if isinstance(used, str) and _near(used, colour):
                    where = "text in" if kind == "never_text" else "text on"
                    findings.append(_finding(f"This line sets {where} {colour}, and the canon's rule {kind}"
                                             f"{statement} forbids that: recolour the "
                                             f"{'text' if kind == 'never_text' else 'panel or move the text'}.",
                                             tuple(line.box)))  # type: ignore[arg-type]
                    suggestions.append(f"No {where} {colour} (rule {kind})")
        elif kind == "cta_only":
            share, box = share_and_box(colour)
            if share > CTA_MAX_SHARE:
                findings.append(_finding(f"{colour} covers {share:.1%} of the canvas, more than a call to action "
                                         f"does; the canon's rule cta_only{statement} keeps it for calls to action.",
                                         box))
                suggestions.append(f"Keep {colour} for the call to action (rule cta_only)")
        elif kind == "proportion":
            share, box = share_and_box(colour)
            low = rule.get("min_pct")
            high = rule.get("max_pct")
            if (low is not None and share * 100 < float(low)) or (high is not None and share * 100 > float(high)):
                bounds = f"{float(low or 0):g}-{float(high if high is not None else 100):g}%"
                findings.append(_finding(f"{colour} covers {share:.1%} of the canvas, outside the {bounds} the "
                                         f"canon's rule proportion{statement} sets.", box))
                suggestions.append(f"Bring {colour} to {bounds} of the canvas (rule proportion)")
    return findings, list(dict.fromkeys(suggestions))


def _finding(message: str, box: Box) -> dict[str, Any]:
    return {"kind": "palette", "severity": "medium", "box": list(box), "message": message[:500]}


def _edge_colour(analysis: ColourAnalysis) -> str:
    """The most common cluster colour along the canvas's edge band."""
    width, height = analysis.width, analysis.height
    band = max(1, round(EDGE_BAND * min(width, height)))
    strips: list[Box] = [(0, 0, width, band), (0, height - band, width, band), (0, 0, band, height),
                         (width - band, 0, band, height)]
    edge = np.concatenate([analysis.labels(strip).ravel() for strip in strips])
    edge = edge[edge >= 0]
    if not edge.size:
        return "#000000"
    return analysis.colour_hex(int(np.bincount(edge.astype(np.int64)).argmax()))
