"""policies/critique_policy.json: the pixel critic's thresholds, how a score is made, and the render repair loop.

Validated against policies/critique_policy.schema.json when it loads (the cold start of the critique and render
functions), so a bad policy stops the function with a message naming the field.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Literal

from sgd.guardrails import schema_errors
from sgd.resources import load_json
from sgd.settings import ConfigurationError

POLICY_FILE, POLICY_SCHEMA = "critique_policy.json", "critique_policy.schema.json"
Severity = Literal["low", "medium", "high"]


@dataclass(frozen=True, slots=True)
class CritiquePolicy:
    version: int
    flat_delta_e: float  # CIEDE2000 a flat fill may sit from its nearest canon colour
    lossy_extra_delta_e: float  # ... plus this in a JPEG or WebP
    photo_delta_e: float  # ... a photographic region (looser)
    min_cluster_share: float  # share of the canvas below which an off-palette colour is ignored
    min_forbidden_share: float  # ... a forbidden colour (stricter)
    min_fill_share: float  # ... a flat colour with solid pixels (a fill, not strokes or edges) from this share
    fringe_tolerance: int  # 3x3 channel spread above which a pixel is an edge, not a fill
    normal_text_contrast: float
    large_text_contrast: float
    large_text_px: float
    min_text_px: float
    worst_percentile: float  # on a mixed background, the share of surrounding pixels whose contrast is reported
    large_bold_text_px: float  # bold text is large from this size (WCAG 14 pt)
    bold_stroke_em: float  # detected text is bold from this mean stroke width / font size
    unreadable_below: float  # a ratio below this: text found but unreadable
    logo_match_min_score: float
    logo_colour_delta_e: float  # how far the logo's flat colours may drift and still match
    logo_min_width_pct: float
    logo_max_width_pct: float
    logo_required: dict[str, Severity | Literal["off"]]  # "renders", "external": a missing logo's severity
    logo_recoloured: Severity | Literal["off"]  # a logo found by its shape in colours no guideline gives it
    penalty: dict[Severity, float]
    model_weight: float
    auto_repair_default: bool
    repair_threshold: float
    max_repair_attempts: int
    fingerprint: str  # a short hash of the document: a render cached under another policy is not replayed

    @classmethod
    def from_document(cls, document: Any) -> CritiquePolicy:
        """Validates the policy document; ConfigurationError names every offending field."""
        problems = schema_errors("policies", POLICY_SCHEMA, document)
        if not problems:
            if document["palette"]["flat_delta_e"] > document["palette"]["photo_delta_e"]:
                problems.append("palette/flat_delta_e: must not exceed palette/photo_delta_e (photos are looser)")
            if document["contrast"]["large_text"] > document["contrast"]["normal_text"]:
                problems.append("contrast/large_text: must not exceed contrast/normal_text")
            if document["logo"]["min_width_pct"] >= document["logo"]["max_width_pct"]:
                problems.append("logo/min_width_pct: must be below logo/max_width_pct")
        if problems:
            raise ConfigurationError(f"invalid policies/{POLICY_FILE}: " + "; ".join(problems))
        palette, contrast, logo = document["palette"], document["contrast"], document["logo"]
        score, repair = document["score"], document["repair"]
        return cls(
            version=document["version"],
            flat_delta_e=palette["flat_delta_e"], lossy_extra_delta_e=palette["lossy_extra_delta_e"],
            photo_delta_e=palette["photo_delta_e"],
            min_cluster_share=palette["min_cluster_share"], min_forbidden_share=palette["min_forbidden_share"],
            min_fill_share=palette["min_fill_share"],
            fringe_tolerance=palette["fringe_tolerance"],
            normal_text_contrast=contrast["normal_text"], large_text_contrast=contrast["large_text"],
            large_text_px=contrast["large_text_px"], min_text_px=contrast["min_text_px"],
            worst_percentile=contrast["worst_percentile"], large_bold_text_px=contrast["large_bold_text_px"],
            bold_stroke_em=contrast["bold_stroke_em"], unreadable_below=contrast["unreadable_below"],
            logo_match_min_score=logo["match_min_score"], logo_colour_delta_e=logo["colour_delta_e"],
            logo_min_width_pct=logo["min_width_pct"],
            logo_max_width_pct=logo["max_width_pct"],
            logo_required=dict(logo["logo_required"]), logo_recoloured=logo["recoloured_severity"],
            penalty=dict(score["penalty"]), model_weight=score["model_weight"],
            auto_repair_default=repair["auto_repair_default"], repair_threshold=repair["threshold"],
            max_repair_attempts=repair["max_attempts"],
            fingerprint=hashlib.sha256(json.dumps(document, sort_keys=True, separators=(",", ":")).encode())
            .hexdigest()[:16],
        )

    def score(self, severities: list[Severity]) -> float:
        """The measured score: 1.0 less each violation's penalty by severity, never below 0."""
        return round(max(0.0, 1.0 - sum(self.penalty[severity] for severity in severities)), 4)


def load_critique_policy() -> CritiquePolicy:
    """policies/critique_policy.json, validated (the composition root loads it once, at cold start)."""
    return CritiquePolicy.from_document(load_json("policies", POLICY_FILE))
