"""Reading SLA performance: targets at risk now, and compliance over a period."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from tierline.customers import service as customers_service
from tierline.platform import clock
from tierline.platform.errors import Invalid
from tierline.platform.pagination import SortKey, paginate
from tierline.sla import clocks as ck
from tierline.sla.models import SlaClock, SlaPolicy
from tierline.tickets import service as tickets_service

GROUPS = ("priority", "team", "policy", "customer_plan")


def at_risk(session: Session, *, within_minutes: float, team_id: int | None = None, limit: int | None = None,
            cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """Running targets not yet breached that fall due within the next `within_minutes`, soonest first."""
    now = clock.now()
    stmt = (select(SlaClock)
            .where(SlaClock.status == ck.ACTIVE, SlaClock.running_since.is_not(None),
                   SlaClock.due_at.is_not(None), SlaClock.due_at <= now + timedelta(minutes=within_minutes)))
    if team_id is not None:
        stmt = stmt.where(SlaClock.ticket_id.in_(tickets_service.ids_of_team(team_id)))
    rows, next_cursor = paginate(session, stmt, keys=[SortKey(SlaClock.due_at), SortKey(SlaClock.id)],
                                 limit=limit, cursor=cursor)
    tickets = tickets_service.many(session, ticket_ids=[c.ticket_id for c in rows])
    items = []
    for clk in rows:
        ticket = tickets[clk.ticket_id]
        items.append({
            "ticket_key": ticket.key, "ticket_id": ticket.id, "subject": ticket.subject,
            "priority": ticket.priority, "status": ticket.status, "team_id": ticket.team_id,
            "assignee_id": ticket.assignee_id, "metric": clk.metric, "due_at": clk.due_at,
            "target_minutes": clk.target_minutes, "business_hours": clk.business_hours,
            "remaining_minutes": round(clk.target_minutes - ck.elapsed(session, clk, now), 6),
        })
    return items, next_cursor


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q * 100) - 1]


def compliance(session: Session, *, start: datetime, end: datetime, group_by: str) -> list[dict[str, Any]]:
    """Per group: achieved % of targets decided in [start, end), breaches, and first-response and resolution
    times (median, p90) in the targets' minutes (business minutes for business-hours targets)."""
    if group_by not in GROUPS:
        raise Invalid("group_by", f"must be one of {', '.join(GROUPS)}")
    if end <= start:
        raise Invalid("to", "must be after from")
    decided = or_(and_(SlaClock.achieved_at >= start, SlaClock.achieved_at < end),
                  and_(SlaClock.breached_at >= start, SlaClock.breached_at < end))
    decided_clocks = session.execute(select(SlaClock, SlaPolicy.name)
                                     .join(SlaPolicy, SlaPolicy.id == SlaClock.policy_id).where(decided)).all()
    tickets = tickets_service.many(session, ticket_ids=[c.ticket_id for c, _ in decided_clocks])
    plans = customers_service.plans(session, customer_ids=[t.customer_id for t in tickets.values()
                                                           if t.customer_id is not None])
    groups: dict[Any, dict[str, Any]] = defaultdict(lambda: {"achieved": 0, "breached": 0,
                                                             "first_response": [], "resolution": []})
    labels: dict[Any, str | None] = {}
    for clk, policy_name in decided_clocks:
        ticket = tickets[clk.ticket_id]
        plan = plans.get(ticket.customer_id) if ticket.customer_id is not None else None
        key, label = {
            "priority": (ticket.priority, ticket.priority),
            "team": (ticket.team_id, None),
            "policy": (clk.policy_id, policy_name),
            "customer_plan": (plan, plan),
        }[group_by]
        labels[key] = label
        g = groups[key]
        g["breached" if clk.status == ck.BREACHED else "achieved"] += 1
        if clk.metric in ("first_response", "resolution") and clk.final_minutes is not None:
            g[clk.metric].append(clk.final_minutes)
    out = []
    for key in sorted(groups, key=lambda k: (k is None, str(k))):
        g = groups[key]
        total = g["achieved"] + g["breached"]
        out.append({
            "group": key, "label": labels.get(key), "targets": total, "achieved": g["achieved"],
            "breaches": g["breached"], "achieved_percent": round(100.0 * g["achieved"] / total, 2) if total else None,
            "first_response_median": _median(g["first_response"]),
            "first_response_p90": _percentile(sorted(g["first_response"]), 0.9),
            "resolution_median": _median(g["resolution"]),
            "resolution_p90": _percentile(sorted(g["resolution"]), 0.9),
        })
    return out


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None
