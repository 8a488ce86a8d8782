"""Capacity planning's table: the SLA targets it recommends, each kept with the inputs that drove it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tierline.platform.db import Base, BigId, JSONType, UTCDateTime


class SlaRecommendation(Base):
    """A capacity-based target proposed for one priority and metric, kept with every input that drove it.

    One computation (a run, `run_id`) stores a row per priority and metric. Applying one writes its
    minutes into the policy's target (audited) and stamps `applied_at`/`applied_by`; a row applies once.
    `business_hours` says the unit of `recommended_minutes` (business minutes of `calendar_id`, or calendar
    minutes); `current_*` describe the policy's target when the run was computed.
    """

    __tablename__ = "sla_recommendations"
    __audit_type__ = "sla_recommendations"
    __table_args__ = (
        Index("ix_sla_recommendations_quarter", "quarter", "priority", "id"),
        Index("ix_sla_recommendations_run", "run_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(32), nullable=False)
    quarter: Mapped[str] = mapped_column(String(6), nullable=False)
    service_level: Mapped[float] = mapped_column(Float, nullable=False)
    team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id", ondelete="SET NULL"),
                                                nullable=True)
    priority: Mapped[str] = mapped_column(String(2), nullable=False)
    metric: Mapped[str] = mapped_column(String(20), nullable=False)
    policy_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sla_policies.id", ondelete="SET NULL"),
                                                  nullable=True, index=True)
    current_minutes: Mapped[float | None] = mapped_column(Float, nullable=True)
    current_business_hours: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    recommended_minutes: Mapped[float | None] = mapped_column(Float, nullable=True)
    business_hours: Mapped[bool] = mapped_column(Boolean, nullable=False)
    calendar_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("sla_calendars.id", ondelete="SET NULL"), nullable=True)
    achieved_percent: Mapped[float | None] = mapped_column(Float, nullable=True)
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    applied_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"), nullable=True)
