"""Sweeps: registered scans of rows that are due by their own columns, run by every worker round, one item per
transaction; a failing item rolls back alone and is handed to its sweep's `failed`, the others go on."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tierline.platform import clock, jobs, outbox
from tierline.platform.db import READ_ONLY
from tierline.platform.outbox import OutboxMessage


@pytest.fixture
def sweeps():
    """Only this test's sweeps are registered while it runs (the domains' come back afterwards)."""
    saved = dict(jobs.SWEEPS)
    jobs.SWEEPS.clear()
    yield jobs.SWEEPS
    jobs.SWEEPS.clear()
    jobs.SWEEPS.update(saved)


class Items:
    """A toy sweep over in-memory items: each item publishes an outbox row when it runs, `bad` ones raise after
    publishing, and a failed item is held back until `held[key]`."""

    def __init__(self, name: str, keys: list[int], bad: set[int] = frozenset(), log: list | None = None) -> None:
        self.name, self.pending, self.bad = name, list(keys), set(bad)
        self.log = log if log is not None else []
        self.held: dict[int, object] = {}
        self.failures: list[tuple[int, str]] = []
        self.listed_in_read_session: list[bool] = []

    def due(self, session, now, limit):
        self.listed_in_read_session.append(bool(session.info.get(READ_ONLY)))
        return [k for k in self.pending if self.held.get(k, now) <= now][:limit]

    def run(self, session, key, now):
        outbox.publish(session, "test.swept", {"sweep": self.name, "key": key})
        session.flush()
        if key in self.bad:
            raise RuntimeError(f"item {key} is broken")
        self.pending.remove(key)
        self.log.append((self.name, key))
        return True

    def failed(self, session, key, error, now):
        self.failures.append((key, error))
        self.held[key] = now + jobs.retry_delay(len([k for k, _ in self.failures if k == key]))

    def register(self) -> Items:
        jobs.register_sweep(jobs.Sweep(self.name, due=self.due, run=self.run, failed=self.failed))
        return self


def _swept(db) -> list[int]:
    with db.session(write=False) as s:
        return sorted(m.payload["key"] for m in s.scalars(select(OutboxMessage).where(
            OutboxMessage.topic == "test.swept")))


def test_each_item_runs_in_its_own_transaction_and_a_failing_one_rolls_back_alone(db, sweeps):
    items = Items("test.items", [1, 2, 3], bad={2}).register()
    assert jobs.run_sweeps(db) == 2
    assert _swept(db) == [1, 3]  # item 2's outbox row went with its transaction
    assert [(k, "item 2 is broken" in e) for k, e in items.failures] == [(2, True)]
    assert items.listed_in_read_session == [True]  # listing due items takes no write lock


def test_a_failed_item_waits_its_interval_then_is_tried_again(db, sweeps):
    items = Items("test.items", [7], bad={7}).register()
    assert jobs.run_until_idle(db) == 0
    assert len(items.failures) == 1  # not retried in a loop
    clock.advance(timedelta(seconds=15))
    jobs.run_until_idle(db)
    assert len(items.failures) == 2
    items.bad.clear()
    clock.advance(timedelta(seconds=30))
    assert jobs.run_until_idle(db) == 1 and _swept(db) == [7]


def test_sweeps_run_in_the_order_they_were_registered_until_idle(db, sweeps):
    log: list = []
    Items("test.first", list(range(30)), log=log).register()
    Items("test.second", [100], log=log).register()
    assert jobs.run_until_idle(db) == 31
    assert log[:21] == [("test.first", k) for k in range(20)] + [("test.second", 100)]  # 20 a round each
    assert jobs.run_until_idle(db) == 0


def test_registering_a_sweep_again_replaces_it_in_place(sweeps):
    a = Items("test.a", []).register()
    Items("test.b", []).register()
    again = Items("test.a", []).register()
    assert list(jobs.SWEEPS) == ["test.a", "test.b"]
    assert jobs.SWEEPS["test.a"].due == again.due and jobs.SWEEPS["test.a"].due != a.due


def test_a_failure_that_cannot_be_recorded_is_logged_and_the_item_listed_again(db, sweeps):
    items = Items("test.items", [5], bad={5}).register()

    def cannot_record(session, key, error, now):
        raise RuntimeError("the database went away")

    jobs.register_sweep(jobs.Sweep("test.items", due=items.due, run=items.run, failed=cannot_record))
    assert jobs.run_sweeps(db) == 0
    items.bad.clear()
    assert jobs.run_sweeps(db) == 1


def test_a_worker_round_runs_due_jobs_and_every_sweep(db, sweeps):
    ran: list = []
    saved = dict(jobs.HANDLERS)
    jobs.handler("test.job")(lambda session, payload: ran.append(payload))
    try:
        with db.unit_of_work() as session:
            jobs.enqueue(session, "test.job", {"n": 1})
        Items("test.items", [1, 2]).register()
        worker = jobs.Worker(db)
        assert worker.run_round() == 3
        assert ran == [{"n": 1}] and _swept(db) == [1, 2]
        assert worker.run_round() == 0
    finally:
        jobs.HANDLERS.clear()
        jobs.HANDLERS.update(saved)


def test_a_sweep_that_cannot_list_does_not_stop_the_other_sweeps_or_the_jobs(db, sweeps):
    def broken(session, now, limit):
        raise RuntimeError("no such index")

    jobs.register_sweep(jobs.Sweep("test.broken", due=broken, run=lambda *a: True, failed=lambda *a: None))
    Items("test.items", [1]).register()
    ran: list = []
    saved = dict(jobs.HANDLERS)
    jobs.handler("test.job")(lambda session, payload: ran.append(payload))
    try:
        with db.unit_of_work() as session:
            jobs.enqueue(session, "test.job", {"n": 1})
        assert jobs.Worker(db).run_round() == 2 and ran == [{"n": 1}] and _swept(db) == [1]
    finally:
        jobs.HANDLERS.clear()
        jobs.HANDLERS.update(saved)


def test_retry_intervals_double_from_15_seconds_up_to_an_hour():
    assert [jobs.retry_delay(n).total_seconds() for n in (1, 2, 3, 8, 9, 30)] == [15, 30, 60, 1920, 3600, 3600]
