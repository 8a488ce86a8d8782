"""The `tierline` command: operators run and administer Tierline with it."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tierline.capacity.cli import app as capacity_app
from tierline.platform import clock
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.actor import Actor
from tierline.platform.db import get_database
from tierline.settings import get_settings
from tierline.triage.cli import triage_app

app = typer.Typer(help="Tierline: technical-support operations.", no_args_is_help=True, add_completion=False)
user_app = typer.Typer(help="Manage users.", no_args_is_help=True)
token_app = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
docs_app = typer.Typer(help="Render reference documents from the code.", no_args_is_help=True)
app.add_typer(user_app, name="user")
app.add_typer(token_app, name="token")
app.add_typer(audit_app, name="audit")
app.add_typer(docs_app, name="docs")
app.add_typer(capacity_app, name="sla")  # `tierline sla recommend`, where users have always called it
app.add_typer(triage_app, name="triage")

@app.callback()
def _configure() -> None:
    """Logs go to stderr as JSON, so a command's own output (JSON, tokens) can be piped."""
    from tierline.platform.observability import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)


console = Console()
err = Console(stderr=True)
CLI_ACTOR = Actor.system("cli")


@app.command()
def migrate() -> None:
    """Bring the database schema to the latest version (and generate the secret key once)."""
    from tierline.platform.migrate import upgrade

    database = get_database()
    upgrade(database)
    console.print(f"[green]migrated[/green] {database.engine.url.render_as_string(hide_password=True)}")


@app.command()
def serve(host: Annotated[str, typer.Option()] = "127.0.0.1",
          port: Annotated[int, typer.Option()] = 8000,
          workers: Annotated[int, typer.Option(help="HTTP worker processes (PostgreSQL only)")] = 1) -> None:
    """Serve the API (and, on SQLite, run one background worker in-process)."""
    import uvicorn

    settings = get_settings()
    if workers > 1 and settings.database_url.startswith("sqlite"):
        err.print("[red]several HTTP workers need PostgreSQL[/red]")
        raise typer.Exit(2)
    console.print(f"Tierline serving on http://{host}:{port}\n  web console: http://{host}:{port}/\n"
                  f"  API docs:    http://{host}:{port}/docs", highlight=False)
    uvicorn.run("tierline.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=settings.log_level.lower(), access_log=False)


@app.command()
def worker(poll: Annotated[float, typer.Option(help="seconds between polls when idle")] = 1.0) -> None:
    """Run due background jobs until interrupted."""
    import tierline.jobs_registry  # noqa: F401
    from tierline.platform import native_threads
    from tierline.platform.jobs import Worker
    from tierline.platform.observability import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    native_threads.limit_to_one()
    w = Worker(get_database(), poll_seconds=poll, lock_seconds=settings.worker_lock_seconds)
    try:
        w.run_forever()
    except KeyboardInterrupt:
        pass


@app.command()
def demo(customers: Annotated[int, typer.Option(min=0, help="demo customers")] = 150,
         tickets: Annotated[int, typer.Option(min=0, help="demo tickets over the last 180 days")] = 2400,
         seed: Annotated[int, typer.Option(help="same seed, same data")] = 42) -> None:
    """Load a realistic demo organisation (once), then print an admin login and a fresh API token."""
    from tierline.demo.command import DemoError
    from tierline.demo.command import run as run_demo
    from tierline.platform.errors import DomainError

    try:
        run_demo(get_database(), customers=customers, tickets=tickets, seed=seed, console=console,
                 base_url=get_settings().base_url)
    except (DemoError, DomainError) as exc:
        err.print(f"[red]error:[/red] {getattr(exc, 'detail', exc)}")
        raise typer.Exit(2) from exc


@user_app.command("create")
def user_create(
    email: str,
    role: Annotated[list[str], typer.Option("--role", help="repeatable")],
    name: Annotated[str | None, typer.Option()] = None,
    password_stdin: Annotated[bool, typer.Option("--password-stdin", help="read the password from stdin")] = False,
    timezone: Annotated[str, typer.Option()] = "UTC",
) -> None:
    """Create a user with one or more roles."""
    from tierline.platform.errors import DomainError

    password = sys.stdin.readline().rstrip("\n") if password_stdin else None
    try:
        with get_database().unit_of_work() as session:
            user = auth_service.create_user(session, actor=CLI_ACTOR, email=email, name=name or email,
                                            roles=role, password=password, timezone=timezone)
            _create_profile(session, user)
            console.print(f"created user {user.id} {user.email} roles={','.join(user.roles)}")
    except DomainError as exc:
        err.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc


def _create_profile(session, user) -> None:
    """Agents get an agent profile (skills, capacity) beside their identity."""
    try:
        from tierline.people import service as people_service
    except ImportError:  # the people domain is not installed in this build
        return
    people_service.ensure_profile(session, actor=CLI_ACTOR, user=user)


@token_app.command("create")
def token_create(
    email: str,
    scope: Annotated[list[str] | None, typer.Option("--scope", help="repeatable; default: all")] = None,
    expires_in: Annotated[int | None, typer.Option("--expires-in", help="days")] = None,
    name: Annotated[str, typer.Option()] = "cli token",
) -> None:
    """Mint an API token for a user and print it once."""
    from tierline.platform.errors import DomainError

    try:
        with get_database().unit_of_work() as session:
            user = auth_service.get_user_by_email(session, email=email)
            if user is None:
                err.print(f"[red]error:[/red] no user {email}")
                raise typer.Exit(2)
            expires_at = clock.now() + timedelta(days=expires_in) if expires_in else None
            _, raw = auth_service.create_token(session, actor=CLI_ACTOR, user=user, name=name, scopes=scope,
                                               expires_at=expires_at)
    except DomainError as exc:
        err.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc
    print(raw)


@audit_app.command("verify")
def audit_verify() -> None:
    """Exit 0 when the audit chain is intact, 1 naming the first broken event otherwise."""
    from tierline.platform import audit

    session = get_database().session(write=False)
    try:
        result = audit.verify(session)
    finally:
        session.close()
    if result.ok:
        console.print(f"[green]audit chain intact[/green]: {result.checked} events")
        return
    console.print(f"[red]audit chain broken[/red] at event seq={result.broken_seq} id={result.broken_id}: "
                  f"{result.reason} ({result.checked} events before it verified)")
    raise typer.Exit(1)


@docs_app.command("permissions")
def docs_permissions(out: Annotated[Path | None, typer.Option()] = None) -> None:
    """Render the permission matrix as Markdown."""
    from tierline.platform import rbac

    text = rbac.render_markdown()
    if out:
        out.write_text(text)
    else:
        print(text, end="")


if __name__ == "__main__":
    app()
