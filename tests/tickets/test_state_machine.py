"""The status state machine: the table itself, and random walks through the API that must never reach an
illegal state, never leave closed, and keep the timestamps consistent with the status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import FROZEN_AT
from tests.tickets.conftest import create_ticket, get_ticket
from tierline.platform import clock, jobs
from tierline.platform.errors import Conflict
from tierline.tickets import state_machine as sm

STATUSES = list(sm.STATUSES)
WINDOW = timedelta(days=7)


def test_closed_is_final_and_every_status_is_in_the_table():
    assert set(sm.TRANSITIONS) == set(STATUSES)
    assert sm.TRANSITIONS["closed"] == ()
    for targets in sm.TRANSITIONS.values():
        assert set(targets) <= set(STATUSES) and "new" not in targets


def test_an_illegal_transition_names_the_allowed_ones():
    with pytest.raises(Conflict) as err:
        sm.check("new", "closed", solved_at=None)
    assert err.value.extra["allowed"] == ["open", "pending_customer", "on_hold", "solved"]


def test_a_reopen_after_the_window_is_refused():
    solved = datetime(2026, 1, 1, tzinfo=UTC)
    sm.check("solved", "open", solved_at=solved, now=solved + WINDOW)  # the last instant of the window
    with pytest.raises(Conflict) as err:
        sm.check("solved", "open", solved_at=solved, now=solved + WINDOW + timedelta(seconds=1))
    assert err.value.extra["allowed"] == ["closed"]


@given(steps=st.lists(st.tuples(st.sampled_from(STATUSES), st.integers(0, 10 * 24)), max_size=30))
def test_the_table_alone_never_reaches_an_illegal_state(steps):
    ticket = SimpleNamespace(status="new", solved_at=None, closed_at=None)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for target, hours in steps:
        now += timedelta(hours=hours)
        was = ticket.status
        try:
            sm.check(ticket.status, target, solved_at=ticket.solved_at, now=now)
        except Conflict as exc:
            assert target not in sm.TRANSITIONS[was] or (was, target) == ("solved", "open")
            assert exc.extra["allowed"] == sm.allowed(was, solved_at=ticket.solved_at, now=now)
            continue
        sm.apply(ticket, target, now=now)
        assert was != "closed" or ticket.status == "closed"
        _assert_consistent(ticket.status, ticket.solved_at, ticket.closed_at)


def _assert_consistent(status, solved_at, closed_at) -> None:  # noqa: ANN001
    assert status in STATUSES
    assert (solved_at is not None) == (status in ("solved", "closed")), (status, solved_at)
    assert (closed_at is not None) == (status == "closed"), (status, closed_at)
    if closed_at is not None:
        assert solved_at <= closed_at


def _ts(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


STEP = st.one_of(
    st.tuples(st.just("status"), st.sampled_from(STATUSES)),
    st.tuples(st.just("reply"), st.sampled_from(["agent", "note", "customer"])),
    st.tuples(st.just("wait"), st.integers(min_value=1, max_value=10 * 24)),  # hours; the worker then runs
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, min_size=1, max_size=12))
def test_random_walks_through_the_api_never_reach_an_illegal_state(agent, db, steps):
    clock.freeze(FROZEN_AT)
    t = create_ticket(agent)
    key, first_response = t["key"], None
    for kind, arg in steps:
        before = get_ticket(agent, key)
        if kind == "status":
            r = agent.patch(f"/api/v1/tickets/{key}", json={"status": arg})
            allowed = sm.allowed(before["status"], solved_at=_ts(before["solved_at"]))
            legal = arg == before["status"] or arg in allowed
            if legal:
                assert r.status_code == 200, r.text
                assert r.json()["status"] == arg
            else:
                assert r.status_code == 409, r.text
                assert r.json()["allowed"] == allowed
                assert get_ticket(agent, key)["version"] == before["version"]
        elif kind == "reply":
            body = {"body": f"{arg} says hello", "public": arg != "note",
                    "author_type": "customer" if arg == "customer" else "agent"}
            r = agent.post(f"/api/v1/tickets/{key}/messages", json=body)
            if before["status"] == "closed" and arg != "customer":
                assert r.status_code == 409
            else:
                assert r.status_code == 201, r.text
            if before["status"] == "closed" and arg == "customer":
                follow_up = get_ticket(agent, r.json()["ticket_key"])
                assert follow_up["follow_up_of_id"] == before["id"] and follow_up["status"] == "new"
            elif arg == "agent" and first_response is None and before["status"] != "closed":
                first_response = clock.now()
            if arg == "customer" and before["status"] in ("pending_customer", "solved"):
                assert get_ticket(agent, key)["status"] == "open"
        else:
            clock.advance(timedelta(hours=arg))
            jobs.run_until_idle(db)
        after = get_ticket(agent, key)
        _assert_consistent(after["status"], _ts(after["solved_at"]), _ts(after["closed_at"]))
        assert before["status"] != "closed" or after == before, "closed is final"
        assert _ts(after["first_response_at"]) == first_response
        if after["status"] == "solved":
            assert clock.now() < _ts(after["solved_at"]) + WINDOW, "the auto-close job missed a solved ticket"
        assert _ts(after["created_at"]) <= _ts(after["updated_at"]) <= clock.now()
