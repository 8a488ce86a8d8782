"""`tierline triage ...`: triage from the command line (explain a ticket; the classifier's commands join here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from tierline.platform.auth.actor import Actor
from tierline.platform.db import get_database
from tierline.platform.errors import DomainError

triage_app = typer.Typer(help="Triage: explain routing, train and manage the classifier.", no_args_is_help=True)
err = Console(stderr=True)
CLI_ACTOR = Actor.system("cli")


@triage_app.command("explain")
def explain(file: Annotated[Path, typer.Argument(help="a ticket body as JSON, as POST /api/v1/tickets takes it",
                                                 exists=True, dir_okay=False, readable=True)]) -> None:
    """Print what intake would do with a ticket (signals, matched rules, actions, impact, queue, tier,
    assignee candidate, SLA policy) without saving it: the same JSON as POST /api/v1/triage/explain."""
    from tierline.tickets.schemas import TicketCreate
    from tierline.triage import pipeline

    try:
        data = TicketCreate.model_validate_json(file.read_bytes())
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "body"
            err.print(f"[red]error:[/red] {where}: {error['msg']}")
        raise typer.Exit(2) from exc
    session = get_database().session(write=False)
    try:
        result = pipeline.explain(session, actor=CLI_ACTOR, data=data)
    except DomainError as exc:
        err.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc
    finally:
        session.rollback()  # a dry run: nothing is kept
        session.close()
    print(json.dumps(result, indent=2, default=str, ensure_ascii=False))
