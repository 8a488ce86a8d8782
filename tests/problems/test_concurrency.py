"""Exactly one problem per signature under concurrent intake.

The race that matters: two intakes at N-1 each save their ticket, then count. Without the per-signature lock
each counts N-1 (the other's ticket is not committed yet) and neither creates the problem. With it, the
second waits for the first to commit and its count (a new statement, READ COMMITTED) sees N.
"""

from __future__ import annotations

import os
import random
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from tests.helpers import SYSTEM
from tests.problems.conftest import ARR, World, links, outbox, problems, record, save_ticket
from tierline.platform import clock
from tierline.platform.audit import AuditEvent
from tierline.flows import intake
from tierline.problems import service
from tierline.tickets.schemas import TicketCreate

IS_POSTGRES = os.environ.get("TIERLINE_TEST_DATABASE_URL", "").startswith("postgresql")
pytestmark = pytest.mark.committing  # every test here races intakes on their own connections


def _race(world: World, customers: list[int]) -> list[dict | None]:
    """Each thread saves its ticket, waits until all have saved (uncommitted), then records and commits."""
    barrier = threading.Barrier(len(customers), timeout=20)
    results: list[dict | None] = []

    def intake(customer_index: int) -> None:
        with world.db.unit_of_work() as s:
            ticket = save_ticket(s, customer_id=world.customer_ids[customer_index],
                                 component_id=world.component_id)
            barrier.wait()
            results.append(service.record_ticket(s, actor=SYSTEM, ticket=ticket, customer_arr=None))

    _at_once(intake, [(c,) for c in customers])
    return results


def _replica_lag(world: World, requester_email: str, customer: int) -> TicketCreate:
    """The ticket every intake of these races posts: the same signature (DB-1042 on the world's component)."""
    return TicketCreate(subject="Replica lag", description="The read replica is far behind.",
                        requester_email=requester_email, customer_id=world.customer_ids[customer],
                        component_id=world.component_id, error_code="DB-1042")


def _at_once(target, calls: list[tuple]) -> None:  # noqa: ANN001
    """`target(*args)` for each of `calls`, each on a thread of its own, all started together; fails with what
    any of them raised."""
    errors: list[BaseException] = []

    def run(*args: object) -> None:
        try:
            target(*args)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=args) for args in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []


@pytest.mark.skipif(not IS_POSTGRES, reason="on SQLite a writing transaction holds the database lock, so two "
                                            "intakes never overlap")
def test_two_intakes_at_n_minus_one_cannot_both_miss_the_threshold(world):
    for c in (0, 1, 2):
        record(world.db, customer_id=world.customer_ids[c], component_id=world.component_id)
    results = _race(world, [3, 4])
    assert sorted(r is None for r in results) == [False, True]  # the second one in creates it
    [problem] = problems(world.db)
    assert problem.ticket_count == 5 and problem.customer_count == 5
    assert len(links(world.db, problem.id)) == 5


@pytest.mark.skipif(not IS_POSTGRES, reason="on SQLite a writing transaction holds the database lock, so two "
                                            "intakes never overlap")
def test_two_first_sightings_of_a_signature_at_once_make_one_problem(world, thresholds):
    thresholds(tickets=2, customers=2)
    results = _race(world, [0, 1])  # both insert the signature's row at once: one waits on the other
    assert sorted(r is None for r in results) == [False, True]
    [problem] = problems(world.db)
    assert problem.ticket_count == 2


@pytest.mark.skipif(not IS_POSTGRES, reason="on SQLite a writing transaction holds the database lock, so two "
                                            "intakes never overlap")
def test_many_concurrent_intakes_of_one_signature_make_exactly_one_problem_with_every_ticket(world):
    rng = random.Random(7)
    customers = [rng.randrange(5) for _ in range(8)]
    for _ in range(3):
        _race(world, customers)
    [problem] = problems(world.db)
    assert problem.ticket_count == 24 == len(links(world.db, problem.id))
    assert problem.customer_count == len(set(customers))


def test_concurrent_intakes_on_any_database_make_exactly_one_problem(world):
    """Without a barrier, so it also runs on SQLite (where the writers queue on the database lock)."""

    def intake(c: int) -> None:
        for _ in range(3):
            record(world.db, customer_id=world.customer_ids[c], component_id=world.component_id)

    _at_once(intake, [(c,) for c in range(5)])
    [problem] = problems(world.db)
    assert problem.ticket_count == 15 == len(links(world.db, problem.id))
    # The figures are read from the links, so no interleaving can leave them off by one.
    assert (problem.customer_count, problem.arr_exposure, problem.impact_score) == (5, sum(ARR), 40)
    assert problem.first_seen == problem.last_seen == clock.now()


