"""Merging a vision model's critique into the measured one, and the score that combines them.

Rules (README "Critique"): every measured violation stays, whatever the model says; a model finding is added
unless it repeats a measured one (same kind, and overlapping boxes or no box to tell them apart). The model can
lower a score, never raise it: score = min(measured, (1 - w) * measured + w * model), w the policy's model_weight.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sgd.critique.regions import Box, iou
from sgd.critique.regions import clip_box as clip_to_canvas

SAME_FINDING_IOU = 0.3  # boxes overlapping this much describe the same place
MAX_MESSAGE_CHARS = 500


@dataclass(frozen=True, slots=True)
class Merged:
    score: float
    violations: list[dict[str, Any]]  # measured first (source "measured"), then the model's additions
    repair_suggestions: list[str]
    duplicates_dropped: int  # model findings that repeated a measured one


def combined_score(measured: float, model: float | None, model_weight: float) -> float:
    if model is None:
        return round(measured, 4)
    blended = (1 - model_weight) * measured + model_weight * min(max(model, 0.0), 1.0)
    return round(min(measured, blended), 4)


def clip_box(box: Sequence[int] | None, width: int, height: int) -> Box | None:
    """A model's [x, y, w, h] clipped to the canvas; None when it is malformed or falls outside."""
    if box is None or len(box) != 4:
        return None
    return clip_to_canvas(box, width, height)


def _repeats(finding: Mapping[str, Any], measured: Sequence[Mapping[str, Any]]) -> bool:
    same_kind = [known for known in measured if known["kind"] == finding["kind"]]
    if not same_kind:
        return False
    if finding.get("box") is None:
        return True
    return any(known.get("box") is None or iou(known["box"], finding["box"]) >= SAME_FINDING_IOU
               for known in same_kind)


def merge_model_critique(measured_score: float, measured: Sequence[Mapping[str, Any]],
                         measured_suggestions: Sequence[str], model: Mapping[str, Any] | None, *,
                         width: int, height: int, model_weight: float) -> Merged:
    """`model` is the model's answer (valid against guardrails/critique.json) or None when no model ran."""
    violations = [dict(finding) | {"source": "measured"} for finding in measured]
    suggestions = list(dict.fromkeys(measured_suggestions))
    if model is None:
        return Merged(combined_score(measured_score, None, model_weight), violations, suggestions, 0)
    dropped = 0
    for finding in model.get("violations") or []:
        addition = {"kind": finding["kind"], "message": str(finding["message"])[:MAX_MESSAGE_CHARS],
                    "severity": finding.get("severity") or "medium",
                    "box": clip_box(finding.get("box"), width, height), "source": "model"}
        if _repeats(addition, measured):
            dropped += 1
            continue
        violations.append(addition)
    suggestions += [text for text in model.get("repair_suggestions") or [] if text not in suggestions]
    return Merged(combined_score(measured_score, float(model["score"]), model_weight), violations, suggestions,
                  dropped)
