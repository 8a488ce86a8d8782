"""`tierline sla recommend`: capacity-based SLA targets for support managers.

The command keeps its place under `tierline sla` (the top-level CLI mounts this app there); capacity
planning is its own domain, above the SLA engine whose policies it proposes targets for."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from tierline.platform.auth.actor import Actor
from tierline.platform.db import get_database
from tierline.platform.errors import DomainError

app = typer.Typer(help="SLA: capacity-based targets.", no_args_is_help=True)
CLI_ACTOR = Actor.system("cli")


def _minutes(value: float | None, business_hours: bool | None) -> str:
    if value is None:
        return "-"
    total = round(value)
    days, rest = divmod(total, 1440) if not business_hours else (0, total)
    hours, minutes = divmod(rest, 60)
    text = (f"{days}d " if days else "") + (f"{hours}h " if hours else "") + f"{minutes}m"
    if hours or days:
        text = text.removesuffix(" 0m")
    return text + (" (business)" if business_hours else "")


def _table(run: dict[str, Any]) -> Table:
    first = run["items"][0]["inputs"] if run["items"] else {}
    unit = "" if not first else f", history from {run['observed_quarter']}"
    table = Table(title=f"SLA recommendations for {run['quarter']} at service level "
                        f"{run['service_level']:.0%}{unit} (run {run['run_id'][:8]})",
                  caption="Handle time is an estimate (first agent touch to solve) until time tracking "
                          "exists; each agent is taken to work max_open_tickets tickets at once (one slot "
                          "per open ticket) whenever the calendar is open. Apply one with "
                          "POST /api/v1/sla/recommendations/{id}/apply.", caption_justify="left")
    for name, justify in (("id", "right"), ("priority", "left"), ("metric", "left"), ("current", "right"),
                          ("recommended", "right"), ("achieved %", "right")):
        table.add_column(name, justify=justify, no_wrap=True)
    table.add_column("key inputs", overflow="fold", min_width=30)
    for item in run["items"]:
        achieved = "-" if item["achieved_percent"] is None else f"{item['achieved_percent']:.1f}"
        table.add_row(str(item["id"]), item["priority"], item["metric"],
                      _minutes(item["current_minutes"], item["current_business_hours"]),
                      _minutes(item["recommended_minutes"], item["business_hours"]), achieved,
                      item["inputs"].get("summary", ""))
    return table


@app.command("recommend")
def recommend(
    quarter: Annotated[str, typer.Option(help="the quarter the targets are for, e.g. 2026Q4")],
    service_level: Annotated[float, typer.Option(help="share of tickets that must meet a target")] = 0.9,
    team_id: Annotated[int | None, typer.Option(help="one team's tickets and agents (default: all)")] = None,
    calendar_id: Annotated[int | None, typer.Option(help="use this calendar's hours")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Recommend first-response and resolution targets per priority, beside the current ones.

    From last quarter's arrivals and handle times and today's staffing (Erlang C on the busy hours); the run is
    stored (and audited), and each row can be applied with POST /api/v1/sla/recommendations/{id}/apply.
    """
    from tierline.capacity import recommendations
    from tierline.capacity.schemas import RecommendationRun

    try:
        with get_database().unit_of_work() as session:
            rows = recommendations.compute(session, actor=CLI_ACTOR, quarter=quarter,
                                           service_level=service_level, team_id=team_id,
                                           calendar_id=calendar_id)
            run = RecommendationRun.of(rows)
    except DomainError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc
    data = json.loads(run.model_dump_json())
    if as_json:
        print(json.dumps(data, indent=2))
        return
    Console().print(_table(data))
