"""Assignment: eligibility (tier, team, active, available, capacity, skills), the three strategies, the
round-robin cursor (dry runs leave it alone), rank then claim under concurrent intake, default queues, and the
queue fields that drive it."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import insert, select

from tests.triage.assignment_helpers import (
    hold,
    make_agent,
    make_component,
    make_queue,
    make_team,
    pick,
)
from tierline.platform import clock
from tierline.platform.audit import AuditEvent
from tierline.platform.db import core_connection
from tierline.tickets import workloads
from tierline.tickets.models import Queue, QueueCursor, Ticket
from tierline.triage import assignment
from tierline.triage.assignment import Candidate
from tierline.triage.types import Draft


def _cursor(db, queue_id):
    with db.session(write=False) as s:
        row = s.scalar(select(QueueCursor).where(QueueCursor.queue_id == queue_id))
        return None if row is None else row.last_user_id


# -- round robin ------------------------------------------------------------------------------------------

def test_round_robin_takes_turns_in_user_id_order_and_wraps_around(db, admin, factory):
    agents = [make_agent(factory, admin, "agent_l1") for _ in range(3)]
    queue = make_queue(admin, "L1 general")
    picks = [pick(db, queue["id"]).user_id for _ in range(9)]
    assert picks == agents * 3
    assert _cursor(db, queue["id"]) == agents[-1]


def test_round_robin_lets_a_returning_agent_rejoin_the_turn(db, admin, factory):
    a, b, c = (make_agent(factory, admin, "agent_l1") for _ in range(3))
    queue = make_queue(admin, "L1 general")
    assert pick(db, queue["id"]).user_id == a
    admin.patch(f"/api/v1/users/{b}", json={"available": False})
    assert [pick(db, queue["id"]).user_id for _ in range(3)] == [c, a, c]
    admin.patch(f"/api/v1/users/{b}", json={"available": True})
    assert [pick(db, queue["id"]).user_id for _ in range(3)] == [a, b, c]


def test_a_dry_run_never_moves_the_cursor(db, admin, factory):
    a, b = make_agent(factory, admin, "agent_l1"), make_agent(factory, admin, "agent_l1")
    queue = make_queue(admin, "L1 general")
    assert [pick(db, queue["id"], dry_run=True).user_id for _ in range(3)] == [a, a, a]
    assert _cursor(db, queue["id"]) is None
    assert pick(db, queue["id"]).user_id == a
    assert pick(db, queue["id"], dry_run=True).user_id == b
    assert _cursor(db, queue["id"]) == a
    assert pick(db, queue["id"]).user_id == b


# -- who is eligible ----------------------------------------------------------------------------------------

def test_it_skips_inactive_unavailable_full_and_unskilled_agents(db, admin, factory):
    make_agent(factory, admin, "agent_l2", skills=("postgres",), active=False)
    make_agent(factory, admin, "agent_l2", skills=("postgres",), available=False)
    full = make_agent(factory, admin, "agent_l2", skills=("postgres",), max_open=2)
    hold(admin, full, "P4")
    hold(admin, full, "P4")
    hold(admin, full, "P4", status="solved")  # solved work does not count toward capacity
    make_agent(factory, admin, "agent_l2", skills=("mysql",))
    make_agent(factory, admin, "agent_l1", skills=("postgres",))
    fits = make_agent(factory, admin, "agent_l2", skills=("Postgres", "backups"))
    queue = make_queue(admin, "L2 database", "L2", skills=("postgres",))
    result = pick(db, queue["id"])
    assert (result.user_id, result.strategy) == (fits, "round_robin")

    admin.patch(f"/api/v1/users/{fits}", json={"max_open_tickets": 0})
    nobody = pick(db, queue["id"])
    assert nobody.user_id is None and nobody.considered == 5  # the L1 agent is not an L2 candidate at all
    for part in ("nobody fits queue 'L2 database' (L2)", "2 at capacity", "1 inactive", "1 unavailable",
                 "1 missing skills (postgres)"):
        assert part in nobody.reason
    assert len(nobody.reason) <= assignment.MAX_REASON


def test_required_skills_are_the_queues_plus_the_components(db, admin, factory):
    make_agent(factory, admin, "agent_l2", skills=("postgres",))
    both = make_agent(factory, admin, "agent_l2", skills=("postgres", "replication"))
    component = make_component(admin, "Replication", skills=("replication",))
    queue = make_queue(admin, "L2 database", "L2", skills=("postgres",))
    assert {pick(db, queue["id"], component_id=component["id"]).user_id for _ in range(3)} == {both}


def test_smes_take_l3_work_and_agents_only_their_own_tier(db, admin, factory):
    l1 = make_agent(factory, admin, "agent_l1")
    l2 = make_agent(factory, admin, "agent_l2")
    l3 = make_agent(factory, admin, "agent_l3")
    sme = make_agent(factory, admin, "sme")
    l2_sme = make_agent(factory, admin, "agent_l2", "sme")
    make_agent(factory, admin, "manager")
    queues = {tier: make_queue(admin, f"{tier} general", tier)["id"] for tier in ("L1", "L2", "L3")}
    picks = {tier: {pick(db, queue_id).user_id for _ in range(5)} for tier, queue_id in queues.items()}
    assert picks == {"L1": {l1}, "L2": {l2, l2_sme}, "L3": {l3, sme, l2_sme}}


def test_a_queue_with_a_team_assigns_only_its_members(db, admin, factory):
    inside = make_agent(factory, admin, "agent_l2")
    make_agent(factory, admin, "agent_l2")
    team = make_team(admin, "Database support", [inside])
    queue = make_queue(admin, "L2 database", "L2", team_id=team["id"])
    assert {pick(db, queue["id"]).user_id for _ in range(3)} == {inside}
    empty = make_queue(admin, "L2 empty", "L2", team_id=make_team(admin, "Nobody")["id"])
    result = pick(db, empty["id"])
    assert result.user_id is None and "has no members" in result.reason


def test_deleting_a_queue_takes_its_cursor_along(db, admin, factory):
    make_agent(factory, admin, "agent_l1")
    queue = make_queue(admin, "L1 general")
    assert pick(db, queue["id"]).user_id is not None and _cursor(db, queue["id"]) is not None
    assert admin.delete(f"/api/v1/queues/{queue['id']}").status_code == 204
    assert factory.count(QueueCursor) == 0


# -- least loaded and skills --------------------------------------------------------------------------------

def test_least_loaded_weighs_open_tickets_by_priority(db, admin, factory):
    one_p1 = make_agent(factory, admin, "agent_l1")
    three_p4 = make_agent(factory, admin, "agent_l1")
    two_p3 = make_agent(factory, admin, "agent_l1")
    hold(admin, one_p1, "P1")  # load 4
    for _ in range(3):
        hold(admin, three_p4, "P4")  # load 3
    hold(admin, two_p3, "P3")
    hold(admin, two_p3, "P3")  # load 4
    hold(admin, three_p4, "P1", status="solved")  # solved: weighs nothing
    queue = make_queue(admin, "L1 general", strategy="least_loaded")
    result = pick(db, queue["id"])
    assert result.user_id == three_p4
    assert "weighted load 3" in result.reason
    hold(admin, three_p4, "P3")  # now 5: the tie at 4 goes to the lower user id
    assert pick(db, queue["id"]).user_id == one_p1


def test_the_skills_strategy_prefers_the_most_matching_skills_then_the_lightest_load(db, admin, factory):
    parent = make_component(admin, "Database")
    child = make_component(admin, "Replication", parent_id=parent["id"], skills=("postgres",))
    narrow = make_agent(factory, admin, "agent_l2", skills=("postgres",))
    broad_busy = make_agent(factory, admin, "agent_l2", skills=("postgres", "replication", "database"))
    broad_idle = make_agent(factory, admin, "agent_l2", skills=("postgres", "database", "replication"))
    hold(admin, broad_busy, "P2")
    queue = make_queue(admin, "L2 database", "L2", strategy="skills")
    result = pick(db, queue["id"], component_id=child["id"])
    assert result.user_id == broad_idle
    assert "2 matching beyond the required (database, replication)" in result.reason
    tagged = pick(db, queue["id"], component_id=child["id"], tags=["wal"])
    assert tagged.user_id == broad_idle
    admin.patch(f"/api/v1/users/{narrow}", json={"skills": ["postgres", "wal", "database", "replication"]})
    assert pick(db, queue["id"], component_id=child["id"], tags=["wal"]).user_id == narrow


def test_it_moves_the_cursor_for_every_strategy(db, admin, factory):
    a = make_agent(factory, admin, "agent_l1", max_open=0)
    b = make_agent(factory, admin, "agent_l1")
    assert a < b
    queue = make_queue(admin, "L1 general", strategy="least_loaded")
    assert pick(db, queue["id"]).user_id == b and _cursor(db, queue["id"]) == b


# -- properties of the strategies ---------------------------------------------------------------------------

_loads = st.lists(st.tuples(st.integers(0, 40), st.integers(0, 10)), min_size=1, max_size=12)


@given(loads=_loads)
@settings(max_examples=200, deadline=None)
def test_least_loaded_always_picks_a_minimal_weighted_load(loads):
    candidates = [Candidate(user_id=i + 1, skills=set(), max_open_tickets=99, open_tickets=n, load=w)
                  for i, (w, n) in enumerate(loads)]
    chosen, _ = assignment._least_loaded(candidates)
    assert chosen.load == min(c.load for c in candidates)
    assert chosen.user_id == min(c.user_id for c in candidates if c.load == chosen.load)


@given(ids=st.sets(st.integers(1, 500), min_size=1, max_size=10), rounds=st.integers(1, 5),
       start=st.one_of(st.none(), st.integers(0, 600)))
@settings(max_examples=200, deadline=None)
def test_round_robin_gives_everyone_the_same_share_from_any_starting_cursor(ids, rounds, start):
    candidates = [Candidate(user_id=i, skills=set(), max_open_tickets=99) for i in sorted(ids)]
    last, counts = start, Counter()
    for _ in range(rounds * len(candidates)):
        chosen, _ = assignment._round_robin(candidates, last)
        counts[chosen.user_id] += 1
        last = chosen.user_id
    assert set(counts.values()) == {rounds}


# -- default queues -----------------------------------------------------------------------------------------

def test_default_queue_prefers_the_components_support_team_then_the_given_team_then_any(db, admin):
    support = make_team(admin, "Database support")
    frontline = make_team(admin, "Frontline")
    any_l2 = make_queue(admin, "L2 general", "L2")
    team_l2 = make_queue(admin, "L2 frontline", "L2", team_id=frontline["id"])
    db_l2 = make_queue(admin, "L2 database", "L2", team_id=support["id"])
    make_queue(admin, "L1 general", "L1")
    parent = make_component(admin, "Database", support_team_id=support["id"])
    child = make_component(admin, "Replication", parent_id=parent["id"])
    orphan = make_component(admin, "Billing")
    with db.session(write=False) as s:
        def q(**kw):
            return assignment.default_queue(s, **kw)

        assert q(tier="L2", team_id=frontline["id"], component_id=parent["id"]) == db_l2["id"]
        assert q(tier="L2", team_id=None, component_id=child["id"]) == db_l2["id"]  # the nearest ancestor's
        assert q(tier="L2", team_id=frontline["id"], component_id=orphan["id"]) == team_l2["id"]
        assert q(tier="L2", team_id=None, component_id=None) == any_l2["id"]
        assert q(tier="L3", team_id=None, component_id=None) is None
        assert s.get(Queue, q(tier=None, team_id=None, component_id=None)).tier == "L1"


# -- the queue fields ---------------------------------------------------------------------------------------

def test_queues_carry_a_strategy_and_normalised_required_skills(admin, factory):
    r = admin.post("/api/v1/queues", json={"name": "L2 database", "tier": "L2"})
    assert (r.json()["assignment_strategy"], r.json()["required_skills"]) == ("round_robin", [])
    r = admin.patch(f"/api/v1/queues/{r.json()['id']}",
                    json={"assignment_strategy": "skills",
                          "required_skills": [" Postgres", "postgres", "WAL"]})
    assert r.status_code == 200, r.text
    assert (r.json()["assignment_strategy"], r.json()["required_skills"]) == ("skills", ["postgres", "wal"])
    assert factory.audit_count(entity_type="queues") == 2


def test_bad_strategy_or_skills_name_the_field_and_change_nothing(admin, factory):
    queue = make_queue(admin, "L1 general")
    before = factory.count(AuditEvent)
    for body, field in (({"name": "x", "tier": "L1", "assignment_strategy": "random"}, "assignment_strategy"),
                        ({"name": "x", "tier": "L1", "required_skills": ["ok", "  "]}, "required_skills.1"),
                        ({"name": "x", "tier": "L1", "required_skills": "postgres"}, "required_skills")):
        r = admin.post("/api/v1/queues", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["errors"][0]["field"] == field
    for body, field in (({"assignment_strategy": None}, "assignment_strategy"),
                        ({"required_skills": ["x" * 65]}, "required_skills.0")):
        r = admin.patch(f"/api/v1/queues/{queue['id']}", json=body)
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == field, r.text
    assert factory.count(Queue) == 1 and factory.count(AuditEvent) == before


# -- rank, then claim --------------------------------------------------------------------------------------

def test_rank_orders_the_candidates_and_claimed_explains_the_claim(db, admin, factory):
    a, b, c = (make_agent(factory, admin, "agent_l1", max_open=3) for _ in range(3))
    hold(admin, a, "P1")
    queue = make_queue(admin, "L1 general", strategy="least_loaded")
    draft = Draft(subject="s", description="d", requester_email="r@customer.example")
    with db.session(write=False) as s:
        ranking = assignment.rank(s, draft=draft, queue_id=queue["id"])
    assert [cand.user_id for cand in ranking.candidates] == [b, c, a]
    assert ranking.predicted == b and ranking.considered == 3
    assert [(x.user_id, x.capacity) for x in ranking.claimants] == [(b, 3), (c, 3), (a, 3)]
    assert assignment.claimed(ranking, c).reason.startswith("least_loaded: weighted load 0")
    nobody = assignment.claimed(ranking, None)  # every candidate filled by concurrent intakes meanwhile
    assert nobody.user_id is None and "3 at capacity" in nobody.reason


def test_a_round_robin_reason_names_the_turn_it_read(db, admin, factory):
    a, b = make_agent(factory, admin, "agent_l1"), make_agent(factory, admin, "agent_l1")
    queue = make_queue(admin, "L1 general")
    assert pick(db, queue["id"]).reason == "round_robin: first in turn among 2 eligible"
    assert pick(db, queue["id"]).reason == f"round_robin: next after user {a} among 2 eligible"
    draft = Draft(subject="s", description="d", requester_email="r@customer.example")
    with db.session(write=False) as s:
        ranking = assignment.rank(s, draft=draft, queue_id=queue["id"])
    assert ranking.predicted == a and ranking.turn_after == b
    # another intake took a's turn between this ranking and its claim: the claim went on to b
    assert assignment.claimed(ranking, b).reason == "round_robin: next in turn among 2 eligible"


# -- concurrent intake --------------------------------------------------------------------------------------

def _concurrent_intakes(db, queue_ids: list[int]) -> list[int | None]:
    """One intake per entry of `queue_ids`, all at once, each in its own thread, as intake runs them: rank in
    a read session (every one of them before any claims, so all rankings are equally stale), then a short
    write transaction that claims the assignee and inserts the ticket with it, and commits. Returns who got
    each ticket."""
    n = len(queue_ids)
    barrier, out, errors = threading.Barrier(n), [], []

    def intake(i: int, queue_id: int) -> None:
        try:
            draft = Draft(subject=f"Concurrent {i}", description="d", requester_email="c@customer.example")
            with db.session(write=False) as s:
                ranking = assignment.rank(s, draft=draft, queue_id=queue_id)
            barrier.wait(timeout=30)
            with db.unit_of_work() as session:
                conn = core_connection(session)
                user_id = workloads.claim(conn, queue_id=queue_id, strategy=ranking.strategy,
                                          candidates=ranking.claimants, now=clock.now())
                result = assignment.claimed(ranking, user_id)
                now = clock.now()
                conn.execute(insert(Ticket).values(
                    subject=draft.subject, description="d", status="open" if user_id else "new",
                    type="question", priority="P3", channel="api", requester_email=draft.requester_email,
                    tags=[], custom_fields={}, queue_id=queue_id, tier="L1", assignee_id=user_id,
                    waiting_reason=None if user_id else result.reason, frustrated=False, created_at=now,
                    updated_at=now, version=1))
            out.append(result.user_id)
        except Exception as exc:  # noqa: BLE001 (reported below, in the test's thread)
            errors.append(exc)

    threads = [threading.Thread(target=intake, args=(i, q)) for i, q in enumerate(queue_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    with db.engine.connect() as conn:  # and the kept open work is exactly what the tickets say
        assert workloads.recount(conn) == 0
        conn.rollback()
    return out


@pytest.mark.committing
def test_round_robin_stays_fair_under_concurrent_intake(db, admin, factory):
    agents = [make_agent(factory, admin, "agent_l1") for _ in range(4)]
    queue = make_queue(admin, "L1 general")
    picks = _concurrent_intakes(db, [queue["id"]] * 16)
    assert Counter(picks) == {a: 4 for a in agents}


@pytest.mark.committing
def test_capacity_holds_under_concurrent_intake(db, admin, factory):
    agents = [make_agent(factory, admin, "agent_l1", max_open=2) for _ in range(3)]
    queue = make_queue(admin, "L1 general", strategy="least_loaded")
    picks = _concurrent_intakes(db, [queue["id"]] * 10)
    assert Counter(picks) == {**{a: 2 for a in agents}, None: 4}


@pytest.mark.committing
def test_least_loaded_spreads_a_burst_by_the_loads_committed_before_each_claim(db, admin, factory):
    """Every intake ranked the same idle desks; the claims, taking turns on the cursor, must each weigh the
    tickets the previous ones committed (not fill the first agent to capacity)."""
    agents = [make_agent(factory, admin, "agent_l1", max_open=20) for _ in range(3)]
    queue = make_queue(admin, "L1 general", strategy="least_loaded")
    picks = _concurrent_intakes(db, [queue["id"]] * 12)
    assert Counter(picks) == {a: 4 for a in agents}


@pytest.mark.committing
def test_an_agent_in_two_queues_claimed_concurrently_stays_within_capacity(db, admin, factory):
    shared = make_agent(factory, admin, "agent_l1", max_open=2)
    first = make_agent(factory, admin, "agent_l1", max_open=2)
    second = make_agent(factory, admin, "agent_l1", max_open=2)
    one = make_queue(admin, "L1 one", team_id=make_team(admin, "One", [shared, first])["id"])
    two = make_queue(admin, "L1 two", team_id=make_team(admin, "Two", [shared, second])["id"],
                     strategy="least_loaded")
    picks = _concurrent_intakes(db, [one["id"], two["id"]] * 5)
    assert Counter(picks) == {shared: 2, first: 2, second: 2, None: 4}
