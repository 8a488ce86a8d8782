"""Triage rules: routing and prioritisation as data, evaluated in order at intake, update and customer reply."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tierline.platform.db import Base, BigId, JSONType, UTCDateTime

TRIGGERS = ("create", "update", "customer_reply")


class TriageRule(Base):
    """When the conditions hold for a ticket, the actions apply to it. Rules run by position, then id."""

    __tablename__ = "triage_rules"
    __table_args__ = (
        CheckConstraint("trigger IN ('create', 'update', 'customer_reply')", name="trigger"),
        Index("ix_triage_rules_order", "trigger", "active", "position", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    trigger: Mapped[str] = mapped_column(String(20), nullable=False, default="create")
    # {"all": [{field, op, value}, ...], "any": [...]}
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONType, nullable=False, default=dict)
    # [{type, value}, ...]
    actions: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, nullable=False, default=list)
    stop_processing: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
