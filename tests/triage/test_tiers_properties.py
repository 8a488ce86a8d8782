"""Properties of the tier report's recommendation over any figures and thresholds: it always rests on a tier
with min_tickets first-touch tickets (or on the figures of the tier below it), never on a tier that wins by
default; it keeps the current practice when no tier has enough; it says whether it changes practice, and which
figures had too few tickets behind them."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tierline.tickets.models import TIERS
from tierline.triage import tiers

PROPERTY = settings(max_examples=400, deadline=None)


@st.composite
def figures(draw: st.DrawFn) -> dict[str, Any]:
    """One tier's figures as the report computes them: solved and reopened tickets are among its volume."""
    stats = tiers._Stats(volume=draw(st.integers(0, 12)))
    solved = draw(st.integers(0, stats.volume))
    stats.hours = draw(st.lists(st.floats(0.1, 500), min_size=solved, max_size=solved))
    stats.ever_solved = draw(st.integers(solved, stats.volume))  # a reopened ticket may be open again now
    stats.reopened = draw(st.integers(0, stats.ever_solved))
    stats.escalated = draw(st.integers(0, stats.volume))
    return stats.as_dict()


category = st.fixed_dictionaries({tier: figures() for tier in TIERS})
thresholds = st.fixed_dictionaries({
    "min_tickets": st.integers(1, 8), "mttr_ratio": st.floats(1.0, 4.0),
    "reopen_rate": st.floats(0.0, 1.0), "escalation_rate": st.floats(0.0, 1.0)})


def _judged(figures_: dict[str, Any], need: float) -> list[str]:
    return [tier for tier in TIERS if figures_[tier]["volume"] >= need]


@PROPERTY
@given(category, thresholds)
def test_the_recommendation_rests_on_a_tier_with_evidence(figures_, t):
    advice = tiers.recommend(figures_, t)
    judged = _judged(figures_, t["min_tickets"])
    if not judged:  # nothing proves anything: L1 only when no ticket had a tier
        assert advice.tier == (advice.current or "L1") and not advice.changes_practice
        return
    below = TIERS[TIERS.index(advice.tier) - 1] if advice.tier != "L1" else None
    assert advice.tier in judged or (below in judged and any(r.endswith(f"-> {advice.tier}")
                                                             for r in advice.reasons))
    assert TIERS.index(advice.tier) >= TIERS.index(judged[0])  # a tier without enough data never wins by default


@PROPERTY
@given(category, thresholds)
def test_every_hand_off_is_made_by_a_tier_with_enough_tickets(figures_, t):
    for reason in tiers.recommend(figures_, t).reasons:
        if "->" in reason:
            lower = reason.split(" ", 1)[0]
            assert figures_[lower]["volume"] >= t["min_tickets"]


@PROPERTY
@given(category, thresholds)
def test_it_says_whether_the_recommendation_changes_the_current_practice(figures_, t):
    advice = tiers.recommend(figures_, t)
    volumes = [figures_[tier]["volume"] for tier in TIERS]
    if max(volumes) == 0:
        assert advice.current is None
    else:
        assert advice.current == TIERS[volumes.index(max(volumes))]  # the most tickets; a tie: the lower tier
    assert advice.changes_practice == (advice.tier != advice.current and advice.current is not None)
    expected = (f"move first touch from {advice.current} to {advice.tier}: " if advice.changes_practice
                else f"keep {advice.tier}: ")
    assert advice.verdict.startswith(expected) and len(advice.verdict) > len(expected)


@PROPERTY
@given(category, thresholds)
def test_it_names_exactly_the_figures_with_too_few_tickets(figures_, t):
    insufficient = tiers.recommend(figures_, t).insufficient
    for tier in TIERS:
        expected = [figure for figure, basis in (("reopen_rate", "ever_solved"), ("mttr_hours", "solved"),
                                                 ("escalation_rate", "volume"))
                    if figures_[tier][basis] < t["min_tickets"]]
        assert insufficient.get(tier, []) == expected
        assert tier not in insufficient or insufficient[tier]  # tiers with enough are left out


@PROPERTY
@given(category)
def test_more_first_touch_evidence_for_l1_alone_never_hides_l1(figures_):
    """Once L1 has min_tickets first-touch tickets, it is judged on them: the walk starts there."""
    need = tiers.THRESHOLDS["min_tickets"]
    advice = tiers.recommend(figures_)
    if figures_["L1"]["volume"] >= need and advice.tier != "L1":
        assert any(r.startswith("L1 ") and r.endswith("-> L2") for r in advice.reasons)
