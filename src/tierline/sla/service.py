"""What the rest of Tierline asks of SLA: plan and start a new ticket's clocks, follow its changes and messages,
show them.

The flows call these at fixed points (intake, update, message); each change reconciles the ticket's clocks with
its current state in one pass, so every path (a status change, a priority change that picks another policy, a
reopen) goes through the same rules. A new ticket's clocks are planned first (`plan_start`: reads only, no
lock), so intake can compute them before its write transaction and insert them as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.customers import service as customers_service
from tierline.platform import audit, clock
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import NotFound
from tierline.sla import clocks as ck
from tierline.sla import policies
from tierline.sla.business_time import BusinessCalendar
from tierline.sla.models import METRICS, SlaClock, SlaPolicy


def ticket_traits(session: Session, ticket: Any) -> tuple[dict[str, Any], set[int]]:
    """The ticket's traits, what policies match on: its own fields and its customer's plan; beside them its
    component's ancestry.

    The plan comes from the customer's profile (per process), not the customer row: every ticket intake and
    change matches policies, and triage has usually put the customer's profile in memory already."""
    plan = None
    if ticket.customer_id is not None:
        try:
            plan = customers_service.profile(session, customer_id=ticket.customer_id).plan
        except NotFound:
            plan = None
    lineage: set[int] = set()
    if ticket.component_id is not None:
        try:
            lineage = set(components_service.lineage(session, component_id=ticket.component_id))
        except NotFound:
            lineage = set()
        lineage.add(ticket.component_id)
    traits = {"priority": ticket.priority, "type": ticket.type, "channel": ticket.channel,
              "customer_plan": plan, "tags": [t.lower() for t in (ticket.tags or [])]}
    return traits, lineage


def select_policy(session: Session, ticket: Any) -> SlaPolicy | None:
    traits, lineage = ticket_traits(session, ticket)
    for policy in policies.active_policies(session, cached=True):
        if policies.matches(policy, traits, lineage):
            return policy
    return None


def _natural_start(metric: str, ticket: Any, at: datetime, customer_wrote: bool) -> datetime | None:
    """When a clock that does not exist yet starts: creation for first response and resolution, now for the
    others. A target that appears later (a priority change) counts from creation without past pauses."""
    if metric == "first_response":
        return ticket.created_at if ticket.first_response_at is None and ticket.status not in ck.DONE_STATUSES \
            else None
    if metric == "resolution":
        return ticket.created_at if ticket.status not in ck.DONE_STATUSES else None
    if metric == "periodic_update":
        return at if ticket.status in ck.UNSOLVED_RUNNING else None
    return at if customer_wrote and ticket.first_response_at is not None \
        and ticket.status not in ck.DONE_STATUSES else None


def _drive(session: Session, actor: Actor, clk: SlaClock, policy: SlaPolicy, ticket: Any, at: datetime,
           agent_replied: bool, customer_wrote: bool, system_update: bool = False) -> None:
    """`system_update`: an automatic public message; it restarts the periodic-update cycle and nothing else."""
    status, done = ticket.status, ticket.status in ck.DONE_STATUSES
    if clk.metric in ("first_response", "next_reply"):
        if clk.completed_at is None:
            if agent_replied or done:
                ck.complete(session, actor, clk, at)
        elif clk.metric == "next_reply" and customer_wrote and not done:
            ck.new_cycle(session, actor, clk, at)
    elif clk.metric == "periodic_update":
        if clk.completed_at is not None:
            if status in ck.UNSOLVED_RUNNING:
                ck.new_cycle(session, actor, clk, at)
        elif done:
            ck.complete(session, actor, clk, at)
        elif agent_replied or system_update:
            ck.complete(session, actor, clk, at)
            ck.new_cycle(session, actor, clk, at)
            if status not in ck.UNSOLVED_RUNNING:
                ck.pause(session, actor, clk, at)
        elif status in ck.UNSOLVED_RUNNING:
            ck.run(clk, at)
        else:
            ck.pause(session, actor, clk, at)
    else:  # resolution
        if done:
            if clk.completed_at is None:
                ck.complete(session, actor, clk, at)
            return
        if clk.completed_at is not None:
            ck.uncomplete(clk, at)
        if status in (policy.pause_statuses or []):
            ck.pause(session, actor, clk, at)
        else:
            ck.run(clk, at)


