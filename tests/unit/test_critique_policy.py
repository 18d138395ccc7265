"""policies/critique_policy.json loads, and a bad document stops the cold start naming the field."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from sgd.critique.policy import CritiquePolicy, load_critique_policy
from sgd.resources import load_json
from sgd.settings import ConfigurationError


def document() -> dict[str, Any]:
    return copy.deepcopy(load_json("policies", "critique_policy.json"))


def test_the_shipped_policy_loads() -> None:
    policy = load_critique_policy()
    assert policy.flat_delta_e < policy.photo_delta_e
    assert policy.large_text_contrast <= policy.normal_text_contrast
    assert 0 <= policy.repair_threshold <= 1


@pytest.mark.parametrize(("path", "value", "named"), [
    (("palette", "flat_delta_e"), "three", "palette/flat_delta_e"),
    (("palette", "flat_delta_e"), 40, "palette/flat_delta_e: must not exceed"),
    (("contrast", "large_text"), 7, "contrast/large_text"),
    (("logo", "min_width_pct"), 60, "logo/min_width_pct"),
    (("repair", "max_attempts"), 9, "repair/max_attempts"),
    (("score", "penalty"), {"high": 0.3}, "score/penalty"),
])
def test_a_bad_policy_names_the_field(path: tuple[str, str], value: Any, named: str) -> None:
    bad = document()
    bad[path[0]][path[1]] = value
    with pytest.raises(ConfigurationError) as raised:
        CritiquePolicy.from_document(bad)
    assert named in str(raised.value)
    assert "policies/critique_policy.json" in str(raised.value)


def test_the_score_is_one_less_the_penalties_never_below_zero() -> None:
    policy = CritiquePolicy.from_document(document())
    assert policy.score([]) == 1.0
    assert policy.score(["high"]) == pytest.approx(1 - policy.penalty["high"])
    assert policy.score(["high"] * 10) == 0.0
