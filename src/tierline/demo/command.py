"""`tierline demo`: load the demo once (then train and activate its classifiers), and on every run hand out a
fresh admin login and API token."""

from __future__ import annotations

import secrets
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import tierline.jobs_registry  # noqa: F401  (the timers the demo runs)
from tierline.demo import architecture as arch
from tierline.demo.generator import generate
from tierline.demo.loader import DEMO, Loader, ProgressFn, counts, loaded_marker, write_marker
from tierline.platform import clock, jobs
from tierline.platform.auth import service as auth_service
from tierline.platform.db import Database
from tierline.platform.errors import DomainError

TOKEN_DAYS = 30
# The classifiers the demo trains on its own finished tickets and activates, so intake shows predictions: the
# queue a ticket like this ended up in, and its component (filled in when a ticket arrives without one).
CLASSIFIER_TARGETS = ("queue", "component")
AT_RISK_MINUTES = 240  # the summary's "at risk" horizon


class DemoError(Exception):
    """Why the demo cannot run (shown to the operator as is)."""


def check_migrated(database: Database) -> None:
    """Refuse to load into a database that `tierline migrate` has not brought to the code's schema."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from tierline.platform.migrate import alembic_config

    heads = set(ScriptDirectory.from_config(alembic_config(database.url)).get_heads())
    with database.engine.connect() as conn:
        current = set(MigrationContext.configure(conn).get_current_heads())
    if current != heads:
        where = ", ".join(sorted(current)) or "no schema"
        raise DemoError(f"the database is at {where}, the code expects {', '.join(sorted(heads))}: "
                        "run `tierline migrate` first")


@dataclass
class ClassifierResult:
    target: str
    version: int | None  # None: not trained (`error` says why)
    metrics: dict[str, Any] = field(default_factory=dict)  # the holdout scores `classifier.fit` measured
    n_samples: int = 0
    labels: int = 0
    error: str | None = None


@dataclass
class DemoResult:
    loaded: bool  # False: an earlier run's data was found and nothing was added
    marker: dict[str, Any]
    counts: dict[str, int]
    seconds: float
    skipped_events: list[str] = field(default_factory=list)
    misrouted: list[str] = field(default_factory=list)
    assigned_at_intake: tuple[int, int] = (0, 0)  # (found an agent at intake, of the tickets loaded)
    classifiers: list[ClassifierResult] = field(default_factory=list)
    # What the worker's part did during the history (warnings, breaches, jobs; failed), and problem steps.
    settled: dict[str, int] = field(default_factory=dict)
    problem_steps: int = 0


@dataclass
class Credentials:
    email: str
    password: str
    token: str


def load(database: Database, *, customers: int, tickets: int, seed: int,
         progress: ProgressFn | None = None) -> DemoResult:
    """Load the demo unless an earlier run did; one transaction either way."""
    started = time.perf_counter()  # a duration for the report, not a timestamp
    with database.unit_of_work() as session:
        marker = loaded_marker(session)
        if marker is not None:
            return DemoResult(False, marker, counts(session), time.perf_counter() - started)
        plan = generate(seed=seed, customers=customers, tickets=tickets, now=clock.now())
        stats = Loader(session, plan, progress).load()
        marker = {"seed": seed, "customers": customers, "tickets": tickets, "loaded_at": plan.now.isoformat()}
        write_marker(session, marker)
        loaded = counts(session)
    # The loader settled the history up to the plan's "now" as a worker would have; what fell due in the
    # seconds the load took runs here, as the server's worker would run it.
    jobs.run_until_idle(database, max_rounds=100)
    classifiers = [train_classifier(database, target=target) for target in CLASSIFIER_TARGETS]
    database.after_bulk_load()  # the server's first requests find the tables as autovacuum would leave them
    return DemoResult(True, marker, loaded, time.perf_counter() - started, stats.skipped_events,
                      stats.misrouted, (stats.assigned_at_intake, stats.created), classifiers, stats.settled,
                      stats.problem_steps)


def train_classifier(database: Database, *, target: str) -> ClassifierResult:
    """`tierline triage train --from-db --target TARGET --activate`, as the demo: fit on the finished tickets
    outside any transaction, then store and activate (audited) in one. Labels too rare to learn from (a tiny
    demo) are left out; a demo too small to train on at all gets no classifier, and says why."""
    from tierline.triage import classifier, training_data

    try:
        with database.session(write=False) as session:
            data = training_data.from_tickets(session, target=target)
        per_label = Counter(data.labels)
        keep = [i for i, label in enumerate(data.labels)
                if per_label[label] >= classifier.MIN_SAMPLES_PER_CLASS]
        trained = classifier.fit([data.texts[i] for i in keep], [data.labels[i] for i in keep])
        with database.unit_of_work() as session:
            row = classifier.store(session, actor=DEMO, target=target, trained=trained,
                                   source=f"demo: {data.source}")
            classifier.activate(session, actor=DEMO, version=row.version)
            version = row.version
    except DomainError as exc:
        return ClassifierResult(target, None, error=exc.detail)
    return ClassifierResult(target, version, trained.metrics, trained.n_samples, len(trained.labels))


def triage_and_sla_figures(database: Database) -> dict[str, int]:
    """What the summary says about triage rules and SLAs: rules, breached tickets, targets falling due."""
    from sqlalchemy import func, select

    from tierline.sla import reports
    from tierline.sla.models import SlaClock
    from tierline.tickets.models import Ticket
    from tierline.triage.models import TriageRule

    with database.session(write=False) as session:
        def count(stmt: Any) -> int:
            return session.scalar(stmt) or 0

        at_risk, cursor = 0, None
        while True:
            items, cursor = reports.at_risk(session, within_minutes=AT_RISK_MINUTES, limit=200, cursor=cursor)
            at_risk += len(items)
            if cursor is None:
                break
        return {
            "rules": count(select(func.count()).select_from(TriageRule)),
            "breached_tickets": count(select(func.count(func.distinct(SlaClock.ticket_id)))
                                      .where(SlaClock.status == "breached")),
            "breached_open": count(select(func.count(func.distinct(SlaClock.ticket_id)))
                                   .join(Ticket, Ticket.id == SlaClock.ticket_id)
                                   .where(SlaClock.status == "breached",
                                          Ticket.status.not_in(("solved", "closed")))),
            "at_risk": at_risk,
        }


def mint_credentials(database: Database) -> Credentials:
    """A fresh password for the demo admin and a fresh API token, both audited."""
    from tierline.people import service as people_service

    password = secrets.token_urlsafe(12)
    with database.unit_of_work() as session:
        admin = auth_service.get_user_by_email(session, email=arch.ADMIN_EMAIL)
        if admin is None:
            raise RuntimeError("the demo admin is missing; was the demo loaded?")
        people_service.update_user(session, actor=DEMO, user_id=admin.id, password=password, active=True)
        _, raw = auth_service.create_token(session, actor=DEMO, user=admin, name="demo token",
                                           expires_at=clock.now() + timedelta(days=TOKEN_DAYS))
    return Credentials(email=arch.ADMIN_EMAIL, password=password, token=raw)


def run(database: Database, *, customers: int, tickets: int, seed: int, console: Console,
        base_url: str) -> DemoResult:
    check_migrated(database)
    columns = (TextColumn("{task.description:<13}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as bar:
        tasks: dict[str, Any] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done, total=total)

        result = load(database, customers=customers, tickets=tickets, seed=seed, progress=progress)
    creds = mint_credentials(database)
    c = result.counts
    summary = (f"{c['tickets']:,} tickets ({c['messages']:,} messages), {c['customers']:,} customers, "
               f"{c['contacts']:,} contacts, {c['users']:,} users, {c['teams']} teams, {c['components']} "
               f"components, {c['queues']} queues")
    if result.loaded:
        console.print(f"[green]demo loaded[/green] in {result.seconds:.1f}s (seed {seed}): {summary}")
        if result.skipped_events:
            console.print(f"[yellow]{len(result.skipped_events)} planned steps did not apply[/yellow], e.g. "
                          f"{result.skipped_events[0]}")
        if result.misrouted:
            console.print(f"[yellow]{len(result.misrouted)} tickets landed in another queue than planned"
                          f"[/yellow], e.g. {result.misrouted[0]}")
        settled = result.settled
        console.print(f"history settled as a worker would have: {settled.get('warning', 0):,} SLA warnings, "
                      f"{settled.get('breach', 0):,} breaches (with their escalations) and {settled.get('job', 0):,} "
                      f"timers run at their instants; {result.problem_steps} problem steps "
                      "(investigating, known error, fixed, closed)", highlight=False)
        figures = triage_and_sla_figures(database)
        console.print(
            f"triage: {figures['rules']} routing and flagging rules; intake found an agent for "
            f"{result.assigned_at_intake[0]:,} of {result.assigned_at_intake[1]:,} tickets\n"
            f"SLA: {figures['breached_tickets']:,} tickets breached a target ({figures['breached_open']} of "
            f"them still unsolved); {figures['at_risk']} running targets fall due within "
            f"{AT_RISK_MINUTES // 60} hours (GET /api/v1/sla/at-risk)", highlight=False)
        for c in result.classifiers:
            if c.version is None:
                console.print(f"[yellow]classifier ({c.target}) not trained[/yellow]: {c.error}")
            elif c.metrics.get("method") == "holdout":
                console.print(
                    f"classifier: {c.target} model v{c.version} active, accuracy "
                    f"{c.metrics['accuracy']:.2f} (macro-F1 {c.metrics['macro_f1']:.2f}) on a "
                    f"{c.metrics['holdout_share']:.0%} holdout of {c.n_samples:,} finished tickets, "
                    f"{c.labels} labels", highlight=False)
            else:
                console.print(f"classifier: {c.target} model v{c.version} active ({c.n_samples} "
                              f"tickets; not measured: {c.metrics.get('reason')})", highlight=False)
    else:
        m = result.marker
        console.print(f"[cyan]demo already loaded[/cyan] (seed {m.get('seed')}, at {m.get('loaded_at')}); "
                      f"nothing added. The database holds {summary}.")
    base = base_url.rstrip("/")
    console.print(
        "\n[bold]Admin login[/bold] (web console, or POST /api/v1/auth/login); this run set a fresh "
        "password:\n"
        f"  email:    {creds.email}\n  password: {creds.password}\n\n"
        f"[bold]API token[/bold] (the admin's permissions, valid {TOKEN_DAYS} days; shown once):\n"
        f"  {creds.token}\n\n[bold]Try it[/bold] (once `tierline serve` is running):\n"
        f"  export TIERLINE_TOKEN={creds.token}\n"
        f"  curl -s -H \"Authorization: Bearer $TIERLINE_TOKEN\" "
        f"'{base}/api/v1/tickets?status=open&limit=5'\n"
        f"  curl -s -H \"Authorization: Bearer $TIERLINE_TOKEN\" "
        f"'{base}/api/v1/tickets?q=replication&limit=5'\n"
        f"  API docs: {base}/docs",
        highlight=False, soft_wrap=True)
    return result
