from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tierline.platform.schemas import Id, Minutes
from tierline.sla.policies import uncovered

Interval = list[str]
Hours = dict[str, list[Interval]] | Literal["24/7"]


class CalendarCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    timezone: str = Field(min_length=1, max_length=64, examples=["Europe/Berlin"])
    hours: Hours = Field(examples=[{"mon": [["09:00", "12:30"], ["13:30", "17:00"]], "tue": [["09:00", "17:00"]]}])
    holidays: list[date] = Field(default_factory=list, max_length=1000,
                                 description="local dates with no business hours")
    holiday_country: str | None = Field(default=None, max_length=8, description="ISO country, `holidays` package")
    holiday_subdivision: str | None = Field(default=None, max_length=16)


class CalendarUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = Field(default=None, min_length=1, max_length=64)
    hours: Hours | None = None
    holidays: list[date] | None = Field(default=None, max_length=1000)
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
    business_minutes: Minutes | None = None


ComplianceGroup = Literal["priority", "team", "policy", "customer_plan", "assignee", "queue", "component"]
Metric = Literal["first_response", "next_reply", "periodic_update", "resolution"]
Priority = Literal["P1", "P2", "P3", "P4"]
PauseStatus = Literal["pending_customer", "on_hold"]


class PolicyMatch(BaseModel):
    """Every given list must contain the ticket's value (tags_any: share one tag); an empty match holds always."""

    model_config = ConfigDict(extra="forbid")

    priority: list[Priority] | None = None
    customer_plan: list[Literal["free", "pro", "business", "enterprise"]] | None = None
    type: list[Literal["question", "incident", "problem", "bug", "task", "feature_request"]] | None = None
    channel: list[Literal["email", "web", "api", "chat", "phone", "alert"]] | None = None
    component_id: list[Id] | None = Field(default=None, max_length=1000,
                                         description="matches these components and their descendants")
    tags_any: list[str] | None = None


class PolicyTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    metric: Metric
    priority: Priority
    minutes: float = Field(gt=0, le=525_600)
    business_hours: bool = False


TicketType = Literal["question", "incident", "problem", "bug", "task", "feature_request"]


class OnBreach(BaseModel):
    model_config = ConfigDict(extra="forbid")

    bump_priority: bool = False
    escalate_tier: bool = Field(default=False, description="move the ticket one tier up (never more than one "
                                                           "tier beyond where a person put it)")
    escalate_exclude_types: list[TicketType] = Field(
        default_factory=lambda: ["feature_request"], max_length=6,
        description="ticket types a breach does not escalate (a feature request is not a support emergency)")


class PolicyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    position: int = Field(default=0, ge=0, le=1_000_000)
    active: bool = True
    match: PolicyMatch = Field(default_factory=PolicyMatch)
    calendar_id: Id | None = None
    targets: list[PolicyTarget] = Field(min_length=1, max_length=64)
    warning_percent: int = Field(default=75, ge=1, le=99)
    pause_statuses: list[PauseStatus] = Field(default_factory=lambda: ["pending_customer", "on_hold"])
    on_breach: OnBreach = Field(default_factory=OnBreach)


class PolicyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    position: int | None = Field(default=None, ge=0, le=1_000_000)
    active: bool | None = None
    match: PolicyMatch | None = None
    calendar_id: Id | None = None
    targets: list[PolicyTarget] | None = Field(default=None, min_length=1, max_length=64)
    warning_percent: int | None = Field(default=None, ge=1, le=99)
    pause_statuses: list[PauseStatus] | None = None
    on_breach: OnBreach | None = None


class PolicyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    position: int
    active: bool
    match: PolicyMatch
    calendar_id: int | None
    targets: list[PolicyTarget]
    warning_percent: int
    pause_statuses: list[str]
    on_breach: OnBreach
    created_at: datetime
    updated_at: datetime
    warnings: list[PolicyWarning] = Field(
        default_factory=list, description="each (metric, priority) pair among the priorities the policy matches "
                                          "that has no target: accepted, but such tickets get no clock for it")

    @model_validator(mode="after")
    def _uncovered(self) -> PolicyRead:
        targets = [t.model_dump() for t in self.targets]
        self.warnings = [PolicyWarning(**w) for w in uncovered(targets, self.match.model_dump())]
        return self


class PolicyWarning(BaseModel):
    metric: Metric
    priority: Priority
    detail: str


class PolicyRef(BaseModel):
    id: int
    name: str


class ClockRead(BaseModel):
    """A ticket's target as Zendesk users read it; minutes are business minutes when business_hours."""

    metric: Metric
    target_minutes: Minutes
    business_hours: bool
    due_at: datetime | None
    status: Literal["active", "paused", "achieved", "breached", "cancelled"] = Field(
        description="cancelled: the target stopped applying (a priority, policy or match change); its consumed "
                    "time and any breach stay, and it resumes if the target applies again")
    elapsed_minutes: Minutes
    remaining_minutes: Minutes
    breached_at: datetime | None
    achieved_at: datetime | None
    completed_at: datetime | None = None
    cycle: int = 1


class AtRiskItem(BaseModel):
    ticket_key: str
    ticket_id: int
    subject: str
    priority: str
    status: str
    team_id: int | None
    assignee_id: int | None
    assignee_name: str | None = None
    customer_id: int | None = None
    customer_name: str | None = None
    customer_arr: float | None = None
    metric: Metric
    due_at: datetime
    breached: bool = Field(default=False, description="the target is already missed (the ticket is unsolved)")
    breached_at: datetime | None = None
    target_minutes: Minutes
    business_hours: bool
    remaining_minutes: float = Field(description="in the target's unit, rounded to 0.1; negative once breached")


class ComplianceRow(BaseModel):
    """One group. Durations are named `<metric>_<statistic>_<basis>_minutes`: business minutes count only the
    business calendar's hours (every minute when the target has no calendar), calendar minutes are wall-clock
    time; both leave out the time the clock was paused. Rounded to 0.1."""

    group: str | int | None
    label: str = Field(description="the group's name; the empty group is \"No team\", \"Unassigned\", "
                                   "\"No queue\", \"No component\", \"No plan\"")
    targets: int
    achieved: int
    breaches: int
    achieved_percent: float | None
    first_response_median_business_minutes: float | None
    first_response_median_calendar_minutes: float | None
    first_response_p90_business_minutes: float | None
    first_response_p90_calendar_minutes: float | None
    resolution_median_business_minutes: float | None
    resolution_median_calendar_minutes: float | None
    resolution_p90_business_minutes: float | None
    resolution_p90_calendar_minutes: float | None


class ComplianceReport(BaseModel):
    from_: datetime = Field(alias="from")
    to: datetime
    group_by: str
    items: list[ComplianceRow]

    model_config = ConfigDict(populate_by_name=True)
