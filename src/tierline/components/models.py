from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column

from tierline.platform.db import Base, BigId, JSONType, UTCDateTime


class Component(Base):
    """A node of the system-architecture tree. KB taxonomy, routing and ownership hang on it."""

    __tablename__ = "components"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("components.id"), index=True)
    owner_team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id"), index=True)
    support_team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id"), index=True)
    required_skills: Mapped[list[str]] = mapped_column(JSONType, nullable=False, default=list)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


# Sibling names are unique, case-insensitively, roots included (a plain UNIQUE(parent_id, name) lets NULL
# parents repeat). An expression index, so the migration creates it by hand.
Index("uq_components_sibling_name", func.coalesce(Component.parent_id, 0), func.lower(Component.name),
      unique=True)