def reconcile(session: Session, *, actor: Actor, ticket: Any, at: datetime | None = None,
              agent_replied: bool = False, customer_wrote: bool = False, system_update: bool = False,
              existing: dict[str, SlaClock] | None = None) -> None:
    """Bring the ticket's clocks in line with its state: policy, targets, running or paused, timers.

    `existing`: the ticket's clocks by metric when the caller knows them (a ticket created in this transaction
    has none), else they are read. New clocks are driven and given their instants before their INSERT, so the
    INSERT carries their final state and no UPDATE follows it."""
    at = at or clock.now()
    policy = select_policy(session, ticket)
    if existing is None:
        existing = ck.clocks_of(session, ticket.id)
    work: list[tuple[SlaClock, dict[str, Any] | None]] = []  # (clock, its audit snapshot; None when new)
    finished: list[tuple[SlaClock, dict[str, Any]]] = []  # completed clocks and their current target
    for metric in METRICS:
        clk = existing.get(metric)
        target = policies.target_for(policy, metric, ticket.priority) if policy is not None else None
        if target is None:
            if clk is not None and clk.completed_at is None and clk.status != ck.CANCELLED:
                before = ck.snapshot_for_audit(clk)
                ck.cancel(session, actor, clk, at)
                audit.record_update(session, actor, clk, before, action="sla_clocks.cancel",
                                    exclude=("updated_at", "segments"))
                clk.updated_at = clock.now()
            continue
        if clk is not None and clk.status == ck.CANCELLED:
            work.append((clk, ck.snapshot_for_audit(clk)))
            ck.retarget(session, actor, clk, policy, target, at)
            ck.resume(session, actor, clk, at)
            if clk.metric == "first_response" and ticket.first_response_at is not None:
                ck.complete(session, actor, clk, at)  # answered while its target did not apply
            continue
        if clk is None:
            start = _natural_start(metric, ticket, at, customer_wrote)
            if start is not None:
                clk = ck.new_clock(ticket_id=ticket.id, metric=metric, policy=policy, target=target,
                                   started_at=start)
                session.add(clk)
                work.append((clk, None))
        else:
            work.append((clk, ck.snapshot_for_audit(clk)))
            if clk.completed_at is None:
                ck.retarget(session, actor, clk, policy, target, at)
            else:  # decided against the target it had; re-targeted only if it runs again (below)
                finished.append((clk, target))
    for clk, _ in work:
        _drive(session, actor, clk, policy, ticket, at, agent_replied, customer_wrote, system_update)
    for clk, target in finished:
        if clk.completed_at is None:  # a reopened resolution, a new periodic-update cycle
            ck.retarget(session, actor, clk, policy, target, at)
    for clk, _ in work:
        ck.place(session, clk, policy)
    if any(before is None for _, before in work):
        session.flush()  # the new clocks' ids, for their audit snapshots
    for clk, before in work:
        if before is None:
            audit.record_create(session, actor, clk, action="sla_clocks.start", exclude=("segments",))
        elif audit.record_update(session, actor, clk, before, action="sla_clocks.update",
                                 exclude=("updated_at", "segments")):
            clk.updated_at = clock.now()
    _set_ticket(ticket, policy.id if policy is not None else None, _next_due(c for c, _ in work))


def _next_due(clocks: Any) -> datetime | None:
    """The ticket's `sla_due_at`: the soonest due instant of its running, unfinished clocks."""
    return min((c.due_at for c in clocks if c.completed_at is None and c.running_since is not None
                and c.due_at is not None), default=None)


def _set_ticket(ticket: Any, policy_id: int | None, due: datetime | None) -> None:
    # Assign only real changes: every write to a ticket bumps its version (and its clients' ETags).
    if ticket.sla_policy_id != policy_id:
        ticket.sla_policy_id = policy_id
    if ticket.sla_due_at != due:
        ticket.sla_due_at = due


# -- a new ticket's clocks, computed before its write -----------------------------------------------------

@dataclass(frozen=True)
class StartPlan:
    """A new ticket's SLA as `plan_start` computed it: its policy, its next due instant, its clocks' rows.

    `clocks` are the `sla_clocks` column values of each new clock, every column but `id` and `ticket_id`, in
    final form (instants placed), in the order of `METRICS`: exactly what `start` inserts. The audit event of
    each (`sla_clocks.start`, `audit.record_create` of the inserted row) holds the row's `id`, its `ticket_id`
    and every key of its dict except `segments`, the keys whose value is None left out.
    """

    policy_id: int | None
    policy_name: str | None
    due_at: datetime | None
    clocks: list[dict[str, Any]]
    calendars: dict[int, BusinessCalendar]  # the compiled calendars the clocks count in, by id

    def targets(self, now: datetime) -> list[dict[str, Any]]:
        """The ticket detail's `sla` list for these clocks at `now`: what `ticket_sla` gives once they are in."""
        return [_target_view(row, self.calendars.get(row.calendar_id) if row.business_hours else None, now)
                for row in (SimpleNamespace(**values) for values in self.clocks)]


