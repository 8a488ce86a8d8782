from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tierline.platform.db import Base, BigId, JSONType, UTCDateTime

TEAM_KINDS = ("support", "engineering", "product")
DEFAULT_MAX_OPEN_TICKETS = 20


class AgentProfile(Base):
    """What a user brings to ticket work, beside their identity (platform.auth.models.User)."""

    __tablename__ = "agent_profiles"
    __table_args__ = (CheckConstraint("max_open_tickets >= 0", name="max_open_tickets_non_negative"),)

    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    skills: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    max_open_tickets: Mapped[int] = mapped_column(Integer, nullable=False, default=DEFAULT_MAX_OPEN_TICKETS)
    available: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    @property
    def id(self) -> int:
        """The profile is identified by its user (the audit trail names entities by `id`)."""
        return self.user_id


class Team(Base):
    __tablename__ = "teams"
    __table_args__ = (CheckConstraint("kind IN ('support', 'engineering', 'product')", name="kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, unique=True)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    # Teams are few and small: their members always come along (one extra SELECT per list page).
    memberships: Mapped[list[TeamMembership]] = relationship(
        order_by="TeamMembership.user_id", cascade="all, delete-orphan", lazy="selectin")

    @property
    def member_ids(self) -> list[int]:
        return sorted(m.user_id for m in self.memberships)


class TeamMembership(Base):
    """A user in a team; a user may be in several teams. Its own id keeps the audit trail simple."""

    __tablename__ = "team_memberships"
    __table_args__ = (UniqueConstraint("team_id", "user_id", name="uq_team_memberships_team_user"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    team_id: Mapped[int] = mapped_column(BigId, ForeignKey("teams.id"), nullable=False)
    user_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), nullable=False, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
