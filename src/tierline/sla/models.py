from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from tierline.platform.db import Base, BigId, JSONType, UTCDateTime


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
