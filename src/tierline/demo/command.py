"""`tierline demo`: load the demo once, and on every run hand out a fresh admin login and API token."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from tierline.demo import architecture as arch
from tierline.demo.generator import generate
import tierline.jobs_registry  # noqa: F401  (the timers the demo runs)
from tierline.demo.loader import DEMO, Loader, ProgressFn, counts, loaded_marker, write_marker
from tierline.platform import clock, jobs
from tierline.platform.auth import service as auth_service
from tierline.platform.db import Database

TOKEN_DAYS = 30


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
class DemoResult:
    loaded: bool  # False: an earlier run's data was found and nothing was added
    marker: dict[str, Any]
    counts: dict[str, int]
    seconds: float
    skipped_events: list[str] = field(default_factory=list)


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
    # Timers that fell due during the simulated history (SLA breaches of still-open tickets, auto-closes)
    # run now, so the demo shows them before the server's worker starts.
    jobs.run_until_idle(database, max_rounds=10_000)
    return DemoResult(True, marker, loaded, time.perf_counter() - started, stats.skipped_events)


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
