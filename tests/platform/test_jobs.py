"""Durable jobs: due rows run once, failures retry with backoff, dead workers' jobs are reclaimed, and
concurrent workers never run the same job."""

from __future__ import annotations

import os
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from tierline.platform import clock, jobs, outbox
from tierline.platform.jobs import Job
from tierline.platform.outbox import OutboxMessage

IS_POSTGRES = os.environ.get("TIERLINE_TEST_DATABASE_URL", "").startswith("postgresql")


@pytest.fixture
def ran():  # noqa: ANN201
    """Registers test job kinds for one test; `ran` collects the payloads they saw."""
    saved = dict(jobs.HANDLERS)
    seen: list[dict] = []
    lock = threading.Lock()

    @jobs.handler("test.ok")
    def _ok(session, payload):  # noqa: ANN001, ANN202
        outbox.publish(session, "test.ran", payload)
        with lock:
            seen.append(payload)

    @jobs.handler("test.fails")
    def _fails(session, payload):  # noqa: ANN001, ANN202
        outbox.publish(session, "test.half_done", payload)
        session.flush()
        raise RuntimeError("the downstream service is down")

    @jobs.handler("test.recurring")
    def _recurring(session, payload):  # noqa: ANN001, ANN202
        with lock:
            seen.append(payload)
        jobs.enqueue(session, "test.recurring", {"round": payload["round"] + 1},
                     due_at=clock.now() + timedelta(hours=1), dedupe_key="recurring")

    yield seen
    jobs.HANDLERS.clear()
    jobs.HANDLERS.update(saved)


def _enqueue(db, kind, payload=None, **kw):  # noqa: ANN001, ANN003, ANN202
    with db.unit_of_work() as session:
        jobs.enqueue(session, kind, payload or {}, **kw)


def _jobs(db):  # noqa: ANN001, ANN202
    with db.session(write=False) as session:
        return list(session.scalars(select(Job).order_by(Job.id)))


def test_a_due_job_runs_once_and_its_effects_commit_with_it(db, ran, factory):
    _enqueue(db, "test.ok", {"ticket": "T-1"})
    assert jobs.run_due(db) == 1
    assert ran == [{"ticket": "T-1"}]
    (job,) = _jobs(db)
    assert (job.status, job.attempts, job.locked_by) == ("done", 1, None)
    assert job.finished_at == clock.now()
    assert factory.count(OutboxMessage) == 1
    assert jobs.run_due(db) == 0
    assert len(ran) == 1


def test_a_job_due_later_waits_for_its_time(db, ran):
    _enqueue(db, "test.ok", due_at=clock.now() + timedelta(minutes=10))
    assert jobs.run_due(db) == 0
    clock.advance(timedelta(minutes=10))
    assert jobs.run_due(db) == 1


def test_a_failing_job_is_retried_with_growing_backoff_then_given_up(db, ran, factory):
    _enqueue(db, "test.fails", max_attempts=3)
    start = clock.now()
    assert jobs.run_due(db) == 0
    (job,) = _jobs(db)
    assert (job.status, job.attempts) == ("pending", 1)
    assert job.due_at == start + timedelta(seconds=15)
    assert "downstream service is down" in job.last_error
    assert factory.count(OutboxMessage) == 0  # the failed attempt's effects were rolled back

    clock.advance(timedelta(seconds=14))
    jobs.run_due(db)
    assert _jobs(db)[0].attempts == 1  # not due yet
    clock.advance(timedelta(seconds=1))
    jobs.run_due(db)
    (job,) = _jobs(db)
    assert (job.status, job.attempts) == ("pending", 2)
    assert job.due_at == clock.now() + timedelta(seconds=30)

    clock.advance(timedelta(seconds=30))
    jobs.run_due(db)
    (job,) = _jobs(db)
    assert (job.status, job.attempts) == ("failed", 3)
    assert job.finished_at == clock.now()
    clock.advance(timedelta(days=1))
    assert jobs.run_due(db) == 0 and _jobs(db)[0].attempts == 3


def test_a_failing_job_does_not_stop_the_others(db, ran):
    _enqueue(db, "test.fails")
    _enqueue(db, "no.such.kind")
    _enqueue(db, "test.ok", {"n": 1})
    assert jobs.run_due(db) == 1
    statuses = {j.kind: (j.status, j.last_error) for j in _jobs(db)}
    assert statuses["test.ok"][0] == "done"
    assert statuses["no.such.kind"][0] == "pending" and "no handler" in statuses["no.such.kind"][1]


def test_enqueueing_with_a_dedupe_key_reschedules_the_existing_job(db, ran):
    _enqueue(db, "test.ok", {"v": 1}, due_at=clock.now() + timedelta(hours=1), dedupe_key="sla:T-1")
    _enqueue(db, "test.ok", {"v": 2}, due_at=clock.now() + timedelta(hours=2), dedupe_key="sla:T-1")
    (job,) = _jobs(db)
    assert job.payload == {"v": 2} and job.due_at == clock.now() + timedelta(hours=2)
    clock.advance(timedelta(hours=2))
    assert jobs.run_due(db) == 1 and ran == [{"v": 2}]
    # A finished job gave its key back (it stays as history); that key schedules a new job.
    _enqueue(db, "test.ok", {"v": 3}, dedupe_key="sla:T-1")
    done, job = _jobs(db)
    assert (done.status, done.dedupe_key) == ("done", None)
    assert (job.status, job.attempts, job.dedupe_key) == ("pending", 0, "sla:T-1")
    assert jobs.run_due(db) == 1 and ran[-1] == {"v": 3}