def _intake_race(world: World, customers: list[int]) -> list[dict | None]:
    """Each thread plans and writes a ticket as POST /api/v1/tickets does, waits until all have written
    (uncommitted), commits, then settles its signature: the intake flow's own path, count after commit."""

    barrier = threading.Barrier(len(customers), timeout=20)
    results: list[dict | None] = []

    def one(i: int, c: int) -> None:
        reads, writes = world.db.session(write=False), world.db.session(write=True)
        try:
            data = _replica_lag(world, f"dba{i}@example.com", c)
            planned = intake.plan(reads, actor=SYSTEM, data=data)
            reads.close()
            written = intake.write(writes, planned)
            barrier.wait()
            writes.commit()
            if intake.settle(reads, writes, written):
                writes.commit()
            results.append(written.problem)
        finally:
            reads.close()
            writes.close()

    _at_once(one, list(enumerate(customers)))
    return results


@pytest.mark.skipif(not IS_POSTGRES, reason="on SQLite a writing transaction holds the database lock, so two "
                                            "intakes never overlap")
def test_two_intakes_at_n_minus_one_both_settle_into_one_problem_after_they_commit(world):
    for c in (0, 1, 2):
        record(world.db, customer_id=world.customer_ids[c], component_id=world.component_id)
    results = _intake_race(world, [3, 4])
    [problem] = problems(world.db)
    assert problem.ticket_count == 5 and problem.customer_count == 5
    assert len(links(world.db, problem.id)) == 5
    # Whichever settles second makes the problem (or links to it) and links the other's ticket too. The first
    # answers without it when it counted before the second committed, with it when both counts saw five: both
    # are right, the timing decides. Never is the threshold missed or a second problem made.
    assert any(r is not None for r in results)
    assert {r["problem_id"] for r in results if r is not None} == {problem.id}


# -- a live problem under a burst: linking locks nothing another intake waits for -----------------------------

ONLY_POSTGRES = pytest.mark.skipif(not IS_POSTGRES, reason="on SQLite a writing transaction holds the database "
                                                           "lock, so two intakes never overlap")


@ONLY_POSTGRES
def test_a_burst_links_to_a_live_problem_without_one_intake_waiting_for_another(world):
    """Every thread links its ticket and then waits, uncommitted, until all have linked: were the problem's row
    locked by a link until COMMIT (as when it stored its figures), the second link would wait for the first's
    COMMIT, which waits at the barrier, and the barrier would break."""
    for c in (0, 1, 2, 0, 1):
        record(world.db, customer_id=world.customer_ids[c], component_id=world.component_id)
    [problem] = problems(world.db)
    rng = random.Random(11)
    burst = [rng.randrange(5) for _ in range(10)]
    results = _intake_race(world, burst)
    [after] = problems(world.db)
    assert after.id == problem.id and after.ticket_count == 15 == len(links(world.db, problem.id))
    customers = {0, 1, 2} | set(burst)
    assert after.customer_count == len(customers)
    assert after.arr_exposure == sum(ARR[c] for c in customers)
    # Each intake's triage record has the figures as of its link: the committed links and its own.
    assert {r["problem_id"] for r in results} == {problem.id}
    assert all(6 <= r["ticket_count"] <= 15 and r["linked"] for r in results)


def _plan_together_then_write(world: World, customers: list[int]) -> list:
    """Each thread plans its ticket (the problem live and fixed when it reads), all at once, then writes and
    commits as the API does."""

    barrier = threading.Barrier(len(customers), timeout=20)
    written: list = []

    def one(i: int, c: int) -> None:
        reads, writes = world.db.session(write=False), world.db.session(write=True)
        try:
            data = _replica_lag(world, f"again{i}@example.com", c)
            planned = intake.plan(reads, actor=SYSTEM, data=data)
            barrier.wait()
            written.append(intake.write(writes, planned))
            writes.commit()
        finally:
            reads.close()
            writes.close()

    _at_once(one, list(enumerate(customers)))
    return written


