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
handler), in the load's transaction. No savepoint per item: the audit chain appends at every commit, a
savepoint's included, and a demo item that raises is a bug in the demo, which fails the load (one transaction:
nothing is left behind).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.flows import jobs as flow_jobs
from tierline.platform import clock, jobs
from tierline.sla import clocks as ck
from tierline.sla import timers as sla_timers
from tierline.sla.models import SlaClock

BATCH = 5  # due items read per look, soonest first (an item that did nothing at its instant is passed over)

# A clock held back after a failure waits for the server's worker.
_RUNNING = (SlaClock.status == ck.ACTIVE, SlaClock.running_since.is_not(None), SlaClock.completed_at.is_(None),
            SlaClock.sweep_retry_at.is_(None))
_EARLIEST = select(
    select(SlaClock.warning_at).where(*_RUNNING, SlaClock.warned_at.is_(None), SlaClock.warning_at.is_not(None))
    .order_by(SlaClock.warning_at).limit(1).scalar_subquery(),
    select(SlaClock.due_at).where(*_RUNNING, SlaClock.due_at.is_not(None))
    .order_by(SlaClock.due_at).limit(1).scalar_subquery(),
    select(jobs.Job.due_at).where(jobs.Job.status == jobs.PENDING).order_by(jobs.Job.due_at).limit(1)
    .scalar_subquery(),
)


class Settler:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.latest: datetime | None = None  # the clock never goes back between items
        self.tried: set[tuple[str, Any, datetime]] = set()  # items that did nothing at that instant
        self.ran = {"warning": 0, "breach": 0, "job": 0}

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
        """The soonest instant anything is due: one statement per loader step, each part the first row of an
        index in order (the sweeps' partial indexes, the jobs' due index)."""
        # Without flushing what the last step left pending: that costs a flush per step, and what it would show
        # (a timer enqueued but not yet flushed) is found by the next step's look, when a service has flushed.
        with self.session.no_autoflush:
            found = [value for value in self.session.execute(_EARLIEST).one() if value is not None]
        return min(clock.as_utc(value) for value in found) if found else None

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
            did = runner(self.session, key, at)
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