def plan_start(session: Session, *, ticket: Any, at: datetime) -> StartPlan:
    """Plan a new ticket's clocks without writing anything: the policy that matches it (the cached active
    policies), its targets for the ticket's priority, and each clock's due and warning instants (the compiled
    calendars). `ticket` is anything with a ticket's attributes (`id` may be None): priority, type, channel,
    customer_id, component_id, tags, status, created_at, first_response_at. `at` is the instant of creation
    (intake passes the ticket's created_at): first response and resolution count from `created_at`, periodic
    update from `at`.

    The clocks are the ones `reconcile` would start for a ticket with no clocks (a test holds the two to the
    same rows); at creation nothing can have completed them, so only a resolution clock whose ticket starts
    in one of the policy's pause statuses does anything but run: it is paused at `at`."""
    policy = select_policy(session, ticket)
    if policy is None:
        return StartPlan(None, None, None, [], {})
    built: list[SlaClock] = []
    for metric in METRICS:
        target = policies.target_for(policy, metric, ticket.priority)
        start = _natural_start(metric, ticket, at, customer_wrote=False) if target is not None else None
        if start is None:
            continue
        clk = ck.new_clock(metric=metric, policy=policy, target=target, started_at=start)
        if metric == "resolution" and ticket.status in (policy.pause_statuses or []):
            ck.stop(session, clk, at)
        ck.place(session, clk, policy)
        built.append(clk)
    cals: dict[int, BusinessCalendar] = {}
    for clk in built:
        cal = ck.calendar_of(session, clk)
        if cal is not None:
            cals[clk.calendar_id] = cal
    return StartPlan(policy.id, policy.name, _next_due(built), [ck.values(c) for c in built], cals)


# -- the entry points the flows call -----------------------------------------------------------------------

def start(session: Session, *, actor: Actor, ticket: Any, plan: StartPlan | None = None) -> StartPlan:
    """A ticket just created (and flushed) in this transaction: insert the clocks `plan_start` planned for it
    (planned here unless the caller has the plan) as they are, in one flush, with their audit events; no clock
    is read and none is updated after its INSERT."""
    if plan is None:
        plan = plan_start(session, ticket=ticket, at=ticket.created_at)
    new = [SlaClock(ticket_id=ticket.id, **{**values, "segments": list(values["segments"])})
           for values in plan.clocks]
    if new:
        session.add_all(new)
        session.flush()  # their ids, for their audit snapshots
    for clk in new:
        audit.record_create(session, actor, clk, action="sla_clocks.start", exclude=("segments",))
    _set_ticket(ticket, plan.policy_id, plan.due_at)
    return plan


def on_ticket_changed(session: Session, *, actor: Actor, ticket: Any) -> None:
    reconcile(session, actor=actor, ticket=ticket)


def on_public_message(session: Session, *, actor: Actor, ticket: Any, author_type: str, at: datetime) -> None:
    """Only a person's reply is a response: an automatic message (`system`) counts as a periodic update only."""
    reconcile(session, actor=actor, ticket=ticket, at=at, agent_replied=author_type == "agent",
              customer_wrote=author_type == "customer", system_update=author_type == "system")


def ticket_sla(session: Session, *, ticket: Any, clocks: list[SlaClock] | None = None
               ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The ticket's policy and targets as shown on the ticket: elapsed and remaining as of now. `clocks`: the
    ticket's clocks when the caller has them in hand, else they are read."""
    now = clock.now()
    policy = session.get(SlaPolicy, ticket.sla_policy_id) if getattr(ticket, "sla_policy_id", None) else None
    if clocks is None:
        clocks = list(ck.clocks_of(session, ticket.id).values())
    order = {m: i for i, m in enumerate(METRICS)}
    items = [_target_view(clk, ck.calendar_of(session, clk), now)
             for clk in sorted(clocks, key=lambda c: order[c.metric])]
    return ({"id": policy.id, "name": policy.name} if policy else None), items


def _target_view(clk: Any, cal: BusinessCalendar | None, now: datetime) -> dict[str, Any]:
    """One target as the ticket shows it (`clk`: a clock, or anything with its attributes)."""
    spent = clk.final_minutes if clk.completed_at is not None else ck.elapsed_in(cal, clk, now)
    return {
        "metric": clk.metric, "target_minutes": clk.target_minutes, "business_hours": clk.business_hours,
        "due_at": clk.due_at, "status": clk.status, "elapsed_minutes": round(spent, 6),
        "remaining_minutes": round(clk.target_minutes - spent, 6), "breached_at": clk.breached_at,
        "achieved_at": clk.achieved_at, "completed_at": clk.completed_at, "cycle": clk.cycle,
    }
