"""Durable background work, run by `tierline worker`: job rows, and sweeps of rows that are due by their own
columns.

Jobs: rows in `jobs` with a `due_at`. A job's effects and its completion commit in one transaction, so a job
that dies half-way is simply run again later. Workers claim due rows with `FOR UPDATE SKIP LOCKED` on
PostgreSQL, so any number of them can run; on SQLite the write lock serialises claims. Domains register
handlers with `@handler("kind")`; the platform never imports them.

Sweeps: work whose instant a domain row already holds (an SLA clock's `due_at`) needs no job row of its own.
A domain registers a `Sweep` with `register_sweep`; every worker round runs each sweep in registration order:
it lists due items in a read transaction (no lock, so an idle round takes no write lock on SQLite), then runs
each in a write transaction of its own, where the domain locks the item and checks it is still due. A failed
item rolls back alone; the domain then records the attempt and holds the item back for a while (`failed`),
so one bad item is neither retried in a hot loop nor blocks the others.
"""

from __future__ import annotations

import socket
import threading
import traceback
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import Index, Integer, String, Text, delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from tierline.platform import clock
from tierline.platform.audit import jsonable
from tierline.platform.db import Base, BigId, Database, JSONType, UTCDateTime
from tierline.platform.observability import JOBS_RUN

log = structlog.get_logger("tierline.jobs")

PENDING, RUNNING, DONE, FAILED = "pending", "running", "done", "failed"
JobHandler = Callable[[Session, dict[str, Any]], None]
HANDLERS: dict[str, JobHandler] = {}


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(100), nullable=False)
    payload: Mapped[dict] = mapped_column(JSONType, nullable=False)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=5)
    locked_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), nullable=True, unique=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


def handler(kind: str) -> Callable[[JobHandler], JobHandler]:
    def register(fn: JobHandler) -> JobHandler:
        HANDLERS[kind] = fn
        return fn

    return register


def enqueue(session: Session, kind: str, payload: dict[str, Any], *, due_at: datetime | None = None,
            dedupe_key: str | None = None, max_attempts: int = 5, fresh: bool = False) -> None:
    """Schedule a job. With a `dedupe_key`, an existing job of that key is rescheduled instead; `fresh`
    says the caller knows no job has that key yet (a timer of a row created in this transaction), which
    lets the insert join the session's batched flush instead of an upsert round trip."""
    now = clock.now()
    values = dict(kind=kind, payload=jsonable(payload), due_at=due_at or now, status=PENDING, attempts=0,
                  max_attempts=max_attempts, dedupe_key=dedupe_key, created_at=now)
    if dedupe_key is None or fresh:
        session.add(Job(**values))
        return
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table = Job.__table__
    stmt = insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.dedupe_key],
        set_=dict(kind=kind, payload=values["payload"], due_at=values["due_at"], status=PENDING, attempts=0,
                  locked_by=None, locked_until=None, last_error=None, finished_at=None),
    )
    session.execute(stmt)


def cancel(session: Session, dedupe_key: str) -> None:
    """Forget the timer of this key (a running one finishes; it re-checks its subject when it runs). The row
    goes, so the key is free for a `fresh` enqueue later."""
    session.execute(delete(Job).where(Job.dedupe_key == dedupe_key, Job.status != RUNNING)
                    .execution_options(synchronize_session=False))


