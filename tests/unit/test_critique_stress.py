"""A derandomized slice of the critic's stress set (bench/support/stress.py; the full set is bench/critique_stress):
fixed seeds, every family, judged like the bench (a defect is found only by a finding of its class whose box overlaps
it)."""

import pytest
from sgd.critique.logo import prepare_logo
from sgd.critique.measure import decode_design, measure_design
from sgd.critique.policy import load_critique_policy

from bench.critique_stress import judge
from bench.support.stress import CLASSES, FAMILIES, cases

POLICY = load_critique_policy()
SLICE = 30  # three designs of each family


@pytest.fixture(scope="module")
def outcomes() -> list[tuple[str, dict[str, str], list[dict]]]:
    judged = []
    for case in cases(seed=2026, count=SLICE):
        logo = prepare_logo(case.logo_png) if case.logo_png else None
        measurement = measure_design(decode_design(case.data), case.canon, POLICY, logo=logo)
        judged.append((case.family, judge(case, measurement.violations), measurement.violations))
    return judged


def test_the_slice_covers_every_family(outcomes: list[tuple[str, dict[str, str], list[dict]]]) -> None:
    assert {family for family, _, _ in outcomes} == set(FAMILIES)


@pytest.mark.parametrize("kind", CLASSES)
def test_each_class_is_found_where_it_is_and_only_there(kind: str,
                                                        outcomes: list[tuple[str, dict[str, str], list[dict]]]) -> None:
    parts = [part for _, outcome, _ in outcomes if outcome[kind] for part in outcome[kind].split("+")]
    tp, fp, fn = parts.count("tp"), parts.count("fp"), parts.count("fn")
    assert tp + fn > 0, "the slice has defects of every class"
    # The bench's target is 0.97 over hundreds of designs; a 30-design slice allows one miss per class.
    assert fn <= 1, f"{kind}: {fn} defects missed"
    assert fp <= 1, f"{kind}: {fp} false findings"


def test_clean_re_encodes_have_no_findings(outcomes: list[tuple[str, dict[str, str], list[dict]]]) -> None:
    clean = [violations for family, _, violations in outcomes if family == "clean_reencode"]
    assert clean
    assert all(not violations for violations in clean)