def _fixed_problem(world: World) -> str:
    for c in (0, 1, 2, 3, 4):
        _, result = record(world.db, customer_id=world.customer_ids[c], component_id=world.component_id)
    key = result["problem_key"]
    with world.db.unit_of_work() as s:
        service.update(s, actor=SYSTEM, key=key, changes={"public_summary": "Replicas keep up again."})
        for status in ("investigating", "known_error", "fixed"):
            service.update(s, actor=SYSTEM, key=key, changes={"status": status})
    return key


@ONLY_POSTGRES
def test_a_burst_after_the_fix_reopens_the_problem_once(world):
    _fixed_problem(world)
    clock.advance(timedelta(hours=1))
    written = _plan_together_then_write(world, [0, 1, 2, 3, 0, 1])
    [problem] = problems(world.db)
    assert (problem.status, problem.regression, problem.fixed_at) == ("open", True, None)
    assert problem.ticket_count == 11 == len(links(world.db, problem.id))
    assert sorted(w.problem["reopened"] for w in written) == [False] * 5 + [True]
    assert [e["reason"] for e in outbox(world.db, "problem.escalated")] == ["threshold", "regression"]
    with world.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent)
                        .where(AuditEvent.action == "problems.regression")) == 1


@ONLY_POSTGRES
def test_a_link_in_flight_holds_off_a_change_of_the_problem_s_status_until_it_commits(world):
    """A change of status (a close among them) takes FOR UPDATE, which conflicts with the link's FOR KEY SHARE:
    with a link uncommitted, a change that may not wait is refused at once; once the link commits, it goes
    through. (Other intakes' links take FOR KEY SHARE too, which does not conflict: see the burst above.)"""

    for c in (0, 1, 2, 3, 4):
        _, result = record(world.db, customer_id=world.customer_ids[c], component_id=world.component_id)
    key = result["problem_key"]
    data = _replica_lag(world, "late@example.com", 0)
    reads, writes = world.db.session(write=False), world.db.session(write=True)
    try:
        written = intake.write(writes, intake.plan(reads, actor=SYSTEM, data=data))
        assert written.problem["linked"] and not written.problem["reopened"]
        with pytest.raises(OperationalError), world.db.unit_of_work() as s:
            s.execute(text("SET LOCAL lock_timeout = '50ms'"))
            service.update(s, actor=SYSTEM, key=key, changes={"status": "investigating"})
        writes.commit()
    finally:
        reads.close()
        writes.close()
    with world.db.unit_of_work() as s:
        assert service.update(s, actor=SYSTEM, key=key, changes={"status": "investigating"}).ticket_count == 6


def _until_a_backend_waits_for_a_lock(world: World) -> None:

    # Autocommit: a transaction would read pg_stat_activity once and see that snapshot on every poll.
    with world.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for _ in range(2000):
            if conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                 "AND datname = current_database()")).scalar():
                return
            threading.Event().wait(0.01)
    raise AssertionError("no backend ever waited for a lock")


@ONLY_POSTGRES
def test_a_link_racing_the_close_is_refused_and_never_lands_on_a_closed_problem(world):
    """The ticket is planned while the problem is live, and its link waits for the close's lock; once the close
    commits, the link finds the problem closed and is refused (the foreign key's check alone, which asks only
    that the row exists, would have let it land)."""

    key = _fixed_problem(world)
    data = _replica_lag(world, "racing@example.com", 0)
    closing = world.db.session(write=True)
    reads, writes = world.db.session(write=False), world.db.session(write=True)
    outcome: list = []
    try:
        service.update(closing, actor=SYSTEM, key=key, changes={"status": "closed"})
        closing.flush()  # the row is locked FOR UPDATE and closed, not yet committed
        planned = intake.plan(reads, actor=SYSTEM, data=data)
        assert planned.sighting.live_problem_id is not None  # it still reads live

        def link() -> None:
            try:
                outcome.append(intake.write(writes, planned))
                writes.commit()
            except BaseException as exc:  # noqa: BLE001 (reported below)
                outcome.append(exc)

        thread = threading.Thread(target=link)
        thread.start()
        _until_a_backend_waits_for_a_lock(world)  # the link, on the close's FOR UPDATE
        closing.commit()
        thread.join(timeout=60)
    finally:
        closing.close()
        reads.close()
        writes.close()
    [written] = outcome
    assert not isinstance(written, BaseException), written
    assert written.problem is None and written.unsettled is not None  # counted afresh by `settle`
    [problem] = problems(world.db)
    assert problem.status == "closed" and problem.ticket_count == 5
    assert written.ticket_id not in {link.ticket_id for link in links(world.db)}
