"""API shapes of the tier report (GET /api/v1/triage/tier-report)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from tierline.tickets.schemas import TicketType, Tier


class TierFigures(BaseModel):
    volume: int = Field(description="tickets whose first touch was this tier")
    solved: int = Field(description="of those, solved (or closed) now")
    mttr_hours: float | None = Field(description="mean hours from created to solved")
    median_hours: float | None
    ever_solved: int = Field(description="solved at least once (the reopen rate's denominator)")
    reopened: int = Field(description="reopened at least once: an audit event of status solved -> open")
    reopen_rate: float | None
    escalated: int = Field(description="moved up a tier at some point")
    escalation_rate: float | None


class TierReportRow(BaseModel):
    component_id: int | None
    component: str | None
    type: TicketType
    volume: int
    untiered: int = Field(description="tickets that never had a tier (not in any tier's figures)")
    tiers: dict[Tier, TierFigures]
    recommended_first_touch: Tier
    reasons: list[str] = Field(description="the rules that moved first touch up a tier, with their figures")


class TierReport(BaseModel):
    days: int
    since: datetime
    until: datetime
    thresholds: dict[str, float] = Field(
        description="min_tickets to judge a tier; a tier hands first touch to the next when its reopen_rate, "
                    "its MTTR over the next tier's (mttr_ratio) or its escalation_rate exceeds these")
    rows: list[TierReportRow] = Field(description="per component and ticket type, largest volume first")
