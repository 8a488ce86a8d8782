"""SLA policies: which targets apply to a ticket. The first active policy by position whose match holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.platform import audit, clock
from tierline.platform.auth.actor import Actor
from tierline.platform.db import hold, transaction_memo
from tierline.platform.errors import Conflict, Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate
from tierline.sla.calendars import get_calendar
from tierline.sla.models import BusinessCalendarRecord, SlaClock, SlaPolicy


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


_CACHE = "tierline.sla.active_policies"
# Built once: every transaction that matches a ticket runs it, and building it cost a third of running it.
_ACTIVE_WITH_CALENDARS = (
    select(SlaPolicy, BusinessCalendarRecord)
    .outerjoin(BusinessCalendarRecord, BusinessCalendarRecord.id == SlaPolicy.calendar_id)
    .where(SlaPolicy.active.is_(True))
    .order_by(SlaPolicy.position, SlaPolicy.id)
)


def active_policies(session: Session, *, cached: bool = False) -> list[SlaPolicy]:
    """Active policies in match order. `cached`: read once per transaction (every ticket a request or job
    touches is matched against the same list); a change to a policy in the session clears it.

    Their calendars come in the same query and are held in the session: the clocks of whichever policy
    matches ask for its calendar next, and find it without a round trip of their own."""
    memo = transaction_memo(session, _CACHE)
    if cached and "policies" in memo:
        return memo["policies"]
    rows = session.execute(_ACTIVE_WITH_CALENDARS).all()
    for _, calendar in rows:
        if calendar is not None:
            hold(session, calendar)
    policies = [policy for policy, _ in rows]
    memo["policies"] = policies
    return policies


def _forget_cached(session: Session) -> None:
    """A policy changed in this transaction: the next match reads them again."""
    session.info.pop(_CACHE, None)


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
    _forget_cached(session)
    session.add(policy)
    session.flush()
    audit.record_create(session, actor, policy)
    return policy


def update_policy(session: Session, *, actor: Actor, policy_id: int, changes: dict[str, Any]) -> SlaPolicy:
    """Change a policy. Tickets already under it keep their clocks until their next recomputation."""
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
    _forget_cached(session)
    audit.record_update(session, actor, policy, before)
    return policy


def delete_policy(session: Session, *, actor: Actor, policy_id: int) -> None:
    policy = get_policy(session, policy_id=policy_id)
    in_use = session.scalar(select(SlaClock.id).where(SlaClock.policy_id == policy.id).limit(1))
    if in_use is not None:
        raise Conflict("tickets have clocks under this policy; deactivate it instead (active: false)")
    audit.record_delete(session, actor, policy)
    _forget_cached(session)
    session.delete(policy)


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
