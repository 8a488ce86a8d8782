"""`tierline sla recommend`: capacity-based SLA targets for support managers.

The command keeps its place under `tierline sla` (the top-level CLI mounts this app there); capacity
planning is its own domain, above the SLA engine whose policies it proposes targets for."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

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


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _policy_table(name: str, items: list[dict[str, Any]]) -> Table:
    table = Table(title=name, title_justify="left", expand=False)
    for column, justify in (("id", "right"), ("prio", "left"), ("metric", "left"), ("current", "right"),
                            ("recommended", "right"), ("achieved %", "right"), ("P(wait)", "right")):
        table.add_column(column, justify=justify, overflow="fold")
    for item in items:
        pw = item["inputs"].get("probability_of_waiting") if item["metric"] == "first_response" else None
        table.add_row(str(item["id"]), item["priority"], item["metric"].replace("_", " "),
                      _minutes(item["current_minutes"], item["current_business_hours"]),
                      _minutes(item["recommended_minutes"], item["business_hours"]),
                      _percent(item["achieved_percent"]), "-" if pw is None else f"{pw:.2f}")
    return table


def _render(run: dict[str, Any]) -> Group:
    """A small table per policy, its key inputs beneath as wrapped lines: every part fits any terminal width,
    and no column has to be squeezed to a few letters to make room for the longest one."""
    parts: list[Any] = [Text(f"SLA recommendations for {run['quarter']} at service level "
                             f"{run['service_level']:.0%}, from {run['observed_quarter']} (run {run['run_id'][:8]})",
                             style="bold")]
    by_policy: dict[Any, list[dict[str, Any]]] = {}
    for item in run["items"]:
        by_policy.setdefault(item["policy_id"], []).append(item)
    for items in by_policy.values():
        policy = items[0]["inputs"].get("policy") or {}
        name = f"{policy['name']} (policy {policy['id']})" if policy else "No active SLA policy"
        parts += [Text(""), _policy_table(name, items)]
        notes = Text()
        for item in items:
            notes.append(f"#{item['id']} {item['priority']} {item['metric'].replace('_', ' ')}: ", style="bold")
            notes.append(item["inputs"].get("summary", "") + "\n")
        parts.append(notes)
    parts.append(Text("Handle time is agent working time (first agent touch to solve, less pending and on-hold "
                      "time); agents are people on shift in their own time zones. A target met last quarter is "
                      "not loosened unless today's staffing needs it. --json prints every input; apply one with "
                      "POST /api/v1/sla/recommendations/{id}/apply.", style="dim"))
    return Group(*parts)


@app.command("recommend")
def recommend(
    quarter: Annotated[str, typer.Option(help="the quarter the targets are for, e.g. 2026Q4")],
    service_level: Annotated[float, typer.Option(help="share of tickets that must meet a target")] = 0.9,
    team_id: Annotated[int | None, typer.Option(help="one team's tickets and agents (default: all)")] = None,
    calendar_id: Annotated[int | None, typer.Option(help="use this calendar's hours")] = None,
    shift: Annotated[str, typer.Option(help="each agent's weekday working hours in their own time zone")
                     ] = "09:00-17:00",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON instead of a table")] = False,
) -> None:
    """Recommend first-response and resolution targets per SLA policy and priority, beside the current ones.

    From last quarter's arrivals and agent working times and the people on shift today (Erlang C in every
    open hour of the week); the run is stored (and audited), and each row can be applied with
    POST /api/v1/sla/recommendations/{id}/apply. The table fits the terminal; --json prints all of it.
    """
    from tierline.capacity import recommendations
    from tierline.capacity.schemas import RecommendationRun

    database = get_database()
    reads = database.session(write=False)  # the plan computes here; the write takes its lock to store it
    try:
        with database.unit_of_work() as session:
            rows = recommendations.compute(session, actor=CLI_ACTOR, quarter=quarter,
                                           service_level=service_level, team_id=team_id,
                                           calendar_id=calendar_id, shift=shift, reads=reads)
            run = RecommendationRun.of(rows)
    except DomainError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(2) from exc
    finally:
        reads.close()
    data = json.loads(run.model_dump_json())
    if as_json:
        print(json.dumps(data, indent=2))
        return
    Console().print(_render(data))
