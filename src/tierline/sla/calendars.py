"""Business calendars: stored specs, validated by the business-time engine, compiled once per process."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.platform import audit, clock, reference_cache
from tierline.platform.auth.actor import Actor
from tierline.platform.db import hold
from tierline.platform.errors import Conflict, Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate
from tierline.sla.business_time import (
    FIRST_YEAR,
    LAST_YEAR,
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
)
from tierline.sla.models import BusinessCalendarRecord, SlaClock, SlaPolicy

_FIELDS = ("timezone", "hours", "holidays", "holiday_country", "holiday_subdivision")
# Compiled calendars: their tables are built once per process and reused by every request.
_compiled: dict[str, BusinessCalendar] = {}


def _compile(spec: dict[str, Any]) -> BusinessCalendar:
    """Validate a spec with the engine itself, turning its ValueError into a 422 naming the field."""
    try:
        return BusinessCalendar.from_dict(spec)
    except ValueError as exc:
        message = str(exc)
        field, sep, reason = message.partition(": ")
        if not sep or field.split(".")[0] not in _FIELDS:
            field, reason = "hours", message
        raise Invalid(field, reason) from exc


def _spec(values: dict[str, Any]) -> dict[str, Any]:
    spec = {k: values.get(k) for k in _FIELDS}
    spec["holidays"] = [d.isoformat() if isinstance(d, date) else d for d in spec.get("holidays") or []]
    return spec


def get_calendar(session: Session, *, calendar_id: int) -> BusinessCalendarRecord:
    record = session.get(BusinessCalendarRecord, calendar_id)
    if record is None:
        raise NotFound(f"calendar {calendar_id} does not exist")
    hold(session, record)  # every clock of the ticket reads it again within the transaction
    return record


_COPY = "sla.compiled_calendars"  # reference_cache key, group "sla": calendar id -> compiled calendar


def compiled_by_id(session: Session, *, calendar_id: int) -> BusinessCalendar:
    """The compiled calendar of a stored one, from a per-process map (reference_cache, group "sla") filled as
    calendars are asked for: each clock of each ticket asks for its calendar several times (due instant,
    warning instant, elapsed time), and finding the row and keying its spec cost more than the business-time
    maths itself. A calendar changed and flushed, in this transaction or by anyone, starts a fresh map."""
    known = reference_cache.cached(session, "sla", _COPY, _empty)
    cal = known.get(calendar_id)
    if cal is None:
        cal = known[calendar_id] = compiled(get_calendar(session, calendar_id=calendar_id))
    return cal


def _empty(_session: Session) -> dict[int, BusinessCalendar]:
    return {}


def compiled(record: BusinessCalendarRecord) -> BusinessCalendar:
    # Keyed by the spec itself: a changed calendar is a new key, and an equal spec shares its tables.
    key = json.dumps(record.spec(), sort_keys=True)
    cal = _compiled.get(key)
    if cal is None:
        if len(_compiled) > 1000:
            _compiled.clear()
        cal = _compiled[key] = BusinessCalendar.from_dict(record.spec())
    return cal


def list_calendars(session: Session, *, q: str | None = None, limit: int | None = None,
                   cursor: str | None = None) -> tuple[list[BusinessCalendarRecord], str | None]:
    stmt = select(BusinessCalendarRecord)
    if q:
        stmt = stmt.where(BusinessCalendarRecord.name.ilike(f"%{q}%"))
    return paginate(session, stmt, keys=[SortKey(BusinessCalendarRecord.id)], limit=limit, cursor=cursor)


def _ensure_unique_name(session: Session, name: str, exclude_id: int | None = None) -> None:
    stmt = select(BusinessCalendarRecord.id).where(BusinessCalendarRecord.name == name)
    existing = session.scalar(stmt)
    if existing is not None and existing != exclude_id:
        raise Conflict(f"a calendar named {name!r} already exists")


def create_calendar(session: Session, *, actor: Actor, name: str, **values: Any) -> BusinessCalendarRecord:
    spec = _spec(values)
    _compile(spec)
    _ensure_unique_name(session, name)
    now = clock.now()
    record = BusinessCalendarRecord(name=name, created_at=now, updated_at=now, **spec)
    session.add(record)
    session.flush()
    audit.record_create(session, actor, record)
    return record


def update_calendar(session: Session, *, actor: Actor, calendar_id: int, **changes: Any) -> BusinessCalendarRecord:
    record = get_calendar(session, calendar_id=calendar_id)
    before = audit.snapshot(record)
    if changes.get("name") is not None:
        _ensure_unique_name(session, changes["name"], exclude_id=record.id)
        record.name = changes["name"]
    spec = record.spec()
    spec.update({k: v for k, v in changes.items() if k in _FIELDS and (v is not None or k.startswith("holiday_"))})
    spec = _spec(spec)
    _compile(spec)
    for key, value in spec.items():
        setattr(record, key, value)
    record.updated_at = clock.now()
    audit.record_update(session, actor, record, before)
    session.flush()  # the "sla" group's token renews now: clocks met later in this transaction see the change
    return record


def delete_calendar(session: Session, *, actor: Actor, calendar_id: int) -> None:
    record = get_calendar(session, calendar_id=calendar_id)
    users = session.scalars(select(SlaPolicy.name).where(SlaPolicy.calendar_id == record.id)).all()
    if users:
        raise Conflict(f"calendar {record.name!r} is used by SLA policies: {', '.join(sorted(users))}")
    if session.scalar(select(SlaClock.id).where(SlaClock.calendar_id == record.id).limit(1)) is not None:
        raise Conflict(f"calendar {record.name!r} times the SLA clocks of existing tickets; it stays")
    audit.record_delete(session, actor, record)
    session.delete(record)
    session.flush()


# The instants a business-time question may name, and how far apart: a calendar's table is built for the years
# a question spans (and kept), so a question about the years 210 to 1470 would build twelve centuries of it.
BUSINESS_TIME_FROM = datetime(FIRST_YEAR, 1, 1, tzinfo=UTC)
BUSINESS_TIME_UNTIL = datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC)
MAX_BUSINESS_TIME_SPAN = timedelta(days=3660)  # ten years


def _check_instant(field: str, value: datetime) -> None:
    if not BUSINESS_TIME_FROM <= value < BUSINESS_TIME_UNTIL:
        raise Invalid(field, f"must fall in the years {BUSINESS_TIME_FROM.year} to "
                             f"{BUSINESS_TIME_UNTIL.year - 1} (the years business calendars answer for)")


def business_time(session: Session, *, calendar_id: int, start: datetime, minutes: float | None,
                  end: datetime | None) -> dict[str, Any]:
    """Answer a due-date or elapsed-time question with a stored calendar (for people checking targets)."""
    if (minutes is None) == (end is None):
        raise Invalid("minutes", "give exactly one of minutes or end")
    _check_instant("start", start)
    if end is not None:
        _check_instant("end", end)
        if end < start:
            raise Invalid("end", "is before start")
        if end - start > MAX_BUSINESS_TIME_SPAN:
            raise Invalid("end", "must be at most ten years after start")
    cal = compiled(get_calendar(session, calendar_id=calendar_id))
    if minutes is not None:
        try:
            return {"start": start, "due_at": add_business_minutes(cal, start, minutes)}
        except ValueError as exc:  # the calendar has no business hours within fifty years of start
            raise Invalid("minutes", str(exc)) from exc
    return {"start": start, "end": end, "business_minutes": business_minutes_between(cal, start, end)}
