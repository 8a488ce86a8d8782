"""Reading SLA performance: targets at risk now, and compliance over a period."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.customers import service as customers_service
from tierline.people import teams as people_teams
from tierline.platform import clock
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.models import User
from tierline.platform.errors import Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate
from tierline.sla import calendars
from tierline.sla import clocks as ck
from tierline.sla.business_time import BusinessCalendar
from tierline.tickets import queues
from tierline.sla.models import SlaClock, SlaPolicy
from tierline.tickets import service as tickets_service

GROUPS = ("priority", "team", "policy", "customer_plan", "assignee", "queue", "component")


def at_risk(session: Session, *, within_minutes: float, team_id: int | None = None, limit: int | None = None,
            cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The morning risk review: unfinished targets already breached (of unsolved tickets) and running targets
    falling due within the next `within_minutes`, soonest (so the longest breached) first, each with its
    customer's name and ARR and its assignee's name."""
    now = clock.now()
    stmt = (select(SlaClock)
            .where(SlaClock.status.in_((ck.ACTIVE, ck.BREACHED)), SlaClock.completed_at.is_(None),
                   SlaClock.due_at.is_not(None), SlaClock.due_at <= now + timedelta(minutes=within_minutes)))
    if team_id is not None:
        stmt = stmt.where(SlaClock.ticket_id.in_(tickets_service.ids_of_team(team_id)))
    rows, next_cursor = paginate(session, stmt, keys=[SortKey(SlaClock.due_at), SortKey(SlaClock.id)],
                                 limit=limit, cursor=cursor)
    tickets = tickets_service.many(session, ticket_ids=[c.ticket_id for c in rows])
    customers = customers_service.many_profiles(session, customer_ids={
        t.customer_id for t in tickets.values() if t.customer_id is not None})
    names = _Names(session)
    names.read_users({t.assignee_id for t in tickets.values() if t.assignee_id is not None})
    items = []
    for clk in rows:
        ticket = tickets[clk.ticket_id]
        customer = customers.get(ticket.customer_id) if ticket.customer_id is not None else None
        items.append({
            "ticket_key": ticket.key, "ticket_id": ticket.id, "subject": ticket.subject,
            "priority": ticket.priority, "status": ticket.status, "team_id": ticket.team_id,
            "assignee_id": ticket.assignee_id, "assignee_name": names.user(ticket.assignee_id),
            "customer_id": ticket.customer_id, "customer_name": customer.name if customer else None,
            "customer_arr": customer.arr if customer else None,
            "metric": clk.metric, "due_at": clk.due_at, "breached": clk.status == ck.BREACHED,
            "breached_at": clk.breached_at, "target_minutes": clk.target_minutes,
            "business_hours": clk.business_hours,
            "remaining_minutes": round(clk.target_minutes - ck.elapsed(session, clk, now), 1),
        })
    return items, next_cursor


def breached_ticket_ids() -> Select[Any]:
    """A SELECT of the ids of tickets with a missed target still unfinished (the breached items of `at_risk`),
    for another domain's counts to correlate with its tickets (queue statistics)."""
    return select(SlaClock.ticket_id).where(SlaClock.status == ck.BREACHED, SlaClock.completed_at.is_(None))


def due_ticket_ids(*, before: datetime | ColumnElement[datetime]) -> Select[Any]:
    """A SELECT of the ids of tickets with a running target falling due by `before` (the items of `at_risk`
    that are not breached yet), to correlate as `breached_ticket_ids`. `before` may be a bind parameter, for a
    statement built once."""
    return select(SlaClock.ticket_id).where(SlaClock.status == ck.ACTIVE, SlaClock.completed_at.is_(None),
                                            SlaClock.due_at.is_not(None), SlaClock.due_at <= before)


def _percentile(values: list[float], q: float) -> float | None:
    """The q-quantile of sorted `values` (inclusive method: between the smallest and the largest)."""
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(round(q * 100)) - 1]


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _tenth(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


# The empty group of each grouping has a fixed label, so no row is ever labelled null.
EMPTY_LABELS = {"priority": "No priority", "team": "No team", "policy": "No policy", "customer_plan": "No plan",
                "assignee": "Unassigned", "queue": "No queue", "component": "No component"}
REPORTED_METRICS = ("first_response", "resolution")
STATISTICS = {"median": 0.5, "p90": 0.9}
BASES = ("business", "calendar")
DURATION_FIELDS = tuple(f"{m}_{stat}_{basis}_minutes" for m in REPORTED_METRICS for stat in STATISTICS
                        for basis in BASES)
DEFAULT_PERIOD = timedelta(days=30)


def durations(clk: Any, business_calendar: BusinessCalendar | None) -> tuple[float, float]:
    """A finished clock's time in both bases: (business minutes, calendar minutes), both measured over the
    segments it ran (pauses left out). Calendar minutes are wall-clock time. Business minutes are counted in
    `business_calendar` (the clock's own when its target is in business hours, else its policy's); with no
    calendar at all every minute is a business minute (a 24/7 operation)."""
    segments = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in clk.segments or []]
    calendar = sum((b - a).total_seconds() / 60.0 for a, b in segments)
    if business_calendar is None:
        return calendar, calendar
    return sum(ck.minutes_in(business_calendar, a, b) for a, b in segments), calendar


