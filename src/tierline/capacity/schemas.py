"""API shapes of capacity-based SLA recommendations (the SLA engine's own calendars, policies and clocks
are in sla/schemas.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tierline.capacity.shifts import DEFAULT_SHIFT, SHIFT_PATTERN
from tierline.platform.schemas import Id

QUARTER_PATTERN = r"^[0-9]{4}[Qq][1-4]$"
RecommendedMetric = Literal["first_response", "resolution"]
Priority = Literal["P1", "P2", "P3", "P4"]


class RecommendationCompute(BaseModel):
    """Compute a fresh set of recommendations for `quarter` from the quarter before it."""

    model_config = ConfigDict(extra="forbid")

    quarter: str = Field(pattern=QUARTER_PATTERN, examples=["2026Q4"],
                         description="the quarter the targets are for; last quarter's history drives them")
    service_level: float = Field(default=0.9, gt=0, lt=1,
                                 description="share of tickets that must meet a target")
    team_id: Id | None = Field(default=None, description="one team's tickets and agents (default: everyone)")
    calendar_id: Id | None = Field(default=None, description="staffed hours and business minutes from this "
                                                              "calendar instead of the policies' own")
    shift: str = Field(default=DEFAULT_SHIFT, pattern=SHIFT_PATTERN, examples=["08:00-16:00"],
                       description="each agent's working hours on weekdays, in their own time zone (no shift "
                                   "schedules are stored yet); a shift ending before it starts runs overnight")


class RecommendationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    run_id: str
    quarter: str
    service_level: float
    team_id: int | None
    priority: Priority
    metric: RecommendedMetric
    policy_id: int | None
    current_minutes: float | None
    current_business_hours: bool | None
    recommended_minutes: float | None = Field(description="None when nothing can be recommended (see "
                                                          "inputs.reason)")
    business_hours: bool = Field(description="recommended_minutes are business minutes of calendar_id")
    calendar_id: int | None
    achieved_percent: float | None = Field(description="the policy's targets of this priority and metric met in "
                                                       "the observed quarter (sla_clocks)")
    inputs: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    applied_at: datetime | None
    applied_by: int | None


class RecommendationRun(BaseModel):
    run_id: str
    quarter: str
    observed_quarter: str
    service_level: float
    team_id: int | None
    items: list[RecommendationRead]

    @classmethod
    def of(cls, rows: list[Any]) -> RecommendationRun:
        """The run's stored rows (SlaRecommendation, one per priority and metric) as one answer."""
        first = rows[0]
        return cls(run_id=first.run_id, quarter=first.quarter,
                   observed_quarter=first.inputs["observed_quarter"], service_level=first.service_level,
                   team_id=first.team_id,
                   items=[RecommendationRead.model_validate(r) for r in rows])
