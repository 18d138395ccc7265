"""The merge rules between measured findings and a vision model's, and the annotated copy."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from sgd.critique.annotate import annotate
from sgd.critique.merge import clip_box, combined_score, merge_model_critique
from sgd.critique.regions import iou

KINDS = ["palette", "contrast", "logo_safe_zone", "format", "other"]
boxes = st.one_of(st.none(), st.tuples(st.integers(0, 900), st.integers(0, 900), st.integers(1, 400),
                                       st.integers(1, 400)).map(list))
findings = st.fixed_dictionaries({"kind": st.sampled_from(KINDS), "message": st.text(min_size=1, max_size=40),
                                  "severity": st.sampled_from(["low", "medium", "high"]), "box": boxes})


@given(measured=st.lists(findings, max_size=6), model=st.lists(findings, max_size=6),
       measured_score=st.floats(0, 1), model_score=st.floats(0, 1), weight=st.floats(0, 1))
def test_a_model_never_clears_a_measured_finding_nor_raises_the_score(measured, model, measured_score, model_score,
                                                                       weight) -> None:
    merged = merge_model_critique(measured_score, measured, [], {"score": model_score, "violations": model,
                                                                 "repair_suggestions": []},
                                  width=1000, height=1000, model_weight=weight)
    kept = [violation for violation in merged.violations if violation["source"] == "measured"]
    assert [(v["kind"], v["message"]) for v in kept] == [(v["kind"], v["message"]) for v in measured]
    assert merged.score <= round(measured_score, 4)
    assert len(merged.violations) + merged.duplicates_dropped == len(measured) + len(model)


def test_a_repeat_of_a_measured_finding_is_dropped_and_a_new_one_added() -> None:
    measured = [{"kind": "palette", "message": "m", "severity": "high", "box": [100, 100, 200, 200]}]
    model = {"score": 0.9, "repair_suggestions": ["calmer copy"], "violations": [
        {"kind": "palette", "message": "same block", "box": [110, 105, 190, 200]},
        {"kind": "palette", "message": "another place", "box": [700, 700, 50, 50]},
        {"kind": "contrast", "message": "small print", "box": None}]}
    merged = merge_model_critique(0.65, measured, ["fix the block"], model, width=1000, height=1000,
                                  model_weight=0.5)
    assert [v["message"] for v in merged.violations] == ["m", "another place", "small print"]
    assert merged.duplicates_dropped == 1
    assert merged.repair_suggestions == ["fix the block", "calmer copy"]
    assert merged.score == 0.65


def test_score_combination() -> None:
    assert combined_score(1.0, None, 0.5) == 1.0
    assert combined_score(1.0, 0.6, 0.5) == pytest.approx(0.8)
    assert combined_score(0.4, 1.0, 0.5) == 0.4
    assert combined_score(1.0, 0.0, 0.0) == 1.0


def test_model_boxes_are_clipped_to_the_canvas() -> None:
    assert clip_box([-10, -10, 50, 50], 100, 100) == (0, 0, 40, 40)
    assert clip_box([90, 90, 50, 50], 100, 100) == (90, 90, 10, 10)
    assert clip_box([200, 200, 5, 5], 100, 100) is None
    assert clip_box([1, 2, 3], 100, 100) is None
    assert iou([0, 0, 10, 10], [0, 0, 10, 10]) == 1.0
    assert iou([0, 0, 10, 10], [20, 20, 5, 5]) == 0.0


def test_the_annotated_copy_boxes_each_violation_in_its_colour_with_a_legend() -> None:
    design = Image.new("RGB", (400, 300), "#F4EDE4")
    violations = [{"kind": "palette", "message": "off palette", "box": [50, 60, 100, 80], "source": "measured"},
                  {"kind": "format", "message": "wrong size", "box": None}]
    annotated = Image.open(io.BytesIO(annotate(design, violations))).convert("RGB")
    assert annotated.width == 400
    assert annotated.height > 300  # the legend sits under the design
    left_edge = annotated.getpixel((51, 110))  # on the palette box's left border, below its tag
    assert left_edge[0] > 200
    assert left_edge[1] < 60
    assert annotated.getpixel((250, 200)) == pytest.approx((244, 237, 228), abs=4)  # the design is untouched
    assert design.getpixel((51, 110)) == (244, 237, 228)  # and the caller's image was not drawn on


@pytest.mark.parametrize("size", [(70000, 8), (10, 65480), (5000, 3000)])
def test_a_very_large_design_is_annotated_on_a_scaled_copy(size: tuple[int, int]) -> None:
    violation = {"kind": "palette", "message": "off palette", "box": [0, 0, size[0] // 2, size[1] // 2]}
    annotated = Image.open(io.BytesIO(annotate(Image.new("RGB", size, "white"), [violation])))
    assert max(annotated.size) <= 4096 + 200  # the legend adds a strip under the design
    assert annotated.width == min(size[0], round(size[0] * 4096 / max(size)))
