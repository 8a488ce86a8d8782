from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Interval = list[str]
Hours = dict[str, list[Interval]] | Literal["24/7"]


class CalendarCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"])
    hours: Hours = Field(examples=[{"mon": [["09:00", "12:30"], ["13:30", "17:00"]], "tue": [["09:00", "17:00"]]}])
    holidays: list[date] = Field(default_factory=list, description="local dates with no business hours")
    holiday_country: str | None = Field(default=None, max_length=8, description="ISO country, `holidays` package")
    holiday_subdivision: str | None = Field(default=None, max_length=16)


class CalendarUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    hours: Hours | None = None
    holidays: list[date] | None = None
    holiday_country: str | None = Field(default=None, max_length=8)
    holiday_subdivision: str | None = Field(default=None, max_length=16)


class CalendarRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    timezone: str
    hours: Hours
    holidays: list[date]
    holiday_country: str | None
    holiday_subdivision: str | None
    created_at: datetime
    updated_at: datetime


class BusinessTimeAnswer(BaseModel):
    start: datetime
    due_at: datetime | None = None
    end: datetime | None = None
    business_minutes: float | None = None