def claim(session: Session, worker_id: str, *, limit: int = 20, lock_seconds: int = 300) -> list[int]:
    now = clock.now()
    stmt = (
        select(Job)
        .where(or_(
            (Job.status == PENDING) & (Job.due_at <= now),
            (Job.status == RUNNING) & (Job.locked_until < now),  # its worker died
        ))
        .order_by(Job.due_at, Job.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    jobs = list(session.scalars(stmt))
    for job in jobs:
        job.status, job.locked_by = RUNNING, worker_id
        job.locked_until = now + timedelta(seconds=lock_seconds)
        job.attempts += 1
    return [j.id for j in jobs]


def _run_one(db: Database, job_id: int) -> bool:
    session = db.session(write=True)
    try:
        # The row lock makes a concurrent enqueue() of this job's dedupe_key wait for this run to commit, so
        # the rescheduled run is not overwritten by our DONE (PostgreSQL; SQLite's write lock does the same).
        job = session.get(Job, job_id, with_for_update=True)
        if job is None or job.status != RUNNING:
            session.rollback()
            return False
        fn = HANDLERS.get(job.kind)
        if fn is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        fn(session, dict(job.payload))
        session.flush()
        session.refresh(job)  # the handler may have rescheduled this very job (enqueue with its dedupe_key)
        if job.status == RUNNING:
            job.status, job.finished_at, job.locked_by, job.locked_until = DONE, clock.now(), None, None
            job.dedupe_key = None  # a finished job gives its key back: it never blocks a new job of that key
        session.commit()
        JOBS_RUN.labels(job.kind, "done").inc()
        return True
    except Exception as exc:  # a failing job must not stop the worker
        session.rollback()
        _record_failure(db, job_id, exc)
        return False
    finally:
        session.close()


def _record_failure(db: Database, job_id: int, exc: Exception) -> None:
    with db.unit_of_work() as session:
        job = session.get(Job, job_id)
        if job is None:
            return
        job.last_error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
        job.locked_by = job.locked_until = None
        if job.attempts >= job.max_attempts:
            job.status, job.finished_at, job.dedupe_key = FAILED, clock.now(), None
            outcome = "failed"
        else:
            job.status = PENDING
            job.due_at = clock.now() + retry_delay(job.attempts)
            outcome = "retry"
        JOBS_RUN.labels(job.kind, outcome).inc()
        log.warning("job_failed", job_id=job_id, kind=job.kind, attempts=job.attempts, outcome=outcome,
                    error=job.last_error)


def run_due(db: Database, *, worker_id: str | None = None, limit: int = 20, lock_seconds: int = 300) -> int:
    """Claim and run due jobs once; returns how many ran successfully."""
    worker_id = worker_id or default_worker_id()
    with db.unit_of_work() as session:
        ids = claim(session, worker_id, limit=limit, lock_seconds=lock_seconds)
    return sum(1 for job_id in ids if _run_one(db, job_id))


# -- sweeps ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Sweep:
    """Work found by scanning domain rows whose own columns say it is due, instead of a job row per item.

    - `due(session, now, limit)`: keys of at most `limit` items due at `now`, soonest first, leaving out
      items held back after a failure. Runs in a read session; must take no lock and use an index.
    - `run(session, key, now)`: in the item's own write transaction, lock the item if it is still due
      (PostgreSQL: `FOR UPDATE SKIP LOCKED`, so a row another worker holds is skipped, not waited for) and do
      its work; True when it did, False when there was nothing left to do. The platform commits.
    - `failed(session, key, error, now)`: after `run` raised and was rolled back, in a fresh transaction:
      record the attempt and hold the item back (a growing interval) so `due` leaves it out until then.
      Never give the item up: the next sweep after the interval tries it again.
    """

    name: str
    due: Callable[[Session, datetime, int], Sequence[Any]]
    run: Callable[[Session, Any, datetime], bool]
    failed: Callable[[Session, Any, str, datetime], None]


SWEEPS: dict[str, Sweep] = {}


def register_sweep(sweep: Sweep) -> Sweep:
    """Add a sweep to every worker's rounds (a sweep of the same name is replaced in place). Sweeps run in the
    order they were registered: register the one whose items come first in time first."""
    SWEEPS[sweep.name] = sweep
    return sweep


def retry_delay(attempts: int) -> timedelta:
    """How long an item that failed `attempts` times in a row waits: 15 s, doubling, at most an hour (as jobs)."""
    return timedelta(seconds=min(3600, 15 * 2 ** max(0, attempts - 1)))


def _sweep_one(db: Database, sweep: Sweep, key: Any) -> bool:
    session = db.session(write=True)
    try:
        did = bool(sweep.run(session, key, clock.now()))
        session.commit()
    except Exception as exc:  # one failing item must not stop the others
        session.rollback()
        error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
        log.warning("sweep_item_failed", sweep=sweep.name, key=key, error=error)
        JOBS_RUN.labels(sweep.name, "retry").inc()
        try:
            with db.unit_of_work() as retry_session:
                sweep.failed(retry_session, key, error, clock.now())
        except Exception:  # the item is simply listed again on a later round
            log.exception("sweep_failure_not_recorded", sweep=sweep.name, key=key)
        return False
    finally:
        session.close()
    if did:
        JOBS_RUN.labels(sweep.name, "done").inc()
    return did


def run_sweeps(db: Database, *, limit: int = 20) -> int:
    """One round of every registered sweep: up to `limit` due items each, one transaction per item; returns
    how many items did their work."""
    done = 0
    for sweep in list(SWEEPS.values()):
        try:
            with db.session(write=False) as session:
                keys = list(sweep.due(session, clock.now(), limit))
        except Exception:  # a sweep that cannot list does not keep the next ones from running
            log.exception("sweep_listing_failed", sweep=sweep.name)
            continue
        done += sum(1 for key in keys if _sweep_one(db, sweep, key))
    return done


def run_until_idle(db: Database, *, max_rounds: int = 100) -> int:
    """Run every job and sweep item due now, round after round until a round finds nothing (tests and the demo
    use it); returns how many ran."""
    total = 0
    for _ in range(max_rounds):
        ran = run_due(db) + run_sweeps(db)
        total += ran
        if not ran:
            break
    return total


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"


class Worker:
    """A polling loop; `tierline worker` runs one in the foreground, `tierline serve` one in a thread.

    Each round claims due jobs and runs every registered sweep; a round that found work is followed at once by
    another, an idle one waits `poll_seconds` (so a due item waits at most that long)."""

    def __init__(self, db: Database, *, poll_seconds: float = 1.0, lock_seconds: int = 300) -> None:
        self.db, self.poll_seconds, self.lock_seconds = db, poll_seconds, lock_seconds
        self.worker_id = default_worker_id()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_forever(self) -> None:
        log.info("worker_started", worker_id=self.worker_id, handlers=sorted(HANDLERS), sweeps=list(SWEEPS))
        while not self._stop.is_set():
            if not self.run_round():
                self._stop.wait(self.poll_seconds)

    def run_round(self) -> int:
        """Claim and run due jobs, then every sweep; a failure of one part does not skip the other."""
        ran = 0
        try:
            ran += run_due(self.db, worker_id=self.worker_id, lock_seconds=self.lock_seconds)
        except Exception:
            log.exception("worker_round_failed", part="jobs")
        try:
            ran += run_sweeps(self.db)
        except Exception:
            log.exception("worker_round_failed", part="sweeps")
        return ran

    def start_thread(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="tierline-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
