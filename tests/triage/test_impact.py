"""The impact score (0..100, monotone in every risk factor), the ITIL impact x urgency matrix, the published
weights, and the customer profile (ARR percentile) the score reads."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import SYSTEM
from tierline.customers import service as customers
from tierline.customers.models import PLANS
from tierline.customers.profiles import CustomerProfile
from tierline.flows.intake import create_and_settle
from tierline.platform.errors import NotFound
from tierline.tickets import service as tickets_service
from tierline.tickets.schemas import TicketCreate
from tierline.triage import impact
from tierline.triage.impact import WEIGHTS, priority_from_impact, score
from tierline.triage.types import Draft, Sentiment, Signals

DOCS = Path(__file__).resolve().parents[2] / "docs" / "impact.md"
PRIORITY_RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}  # lower is more urgent
SEVERITIES = [None, "SEV4", "SEV3", "SEV2", "SEV1"]  # least to most severe

users = st.none() | st.integers(0, 10**8)
profiles = st.builds(
    CustomerProfile, id=st.just(1), name=st.just("Acme"), plan=st.sampled_from([*PLANS, "legacy"]),
    arr=st.floats(0, 1e10), region=st.none(), licensed_users=st.none() | st.integers(0, 10**6),
    arr_percentile=st.none() | st.floats(0, 1), open_tickets=st.integers(0, 1000),
    health=st.none() | st.floats(0, 100))
sentiments = st.none() | st.builds(Sentiment, compound=st.floats(-1, 1), frustrated=st.booleans())
signal_sets = st.builds(Signals, affected_users=users, production_down=st.booleans(), data_loss=st.booleans(),
                        security=st.booleans(), all_users=st.booleans(), sentiment=sentiments)
drafts = st.builds(Draft, subject=st.just("s"), description=st.just("d"),
                   requester_email=st.just("a@example.com"), customer=st.none() | profiles,
                   affected_users=users,
                   frustrated=st.booleans())
severities = st.sampled_from([*SEVERITIES, "bogus"])


def points(result, factor):
    return next(item["points"] for item in result.explain if item["factor"] == factor)


@settings(max_examples=300, deadline=None)
@given(draft=drafts, found=signal_sets, severity=severities)
def test_the_score_is_always_0_to_100_and_the_capped_sum_of_its_factors(draft, found, severity):
    result = score(draft=draft, signals=found, incident_severity=severity)
    assert 0 <= result.score <= 100
    assert result.score == min(100, round(sum(item["points"] for item in result.explain)))
    assert {item["factor"] for item in result.explain} == set(WEIGHTS) - {"all_users_default"}
    assert all(item["points"] >= 0 and item["detail"] for item in result.explain)


def _at_least(before, after):
    assert after.score >= before.score, (before.explain, after.explain)


@settings(max_examples=200, deadline=None)
@given(draft=drafts, found=signal_sets, customer=profiles, a=st.floats(0, 1), b=st.floats(0, 1))
def test_more_arr_never_lowers_the_score(draft, found, customer, a, b):
    low, high = sorted((a, b))
    poorer = dataclasses.replace(customer, arr_percentile=low, arr=low * 1e6)
    richer = dataclasses.replace(customer, arr_percentile=high, arr=high * 1e6)
    _at_least(score(draft=dataclasses.replace(draft, customer=poorer), signals=found),
              score(draft=dataclasses.replace(draft, customer=richer), signals=found))


@settings(max_examples=200, deadline=None)
@given(draft=drafts, found=signal_sets, a=users, b=users)
def test_more_affected_users_in_the_text_never_lowers_the_score(draft, found, a, b):
    low, high = sorted((a, b), key=lambda v: -1 if v is None else v)
    _at_least(score(draft=draft, signals=dataclasses.replace(found, affected_users=low)),
              score(draft=draft, signals=dataclasses.replace(found, affected_users=high)))


@settings(max_examples=200, deadline=None)
@given(draft=drafts, found=signal_sets, a=st.integers(0, 10**8), b=st.integers(0, 10**8),
       caller_set=st.sampled_from([set(), {"affected_users"}]))
def test_more_affected_users_on_the_ticket_never_lowers_the_score(draft, found, a, b, caller_set):
    low, high = sorted((a, b))
    draft = dataclasses.replace(draft, caller_set=caller_set)
    _at_least(score(draft=dataclasses.replace(draft, affected_users=low), signals=found),
              score(draft=dataclasses.replace(draft, affected_users=high), signals=found))


@settings(max_examples=200, deadline=None)
@given(draft=drafts, found=signal_sets,
       flag=st.sampled_from(["production_down", "data_loss", "security", "all_users"]))
def test_production_down_data_loss_security_and_all_users_never_lower_the_score(draft, found, flag):
    _at_least(score(draft=draft, signals=dataclasses.replace(found, **{flag: False})),
              score(draft=draft, signals=dataclasses.replace(found, **{flag: True})))


@settings(max_examples=200, deadline=None)
@given(draft=drafts, found=signal_sets, customer=profiles, a=st.integers(0, 50), b=st.integers(0, 50),
       h1=st.floats(0, 100), h2=st.floats(0, 100), p1=st.sampled_from(PLANS), p2=st.sampled_from(PLANS))
def test_more_open_tickets_worse_health_and_a_bigger_plan_never_lower_the_score(
        draft, found, customer, a, b, h1, h2, p1, p2):
    (a, b), (h_bad, h_good) = sorted((a, b)), sorted((h1, h2))
    (p_small, p_big) = sorted((p1, p2), key=PLANS.index)
    base = dataclasses.replace(customer, open_tickets=a, health=h_good, plan=p_small)
    worse = dataclasses.replace(customer, open_tickets=b, health=h_bad, plan=p_big)
    _at_least(score(draft=dataclasses.replace(draft, customer=base), signals=found),
              score(draft=dataclasses.replace(draft, customer=worse), signals=found))


@settings(max_examples=100, deadline=None)
@given(draft=drafts, found=signal_sets)
def test_frustration_and_a_worse_incident_never_lower_the_score(draft, found):
    calm = dataclasses.replace(draft, frustrated=False)
    upset = dataclasses.replace(draft, frustrated=True)
    _at_least(score(draft=calm, signals=dataclasses.replace(found, sentiment=None)),
              score(draft=upset, signals=found))
    results = [score(draft=draft, signals=found, incident_severity=s).score for s in SEVERITIES]
    assert results == sorted(results)


def test_the_explain_names_each_factor_with_its_points():
    customer = CustomerProfile(id=7, name="Acme", plan="enterprise", arr=250_000, region="eu",
                             licensed_users=1500, arr_percentile=0.9, open_tickets=2)
    draft = Draft(subject="Checkout down", description="...", requester_email="a@acme.io", customer=customer)
    found = Signals(affected_users=300, production_down=True,
                    sentiment=Sentiment(compound=-0.8, frustrated=True))
    result = score(draft=draft, signals=found, incident_severity="SEV2")
    by_factor = {item["factor"]: item["points"] for item in result.explain}
    assert by_factor == {"arr_percentile": 18.0, "plan": 10.0, "affected_users": 12.4,
                         "production_down": 25.0, "data_loss": 0.0, "security": 0.0, "open_tickets": 2.0,
                         "incident_severity": 12.0, "health": 0.0, "frustrated": 5.0}
    assert result.score == 84
    assert priority_from_impact(result.score, "high") == "P1"


def test_all_users_counts_the_customers_licensed_seats():
    customer = CustomerProfile(id=1, name="A", plan="pro", arr=1, region=None, licensed_users=100,
                             arr_percentile=0.5)
    draft = Draft(subject="s", description="d", requester_email="a@b.io", customer=customer)
    result = score(draft=draft, signals=Signals(all_users=True))
    assert points(result, "affected_users") == 10.0
    unknown = score(draft=dataclasses.replace(draft, customer=None), signals=Signals(all_users=True))
    assert points(unknown, "affected_users") == 15.0  # 1000 users


def test_a_caller_set_affected_users_field_wins_over_the_text():
    draft = Draft(subject="s", description="d", requester_email="a@b.io", affected_users=10,
                  caller_set={"affected_users"})
    result = score(draft=draft, signals=Signals(affected_users=5000, all_users=True))
    assert points(result, "affected_users") == 5.0
    assert next(i["detail"] for i in result.explain if i["factor"] == "affected_users") == "10 users (ticket field)"
    # Not set by the caller (the pipeline copied a count from the text): the largest count wins.
    guessed = score(draft=dataclasses.replace(draft, caller_set=set()), signals=Signals(affected_users=5000))
    assert points(guessed, "affected_users") == 18.5


def test_an_unknown_customer_scores_only_what_the_ticket_says():
    draft = Draft(subject="s", description="d", requester_email="someone@gmail.com")
    result = score(draft=draft, signals=Signals(data_loss=True))
    assert result.score == 15
    assert next(i["detail"] for i in result.explain if i["factor"] == "plan") == "unknown customer"


URGENCIES = [None, "low", "medium", "high"]
URGENCY_RANK = {"low": 0, None: 1, "medium": 1, "high": 2}


def test_the_itil_matrix_is_total_and_monotone():
    for urgency in URGENCIES:
        previous = 5
        for value in range(-5, 106):
            priority = priority_from_impact(value, urgency)
            assert priority in PRIORITY_RANK
            assert PRIORITY_RANK[priority] <= previous  # more impact: same or more urgent priority
            previous = PRIORITY_RANK[priority]
    for value in range(101):
        by_urgency = sorted(URGENCIES, key=URGENCY_RANK.get)
        ranks = [PRIORITY_RANK[priority_from_impact(value, u)] for u in by_urgency]
        assert ranks == sorted(ranks, reverse=True)  # more urgency: same or more urgent priority


@pytest.mark.parametrize(("value", "urgency", "priority"), [
    (90, "high", "P1"), (90, "medium", "P2"), (90, None, "P2"), (90, "low", "P3"),
    (50, "high", "P1"), (49, "high", "P2"), (30, "medium", "P3"), (25, "low", "P4"),
    (10, "high", "P3"), (10, "medium", "P4"), (0, "low", "P4"),
])
def test_it_maps_impact_and_urgency_to_a_priority(value, urgency, priority):
    assert priority_from_impact(value, urgency) == priority


def test_it_rejects_an_unknown_urgency():
    with pytest.raises(ValueError, match="urgency"):
        priority_from_impact(50, "critical")


def test_the_published_weights_and_matrix_are_the_ones_in_the_code():
    assert impact.render_markdown() in DOCS.read_text()


# -- customer profile --------------------------------------------------------------------------------------


def _customer(session, n: int, arr: float, licensed_users: int = 0):
    return customers.create(session, actor=SYSTEM, name=f"C{n}", external_id=f"crm-{n}", plan="business",
                            arr=arr, region="eu", licensed_users=licensed_users)


def test_profiles_give_the_customers_arr_percentile_among_all_customers(db):
    with db.unit_of_work() as session:
        ids = [_customer(session, n, arr).id for n, arr in enumerate([0, 100, 100, 1000, 50_000.5])]
        ids.append(_customer(session, 9, 75, licensed_users=300).id)
    with db.unit_of_work() as session:
        got = {i: customers.profile(session, customer_id=i) for i in ids}
    assert [got[i].arr_percentile for i in ids] == [1 / 12, 6 / 12, 6 / 12, 9 / 12, 11 / 12, 3 / 12]
    last = got[ids[-1]]
    assert (last.name, last.plan, last.arr, last.region) == ("C9", "business", 75.0, "eu")
    assert last.licensed_users == 300
    assert (last.open_tickets, last.health) == (0, None)
    assert got[ids[0]].licensed_users is None  # 0 seats: not known


def test_a_lone_customer_sits_at_the_median_and_a_missing_one_is_not_found(db):
    with db.unit_of_work() as session:
        only = _customer(session, 1, 500).id
    with db.unit_of_work() as session:
        assert customers.profile(session, customer_id=only).arr_percentile == 0.5
        with pytest.raises(NotFound):
            customers.profile(session, customer_id=only + 1)


_SERIAL = itertools.count(100)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrs=st.lists(st.integers(0, 10**6), min_size=1, max_size=8))
def test_a_customer_with_more_arr_never_has_a_lower_percentile(db, arrs):
    with db.unit_of_work() as session:
        made = [(arr, _customer(session, next(_SERIAL), arr / 100).id) for arr in arrs]
    with db.unit_of_work() as session:
        ranked = sorted((arr, customers.profile(session, customer_id=i).arr_percentile) for arr, i in made)
        for _, i in made:
            session.delete(session.get(customers.Customer, i))
    assert [p for _, p in ranked] == sorted(p for _, p in ranked)
    assert all(0 < p < 1 for _, p in ranked)


# -- open tickets, counted up to a bound ----------------------------------------------------------------------

def test_open_tickets_are_counted_up_to_the_bound_and_the_explain_says_so(db):
    with db.unit_of_work() as session:
        customer_id = _customer(session, 500, 1000).id
    for n in range(5):
        with db.unit_of_work() as session:
            create_and_settle(session, actor=SYSTEM, data=TicketCreate(
                subject=f"Export {n} fails", description="The CSV export stops halfway.",
                requester_email=f"p{n}@c500.example", customer_id=customer_id))
    with db.unit_of_work() as session:
        assert tickets_service.open_count(session, customer_id=customer_id) == 5
        assert [tickets_service.open_count(session, customer_id=customer_id, at_most=k) for k in (1, 4, 5, 9)] \
            == [1, 4, 5, 5]
        profile = customers.profile(session, customer_id=customer_id)
    at_bound = dataclasses.replace(profile, open_tickets=impact.OPEN_TICKETS_COUNTED)
    draft = Draft(subject="s", description="d", requester_email="a@b.io", customer=at_bound)
    found = next(i for i in score(draft=draft, signals=Signals()).explain if i["factor"] == "open_tickets")
    assert found == {"factor": "open_tickets", "points": 5.0,
                     "detail": f"{impact.OPEN_TICKETS_COUNTED} or more other open tickets"}
    below = score(draft=dataclasses.replace(draft, customer=dataclasses.replace(profile, open_tickets=3)),
                  signals=Signals())
    assert next(i["detail"] for i in below.explain if i["factor"] == "open_tickets") == "3 other open tickets"
