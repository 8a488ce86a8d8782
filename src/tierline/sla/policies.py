"""SLA policies: which targets apply to a ticket. The first active policy by position whose match holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.platform import audit, clock, jobs, reference_cache
from tierline.platform.auth.actor import Actor
from tierline.platform.db import core_connection
from tierline.platform.errors import Conflict, Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate
from tierline.sla.calendars import get_calendar
from tierline.sla.models import METRICS, SlaClock, SlaPolicy
from tierline.tickets import service as tickets_service


REAPPLY_JOB = "sla.reapply_policies"  # flows/sla_policy_changes.py: the open tickets follow a policy change
PRIORITIES = ("P1", "P2", "P3", "P4")


def _reapply(session: Session, policy_id: int) -> None:
    """Queue the job that brings every open ticket in line with the policies as they now are (one pending job
    at a time: a second change before it ran only moves it)."""
    jobs.enqueue(session, REAPPLY_JOB, {"policy_id": policy_id, "after": 0}, dedupe_key=REAPPLY_JOB)


def uncovered(targets: list[dict[str, Any]], match: dict[str, Any] | None) -> list[dict[str, str]]:
    """The (metric, priority) pairs a policy leaves without a target, among the priorities it can match: a
    ticket of that priority under it gets no clock for that metric. Accepted, but named as warnings."""
    have = {(t["metric"], t["priority"]) for t in targets or []}
    priorities = [p for p in PRIORITIES if not (match or {}).get("priority") or p in match["priority"]]
    return [{"metric": m, "priority": p, "detail": f"no {m} target for {p}: {p} tickets under this policy get "
                                                   f"no {m} clock"}
            for m in METRICS for p in priorities if (m, p) not in have]


def get_policy(session: Session, *, policy_id: int) -> SlaPolicy:
    policy = session.get(SlaPolicy, policy_id)
    if policy is None:
        raise NotFound(f"SLA policy {policy_id} does not exist")
    return policy


def list_policies(session: Session, *, active: bool | None = None, calendar_id: int | None = None,
                  limit: int | None = None, cursor: str | None = None) -> tuple[list[SlaPolicy], str | None]:
    stmt = select(SlaPolicy)
    if active is not None:
        stmt = stmt.where(SlaPolicy.active.is_(active))
    if calendar_id is not None:
        stmt = stmt.where(SlaPolicy.calendar_id == calendar_id)
    return paginate(session, stmt, keys=[SortKey(SlaPolicy.position), SortKey(SlaPolicy.id)], limit=limit,
                    cursor=cursor)


_COPY = "sla.active_policies"  # reference_cache key, group "sla"
_ACTIVE = (select(SlaPolicy.__table__).where(SlaPolicy.active.is_(True))
           .order_by(SlaPolicy.position, SlaPolicy.id))


def active_policies(session: Session, *, cached: bool = False) -> list[SlaPolicy]:
    """Active policies in match order. `cached`: the per-process copy (reference_cache, group "sla"), which
    every intake and every ticket change matches against; a change to a policy or calendar, in this
    transaction or committed by anyone, gives the next call a fresh copy. The copy's policies are transient
    objects belonging to no session, shared by every thread: read them, never change them (change a policy
    through `get_policy`). Without `cached`, the session's own rows."""
    if cached:
        return reference_cache.cached(session, "sla", _COPY, _read_copy)
    return list(session.scalars(select(SlaPolicy).where(SlaPolicy.active.is_(True))
                                .order_by(SlaPolicy.position, SlaPolicy.id)))


def _read_copy(session: Session) -> list[SlaPolicy]:
    # Core rows made into transient objects: loading through the ORM would hand out (and a later expunge
    # would steal) the very instances a caller of this session may be editing.
    return [SlaPolicy(**row._mapping) for row in core_connection(session).execute(_ACTIVE)]


