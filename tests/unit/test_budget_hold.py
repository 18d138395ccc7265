"""An operation's budget hold: what its calls draw and what they settle never takes more from the table's reservation
than was held, and what is left to give back is exactly the hold less what the calls used."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sgd.model_gateway.budget import BudgetHold

CALLS = st.lists(st.tuples(st.integers(1, 50_000), st.integers(0, 200_000), st.booleans()), max_size=30)


@given(held=st.integers(0, 500_000), calls=CALLS)
def test_a_hold_never_gives_out_more_than_it_holds(held: int, calls: list[tuple[int, int, bool]]) -> None:
    hold = BudgetHold("org", "2026-12-03", held, 10**9)
    used = 0
    for cap, actual, fails in calls:
        if not hold.draw(cap):
            continue  # the call reserves from the org's headroom instead
        assert 0 <= hold.free <= hold.held
        if fails:
            hold.give_back(cap)
        else:
            used += hold.settled(cap, actual)  # a bill over the cap takes only the cap from the hold
        assert 0 <= hold.free <= hold.held
    assert used + hold.held == held


def test_an_ended_hold_lends_nothing() -> None:
    hold = BudgetHold("org", "2026-12-03", 1_000, 10**9)
    hold.ended = True
    assert not hold.draw(1)
