from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from tierline.platform.db import Base, BigId, JSONType, UTCDateTime
from tierline.tickets.models import ticket_fk


class BusinessCalendarRecord(Base):
    """A named business calendar; `hours` is a weekday map or the string "24/7"."""

    __tablename__ = "sla_calendars"
    __audit_type__ = "sla_calendars"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    timezone: Mapped[str] = mapped_column(String(64), nullable=False)
    hours: Mapped[Any] = mapped_column(JSONType, nullable=False)
    holidays: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    holiday_country: Mapped[str | None] = mapped_column(String(8), nullable=True)
    holiday_subdivision: Mapped[str | None] = mapped_column(String(16), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    def spec(self) -> dict[str, Any]:
        return {"timezone": self.timezone, "hours": self.hours, "holidays": list(self.holidays or []),
                "holiday_country": self.holiday_country, "holiday_subdivision": self.holiday_subdivision}


METRICS = ("first_response", "next_reply", "periodic_update", "resolution")
CLOCK_STATUSES = ("active", "paused", "achieved", "breached")


class SlaPolicy(Base):
    """Targets per metric and priority for the tickets its `match` selects; the first by position applies."""

    __tablename__ = "sla_policies"
    __audit_type__ = "sla_policies"
    __table_args__ = (Index("ix_sla_policies_position", "active", "position", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    match: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    calendar_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sla_calendars.id"), nullable=True)
    targets: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    warning_percent: Mapped[int] = mapped_column(Integer, nullable=False, default=75)
    pause_statuses: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    on_breach: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class SlaClock(Base):
    """One running target of one ticket. Consumed time is kept across pauses, reopenings and re-targeting.

    While running, `running_since` is set and the elapsed time is `consumed_minutes` plus the (business or
    calendar) minutes since then. `due_at` and `warning_at` are the instants at which workers sweep the clock
    (sla/timers.py), each by its own partial index of the active clocks: nothing else schedules them.
    `sweep_attempts` and `sweep_retry_at` hold a warning or breach whose action failed back from the sweeps
    until then, with a growing interval; both are reset when the sweep succeeds.
    """

    __tablename__ = "sla_clocks"
    __audit_type__ = "sla_clocks"
    __table_args__ = (
        UniqueConstraint("ticket_id", "metric", name="uq_sla_clocks_ticket_metric"),
        # Only running, unbreached clocks can fall due: the indexes hold those, not the ticket history, in the
        # order the sweeps read them (instant, then id).
        Index("ix_sla_clocks_due_active", "due_at", "id", sqlite_where=text("status = 'active'"),
              postgresql_where=text("status = 'active'")),
        Index("ix_sla_clocks_warning_due", "warning_at", "id",
              sqlite_where=text("status = 'active' AND warned_at IS NULL"),
              postgresql_where=text("status = 'active' AND warned_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ticket_fk(ondelete="CASCADE"), nullable=False)
    policy_id: Mapped[int] = mapped_column(BigId, ForeignKey("sla_policies.id"), nullable=False, index=True)
    metric: Mapped[str] = mapped_column(String(20), nullable=False)
    target_minutes: Mapped[float] = mapped_column(Float, nullable=False)
    business_hours: Mapped[bool] = mapped_column(Boolean, nullable=False)
    calendar_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sla_calendars.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(10), nullable=False)
    cycle: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    consumed_minutes: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    segments: Mapped[list[list[str]]] = mapped_column(JSONType, nullable=False, default=list)
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    warning_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    achieved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    final_minutes: Mapped[float | None] = mapped_column(Float, nullable=True)
    sweep_attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0, server_default="0")
    sweep_retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


class SlaEvent(Base):
    """What happened to a clock: started, paused, resumed, warning, breach, achieved, retargeted."""

    __tablename__ = "sla_events"
    __table_args__ = (Index("ix_sla_events_ticket", "ticket_id", "id"), Index("ix_sla_events_kind_at", "kind", "at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id", ondelete="CASCADE"), nullable=False)
    clock_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sla_clocks.id", ondelete="SET NULL"),
                                                 nullable=True)
    metric: Mapped[str] = mapped_column(String(20), nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    cycle: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
