"""The aggregate reads other domains use (tickets/reads.py, through tickets.service), against real rows:
tickets made through the API by the `agent` fixture (a factory user), on a frozen clock. Each read is one
SQL statement, whatever the number of tickets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from tests.tickets.conftest import create_ticket, patch_ticket, post_message
from tierline.platform import clock
from tierline.problems.models import Problem, ProblemTicket
from tierline.sla.models import SlaClock
from tierline.tickets import service as tickets_service

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # the suite's frozen "now"
Q4 = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


@contextmanager
def statements(db) -> Iterator[list[str]]:
    """The SQL statements run on the database inside the block (not SQLite's BEGIN of the transaction)."""
    seen: list[str] = []

    def _count(conn, cursor, statement, params, context, executemany) -> None:
        if not statement.startswith("BEGIN"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", _count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", _count)


def statements_per_page(db, api, path: str, limits: tuple[int, int], **params) -> list[int]:
    """The statements each of two page sizes of a list costs. Both pages have a next one (the cursor costs the
    same); a first request beforehand takes the token's and the caches' first reads out of the count."""
    api.get(path, params={**params, "limit": 1})
    counts = []
    for limit in limits:
        with statements(db) as seen:
            r = api.get(path, params={**params, "limit": limit})
        assert r.status_code == 200 and len(r.json()["items"]) == limit, r.text
        counts.append(len(seen))
    return counts


def read(db, fn: Callable[..., Any], **kwargs: Any) -> tuple[Any, int]:
    """(what the read returns, how many statements it ran), in a read-only session."""
    with db.session(write=False) as session, statements(db) as seen:
        return fn(session, **kwargs), len(seen)


def created_at(api, at: datetime, **fields: Any) -> dict:
    with clock.frozen(at):
        return create_ticket(api, **fields)


# -- finished_texts -------------------------------------------------------------------------------------

def test_finished_texts_are_finished_tickets_with_the_field_set_newest_first(db, agent, make_component):
    component = make_component()
    solved = create_ticket(agent, subject="Invoice twice", description="Charged twice.", priority="P2",
                           component_id=component["id"])
    closed = create_ticket(agent, subject="Export fails", description="E42 at night.", priority="P1")
    create_ticket(agent, subject="Still open", description="Not finished.", priority="P3")
    newest = create_ticket(agent, subject="Slow page", description="40 seconds.", priority="P4")
    for t in (solved, closed, newest):
        patch_ticket(agent, t["key"], status="solved")
    patch_ticket(agent, closed["key"], status="closed")

    rows, queries = read(db, tickets_service.finished_texts, label_field="priority", limit=10)
    assert [tuple(r) for r in rows] == [("Slow page", "40 seconds.", "P4"),
                                        ("Export fails", "E42 at night.", "P1"),
                                        ("Invoice twice", "Charged twice.", "P2")]
    assert queries == 1

    rows, _ = read(db, tickets_service.finished_texts, label_field="component_id", limit=10)
    assert [tuple(r) for r in rows] == [("Invoice twice", "Charged twice.", component["id"])]  # as stored

    rows, _ = read(db, tickets_service.finished_texts, label_field="priority", limit=2)
    assert [r.subject for r in rows] == ["Slow page", "Export fails"]


def test_finished_texts_take_only_the_label_fields(db):
    with db.session(write=False) as session, pytest.raises(ValueError, match="label_field"):
        tickets_service.finished_texts(session, label_field="requester_email", limit=10)


# -- created_between and join_created_between -----------------------------------------------------------

def test_created_between_reads_the_period_half_open_and_the_team_by_id(db, agent, make_team):
    team = make_team()
    start, end = Q4
    before = created_at(agent, start - timedelta(seconds=1), priority="P1")
    first = created_at(agent, start, priority="P2")
    of_team = created_at(agent, datetime(2026, 11, 2, 9, 0, tzinfo=UTC), priority="P3", team_id=team["id"])
    with clock.frozen(datetime(2026, 11, 2, 9, 6, tzinfo=UTC)):
        post_message(agent, of_team["key"], body="Looking into it.")
    with clock.frozen(datetime(2026, 11, 3, 9, 50, tzinfo=UTC)):
        patch_ticket(agent, of_team["key"], status="solved")
    created_at(agent, end, priority="P4")
    assert before["id"] < first["id"]

    rows, queries = read(db, tickets_service.created_between, start=start, end=end)
    assert [(r.id, r.priority) for r in rows] == [(first["id"], "P2"), (of_team["id"], "P3")]
    assert queries == 1
    [team_row], _ = read(db, tickets_service.created_between, start=start, end=end, team_id=team["id"])
    assert tuple(team_row) == (of_team["id"], "P3", datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
                               datetime(2026, 11, 2, 9, 6, tzinfo=UTC),
                               datetime(2026, 11, 3, 9, 50, tzinfo=UTC))
    rows, _ = read(db, tickets_service.created_between, start=start, end=end, team_id=team["id"] + 1)
    assert rows == []


@pytest.fixture
def policy(admin):
    r = admin.post("/api/v1/sla/policies", json={
        "name": "Standard", "position": 10,
        "targets": [{"metric": "resolution", "priority": p, "minutes": 480}
                    for p in ("P1", "P2", "P3", "P4")]})
    assert r.status_code == 201, r.text
    return r.json()


def test_join_created_between_narrows_another_domains_rows_to_the_tickets_of_the_period(db, agent, make_team,
                                                                                       policy):
    team = make_team()
    start, end = Q4
    keys = {}
    for name, at, team_id in (("before", start - timedelta(hours=1), team["id"]), ("in", start, None),
                              ("in_team", start + timedelta(days=3), team["id"]), ("after", end, team["id"])):
        keys[name] = created_at(agent, at, team_id=team_id)
        with clock.frozen(at + timedelta(hours=2)):
            patch_ticket(agent, keys[name]["key"], status="solved")
    resolution = select(SlaClock).where(SlaClock.metric == "resolution", SlaClock.final_minutes.is_not(None))

    def clocks(session, **narrow: Any) -> list[int]:
        stmt = tickets_service.join_created_between(resolution, SlaClock.ticket_id, **narrow)
        return sorted(c.ticket_id for c in session.scalars(stmt))

    every, _ = read(db, lambda s: sorted(c.ticket_id for c in s.scalars(resolution)))
    assert every == sorted(t["id"] for t in keys.values())  # each solved ticket has a finished clock
    ids, queries = read(db, clocks, start=start, end=end)
    assert ids == [keys["in"]["id"], keys["in_team"]["id"]] and queries == 1
    ids, _ = read(db, clocks, start=start, end=end, team_id=team["id"])
    assert ids == [keys["in_team"]["id"]]


# -- signature windows ----------------------------------------------------------------------------------

SIGNATURE = "DB-1042|c:-"  # error code DB-1042, no component


@pytest.fixture
def window(db, agent, make_customer) -> dict[str, Any]:
    """Tickets with one signature: three inside the window from two customers and one without, one older
    than the window, one linked to a problem; and one with another signature. Below the recurrence
    thresholds (5 tickets, 3 customers), so intake opens no problem of its own."""
    acme = make_customer(name="Acme", external_id="acme")
    globex = make_customer(name="Globex", external_id="globex")
    since = T0 - timedelta(days=7)

    def make(at: datetime, customer: dict | None, code: str = "DB-1042") -> dict:
        return created_at(agent, at, error_code=code, customer_id=customer["id"] if customer else None)

    out = {
        "old": make(since - timedelta(seconds=1), acme),
        "first": make(since, acme),
        "second": make(T0 - timedelta(days=2), globex),
        "linked": make(T0 - timedelta(days=1), globex),
        "other": make(T0 - timedelta(hours=2), acme, code="NET-7"),
        "no_customer": make(T0 - timedelta(hours=1), None),
        "since": since, "acme": acme["id"], "globex": globex["id"],
    }
    with db.unit_of_work() as s:
        problem = Problem(title="Replica lag", signature=SIGNATURE, status="open", first_seen=T0,
                          last_seen=T0, created_at=T0, updated_at=T0)
        s.add(problem)
        s.flush()
        s.add(ProblemTicket(problem_id=problem.id, ticket_id=out["linked"]["id"], customer_id=globex["id"],
                            created_at=T0))
    with db.session(write=False) as s:
        assert tickets_service.get(s, ticket_id=out["first"]["id"]).signature == SIGNATURE
        assert len(s.scalars(select(Problem.id)).all()) == 1  # intake opened none
    return out


def test_signature_window_counts_leave_out_old_linked_and_other_tickets(db, window):
    (count, customers), queries = read(db, tickets_service.signature_window_counts, signature=SIGNATURE,
                                       since=window["since"], excluding_ids_in=ProblemTicket.ticket_id)
    assert (count, customers) == (3, 2) and queries == 1
    (count, customers), _ = read(db, tickets_service.signature_window_counts, signature="NET-7|c:-",
                                 since=window["since"], excluding_ids_in=ProblemTicket.ticket_id)
    assert (count, customers) == (1, 1)


def test_signature_window_tickets_are_the_counted_ones_oldest_first(db, window):
    rows, queries = read(db, tickets_service.signature_window_tickets, signature=SIGNATURE,
                         since=window["since"], excluding_ids_in=ProblemTicket.ticket_id)
    assert queries == 1
    assert [(r.id, r.customer_id, r.created_at) for r in rows] == [
        (window["first"]["id"], window["acme"], window["since"]),
        (window["second"]["id"], window["globex"], T0 - timedelta(days=2)),
        (window["no_customer"]["id"], None, T0 - timedelta(hours=1)),
    ]
    assert rows[0]._fields == ("id", "customer_id", "subject", "impact_score", "created_at")
    assert {r.subject for r in rows} == {"Cannot log in"}


def test_signature_window_others_leave_out_the_ticket_itself(db, window):
    kwargs = {"signature": SIGNATURE, "since": window["since"], "excluding_ids_in": ProblemTicket.ticket_id}
    (count, customers), queries = read(db, tickets_service.signature_window_others, other_than=None, **kwargs)
    assert (count, customers) == (3, {window["acme"], window["globex"]}) and queries == 2
    (count, customers), _ = read(db, tickets_service.signature_window_others,
                                 other_than=window["second"]["id"], **kwargs)
    assert (count, customers) == (2, {window["acme"]})