def _check(session: Session, values: dict[str, Any]) -> None:
    errors: list[tuple[str, str]] = []
    calendar_id = values.get("calendar_id")
    if calendar_id is not None:
        try:
            get_calendar(session, calendar_id=calendar_id)
        except NotFound:
            errors.append(("calendar_id", f"calendar {calendar_id} does not exist"))
    seen: set[tuple[str, str]] = set()
    for i, target in enumerate(values.get("targets") or []):
        pair = (target["metric"], target["priority"])
        if pair in seen:
            errors.append((f"targets.{i}", f"a second {pair[0]} target for {pair[1]}"))
        seen.add(pair)
        if target.get("business_hours") and calendar_id is None:
            errors.append((f"targets.{i}.business_hours", "needs the policy to have a calendar_id"))
    if errors:
        raise Invalid(errors=errors)


def _ensure_unique_name(session: Session, name: str, exclude_id: int | None = None) -> None:
    existing = session.scalar(select(SlaPolicy.id).where(SlaPolicy.name == name))
    if existing is not None and existing != exclude_id:
        raise Conflict(f"an SLA policy named {name!r} already exists")


def create_policy(session: Session, *, actor: Actor, values: dict[str, Any]) -> SlaPolicy:
    _check(session, values)
    _ensure_unique_name(session, values["name"])
    now = clock.now()
    policy = SlaPolicy(**values, created_at=now, updated_at=now)
    session.add(policy)
    session.flush()
    audit.record_create(session, actor, policy)
    _reapply(session, policy.id)
    return policy


def update_policy(session: Session, *, actor: Actor, policy_id: int, changes: dict[str, Any]) -> SlaPolicy:
    """Change a policy. The open tickets follow by a job (`REAPPLY_JOB`), not only when they change later."""
    policy = get_policy(session, policy_id=policy_id)
    before = audit.snapshot(policy)
    merged = {k: getattr(policy, k) for k in ("calendar_id", "targets")}
    merged.update({k: v for k, v in changes.items() if k in merged})
    _check(session, merged)
    if "name" in changes and changes["name"] is not None:
        _ensure_unique_name(session, changes["name"], exclude_id=policy.id)
    for key, value in changes.items():
        if value is None and key != "calendar_id":
            continue
        setattr(policy, key, value)
    policy.updated_at = clock.now()
    if audit.record_update(session, actor, policy, before):
        _reapply(session, policy.id)
    session.flush()  # the "sla" group's token renews now: tickets matched later in this transaction see it
    return policy


def delete_policy(session: Session, *, actor: Actor, policy_id: int) -> None:
    policy = get_policy(session, policy_id=policy_id)
    in_use = session.scalar(select(SlaClock.id).where(SlaClock.policy_id == policy.id).limit(1))
    if in_use is not None or tickets_service.any_under_sla_policy(session, policy_id=policy.id):
        raise Conflict("tickets have clocks under this policy; deactivate it instead (active: false)")
    audit.record_delete(session, actor, policy)
    session.delete(policy)
    session.flush()


def target_for(policy: SlaPolicy, metric: str, priority: str) -> dict[str, Any] | None:
    for target in policy.targets:
        if target["metric"] == metric and target["priority"] == priority:
            return target
    return None


def matches(policy: SlaPolicy, traits: dict[str, Any], component_ancestors: set[int]) -> bool:
    """`traits` holds the ticket's priority, type, channel, customer_plan and tags (`service.ticket_traits`);
    `component_ancestors` the ticket's component and its ancestors, so a policy naming a component covers its
    whole subtree."""
    match = policy.match or {}
    for field in ("priority", "customer_plan", "type", "channel"):
        allowed = match.get(field)
        if allowed and traits.get(field) not in allowed:
            return False
    components = match.get("component_id")
    if components and not component_ancestors & set(components):
        return False
    tags_any = match.get("tags_any")
    if tags_any and not {t.lower() for t in tags_any} & set(traits.get("tags") or []):
        return False
    return True