def test_a_finished_job_s_key_never_blocks_a_fresh_job(db, ran):
    """Issue 12, finding 1: on SQLite a deleted row's id is given again, and a finished timer whose key was
    derived from it made every later intake answer 500 (UNIQUE constraint failed: jobs.dedupe_key)."""
    _enqueue(db, "test.ok", {"v": 1}, dedupe_key="sla.breach:7067")
    assert jobs.run_due(db) == 1
    with db.unit_of_work() as session:
        jobs.enqueue(session, "test.ok", {"v": 2}, dedupe_key="sla.breach:7067", fresh=True)
    assert jobs.run_due(db) == 1 and ran == [{"v": 1}, {"v": 2}]


def test_cancelling_a_pending_job_by_its_dedupe_key_stops_it(db, ran):
    _enqueue(db, "test.ok", dedupe_key="close:T-9", due_at=clock.now() + timedelta(days=7))
    with db.unit_of_work() as session:
        jobs.cancel(session, "close:T-9")
    clock.advance(timedelta(days=8))
    assert jobs.run_due(db) == 0 and ran == []


def test_a_job_whose_worker_died_is_reclaimed_after_its_lock_expires(db, ran):
    _enqueue(db, "test.ok", {"n": 1})
    with db.unit_of_work() as session:
        assert len(jobs.claim(session, "dead-worker", lock_seconds=60)) == 1
    # The worker died before running it: nobody may take it while its lock holds.
    assert jobs.run_due(db, worker_id="live-worker") == 0
    clock.advance(timedelta(seconds=61))
    assert jobs.run_due(db, worker_id="live-worker") == 1
    (job,) = _jobs(db)
    assert (job.status, job.attempts) == ("done", 2)
    assert ran == [{"n": 1}]


def test_run_until_idle_runs_everything_due(db, ran):
    for n in range(45):
        _enqueue(db, "test.ok", {"n": n})
    assert jobs.run_until_idle(db) == 45
    assert sorted(p["n"] for p in ran) == list(range(45))


@pytest.mark.committing
@pytest.mark.skipif(not IS_POSTGRES, reason="FOR UPDATE SKIP LOCKED is PostgreSQL's")
def test_a_worker_skips_jobs_another_worker_holds(db, ran):
    for n in range(6):
        _enqueue(db, "test.ok", {"n": n})
    first, second = db.session(), db.session()
    try:
        mine = jobs.claim(first, "w1", limit=4)  # rows locked until `first` commits
        theirs = jobs.claim(second, "w2", limit=10)
        assert len(mine) == 4 and len(theirs) == 2
        assert not set(mine) & set(theirs)
        first.commit()
        second.commit()
    finally:
        first.close()
        second.close()


@pytest.mark.committing
def test_concurrent_workers_never_run_the_same_job(db, ran):
    total, workers_n = 40, 4
    for n in range(total):
        _enqueue(db, "test.ok", {"n": n})
    barrier = threading.Barrier(workers_n)
    failures: list[BaseException] = []

    def work(i: int) -> None:
        try:
            barrier.wait()
            for _ in range(total):
                if jobs.run_due(db, worker_id=f"w{i}", limit=3) == 0 and not _pending(db):
                    return
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(workers_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures
    assert sorted(p["n"] for p in ran) == list(range(total))  # each exactly once
    assert all(j.status == "done" and j.attempts == 1 for j in _jobs(db))


def _pending(db) -> bool:  # noqa: ANN001
    with db.session(write=False) as session:
        return session.scalar(select(Job.id).where(Job.status != "done").limit(1)) is not None


def test_a_job_that_reschedules_itself_runs_again_later(db, ran):
    _enqueue(db, "test.recurring", {"round": 1}, dedupe_key="recurring")
    assert jobs.run_due(db) == 1
    (job,) = _jobs(db)
    assert (job.status, job.payload) == ("pending", {"round": 2})
    assert job.due_at == clock.now() + timedelta(hours=1)
    clock.advance(timedelta(hours=1))
    assert jobs.run_due(db) == 1
    assert [p["round"] for p in ran] == [1, 2]


@pytest.mark.committing
@pytest.mark.skipif(not IS_POSTGRES, reason="on SQLite a running job holds the write lock, so nothing interleaves")
def test_a_job_rescheduled_by_another_transaction_while_it_runs_runs_again(db, ran):
    import time

    rescheduler: list[threading.Thread] = []

    def reschedule() -> None:
        _enqueue(db, "test.ok", {"v": 2}, due_at=clock.now() + timedelta(minutes=5), dedupe_key="sla:T-7")

    @jobs.handler("test.slow")
    def _slow(session, payload):  # noqa: ANN001, ANN202
        thread = threading.Thread(target=reschedule)
        rescheduler.append(thread)
        thread.start()
        time.sleep(0.3)  # the request rescheduling the job commits (or waits) meanwhile

    _enqueue(db, "test.slow", {"v": 1}, dedupe_key="sla:T-7")
    assert jobs.run_due(db) == 1
    rescheduler[0].join()
    # The finished run gave its key back, so the reschedule is a job of its own (not lost under DONE).
    (job,) = [j for j in _jobs(db) if j.status != "done"]
    assert (job.kind, job.status, job.payload) == ("test.ok", "pending", {"v": 2})
    clock.advance(timedelta(minutes=5))
    assert jobs.run_due(db) == 1 and ran == [{"v": 2}]