def compliance(session: Session, *, start: datetime | None = None, end: datetime | None = None,
               group_by: str = "priority") -> tuple[datetime, datetime, list[dict[str, Any]]]:
    """Per group: achieved % of targets decided in [start, end) (a breach counts whatever became of its clock
    later: cancelled, re-targeted or reopened), breaches, and first-response and resolution times (median, p90)
    in business and in calendar minutes, rounded to 0.1. The period defaults to the 30 days ending with today
    (UTC)."""
    if group_by not in GROUPS:
        raise Invalid("group_by", f"must be one of {', '.join(GROUPS)}")
    if end is None:  # the end of today, UTC, as a plain date `to` of today means
        end = datetime.combine(clock.now().date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    start = start or end - DEFAULT_PERIOD
    if end <= start:
        raise Invalid("to", "must be after from")
    decided = or_(and_(SlaClock.achieved_at >= start, SlaClock.achieved_at < end),
                  and_(SlaClock.breached_at >= start, SlaClock.breached_at < end))
    decided_clocks = session.execute(select(SlaClock, SlaPolicy.name, SlaPolicy.calendar_id)
                                     .join(SlaPolicy, SlaPolicy.id == SlaClock.policy_id).where(decided)).all()
    tickets = tickets_service.many(session, ticket_ids=[c.ticket_id for c, _, _ in decided_clocks])
    plans = customers_service.plans(session, customer_ids=[t.customer_id for t in tickets.values()
                                                           if t.customer_id is not None])
    groups: dict[Any, dict[str, Any]] = defaultdict(lambda: {
        "achieved": 0, "breached": 0, **{f"{m}_{b}": [] for m in REPORTED_METRICS for b in BASES}})
    names = _Names(session)
    labels: dict[Any, str] = {}
    for clk, policy_name, policy_calendar_id in decided_clocks:
        ticket = tickets[clk.ticket_id]
        plan = plans.get(ticket.customer_id) if ticket.customer_id is not None else None
        key, label = {
            "priority": lambda: (ticket.priority, ticket.priority),
            "team": lambda: (ticket.team_id, names.team(ticket.team_id)),
            "policy": lambda: (clk.policy_id, policy_name),
            "customer_plan": lambda: (plan, plan),
            "assignee": lambda: (ticket.assignee_id, names.user(ticket.assignee_id)),
            "queue": lambda: (ticket.queue_id, names.queue(ticket.queue_id)),
            "component": lambda: (ticket.component_id, names.component(ticket.component_id)),
        }[group_by]()
        labels[key] = label if key is not None and label else EMPTY_LABELS[group_by]
        g = groups[key]
        breached = clk.breached_at is not None and start <= clk.breached_at < end
        g["breached" if breached else "achieved"] += 1
        if clk.metric in REPORTED_METRICS and clk.completed_at is not None:
            cal_id = clk.calendar_id if clk.business_hours else policy_calendar_id
            cal = calendars.compiled_by_id(session, calendar_id=cal_id) if cal_id is not None else None
            business, calendar = durations(clk, cal)
            g[f"{clk.metric}_business"].append(business)
            g[f"{clk.metric}_calendar"].append(calendar)
    out = []
    for key in sorted(groups, key=lambda k: (k is None, str(k))):
        g = groups[key]
        total = g["achieved"] + g["breached"]
        row: dict[str, Any] = {
            "group": key, "label": labels[key], "targets": total, "achieved": g["achieved"],
            "breaches": g["breached"],
            "achieved_percent": round(100.0 * g["achieved"] / total, 1) if total else None,
        }
        for metric in REPORTED_METRICS:
            for stat, q in STATISTICS.items():
                for basis in BASES:
                    values = sorted(g[f"{metric}_{basis}"])
                    value = _median(values) if stat == "median" else _percentile(values, q)
                    row[f"{metric}_{stat}_{basis}_minutes"] = _tenth(value)
        out.append(row)
    return start, end, out


class _Names:
    """The display names of the groups' ids, looked up once each."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._cache: dict[tuple[str, int], str | None] = {}

    def _get(self, kind: str, id_: int | None, read: Any) -> str | None:
        if id_ is None:
            return None
        if (kind, id_) not in self._cache:
            try:
                self._cache[(kind, id_)] = read(id_)
            except NotFound:
                self._cache[(kind, id_)] = f"{kind} {id_}"
        return self._cache[(kind, id_)]

    def team(self, team_id: int | None) -> str | None:
        return self._get("team", team_id, lambda i: people_teams.get_team(self.session, team_id=i).name)

    def read_users(self, user_ids: set[int]) -> None:
        """Read the names of these users in one statement, so a page naming many assignees costs one."""
        missing = sorted(i for i in user_ids if ("user", i) not in self._cache)
        if missing:
            found = dict(self.session.execute(select(User.id, User.name).where(User.id.in_(missing))).all())
            self._cache.update({("user", i): found.get(i, f"user {i}") for i in missing})

    def user(self, user_id: int | None) -> str | None:
        return self._get("user", user_id, lambda i: auth_service.get_user(self.session, user_id=i).name)

    def queue(self, queue_id: int | None) -> str | None:
        return self._get("queue", queue_id, lambda i: queues.info(self.session, queue_id=i).name)

    def component(self, component_id: int | None) -> str | None:
        return self._get("component", component_id,
                         lambda i: components_service.info(self.session, component_id=i).name)
