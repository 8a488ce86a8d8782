"""What a worker would have done while the demo's history happened: SLA warnings and breaches, and the timers
(auto-close, a fixed problem's announcements), each at its own instant.

The loader replays months of tickets in one transaction with the clock frozen at each step. A worker running
beside that history would have warned, breached and escalated each clock when it fell due, not all at once when
the server starts: so before each step the loader calls `until(step's instant)`, which runs everything due by
then in time order, with the clock frozen at the instant it fell due. A breach is recorded at its due instant
and its `on_breach` action (an escalation to the next tier, its internal note) happens then too; an auto-close
closes the ticket when its reopen window ends. When the history is loaded, nothing is left overdue, so the
server's worker finds no burst of breaches to act on.

Each item runs as the worker runs it (`sla.timers.fire_warning`, `flows.jobs.sla_breach_sweep`, the job's
handler), inside a savepoint standing in for the worker's own transaction: an item that fails rolls back alone
and is held back as the worker would hold it (`sla.timers.hold_back`, a job's next attempt).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from tierline.flows import jobs as flow_jobs
from tierline.platform import clock, jobs
from tierline.sla import clocks as ck
from tierline.sla import timers as sla_timers
from tierline.sla.models import SlaClock

BATCH = 50  # due items read per look, soonest first


class Settler:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.latest: datetime | None = None  # the clock never goes back between items
        self.tried: set[tuple[str, Any, datetime]] = set()  # items that did nothing at that instant
        self.ran = {"warning": 0, "breach": 0, "job": 0, "failed": 0}

    def until(self, at: datetime) -> None:
        """Run every warning, breach and job due at or before `at`, soonest first."""
        while True:
            earliest = self._earliest()
            if earliest is None or earliest > at:
                return
            item = self._next(at)
            if item is None:
                return
            self._run(*item)

    def _earliest(self) -> datetime | None:
        """The soonest instant anything is due: one small query (three index probes) per loader step."""
        # A clock held back after a failure waits for the server's worker.
        running = (SlaClock.status == ck.ACTIVE, SlaClock.running_since.is_not(None),
                   SlaClock.completed_at.is_(None), SlaClock.sweep_retry_at.is_(None))
        parts = union_all(
            select(func.min(SlaClock.warning_at).label("at")).where(
                *running, SlaClock.warned_at.is_(None), SlaClock.warning_at.is_not(None)),
            select(func.min(SlaClock.due_at).label("at")).where(*running),
            select(func.min(jobs.Job.due_at).label("at")).where(jobs.Job.status == jobs.PENDING),
        ).subquery()
        found = self.session.scalar(select(func.min(parts.c.at)))
        return clock.as_utc(found) if found is not None else None

    def _next(self, at: datetime) -> tuple[str, Any, datetime] | None:
        """The soonest due item not already tried at its instant: (kind, key, instant)."""
        s, options = self.session, []
        for clock_id in sla_timers.due_warnings(s, at, BATCH):
            options.append(("warning", clock_id, clock.as_utc(s.get(SlaClock, clock_id).warning_at)))
        for clock_id in sla_timers.due_breaches(s, at, BATCH):
            options.append(("breach", clock_id, clock.as_utc(s.get(SlaClock, clock_id).due_at)))
        due_jobs = s.execute(select(jobs.Job.id, jobs.Job.due_at).where(
            jobs.Job.status == jobs.PENDING, jobs.Job.due_at <= at).order_by(jobs.Job.due_at, jobs.Job.id)
            .limit(BATCH)).all()
        options += [("job", job_id, clock.as_utc(due)) for job_id, due in due_jobs]
        # Warnings before breaches at one instant, as the worker's sweeps are registered.
        order = {"warning": 0, "breach": 1, "job": 2}
        fresh = [o for o in options if o not in self.tried]
        return min(fresh, key=lambda o: (o[2], order[o[0]], o[1])) if fresh else None

    def _run(self, kind: str, key: Any, due: datetime) -> None:
        at = max(due, self.latest) if self.latest is not None else due
        self.latest = at
        runner: Callable[[Session, Any, datetime], bool] = {
            "warning": sla_timers.fire_warning, "breach": flow_jobs.sla_breach_sweep, "job": _run_job}[kind]
        with clock.frozen(at):
            try:
                with self.session.begin_nested():
                    did = runner(self.session, key, at)
            except Exception as exc:  # the worker's own transaction would roll back alone
                self.ran["failed"] += 1
                error = "".join(traceback.format_exception_only(type(exc), exc)).strip()[:4000]
                with self.session.begin_nested():
                    if kind == "job":
                        _job_failed(self.session, key, error, at)
                    else:
                        sla_timers.hold_back(self.session, key, error, at)
                return
        if did:
            self.ran[kind] += 1
        else:
            self.tried.add((kind, key, due))


def _run_job(session: Session, job_id: int, now: datetime) -> bool:
    """`platform.jobs`' run of one job, in the caller's transaction."""
    job = session.get(jobs.Job, job_id)
    if job is None or job.status != jobs.PENDING:
        return False
    handler = jobs.HANDLERS.get(job.kind)
    if handler is None:
        raise LookupError(f"no handler for job kind {job.kind!r}")
    job.status, job.attempts = jobs.RUNNING, job.attempts + 1
    handler(session, dict(job.payload))
    session.flush()
    session.refresh(job)  # the handler may have rescheduled this very job
    if job.status == jobs.RUNNING:
        job.status, job.finished_at, job.dedupe_key = jobs.DONE, now, None
    return True


def _job_failed(session: Session, job_id: int, error: str, now: datetime) -> None:
    job = session.get(jobs.Job, job_id)
    if job is None:
        return
    job.attempts += 1
    job.last_error = error
    if job.attempts >= job.max_attempts:
        job.status, job.finished_at, job.dedupe_key = jobs.FAILED, now, None
    else:
        job.due_at = now + jobs.retry_delay(job.attempts)
