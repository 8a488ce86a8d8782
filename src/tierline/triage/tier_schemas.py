"""API shapes of the tier report (GET /api/v1/triage/tier-report).

Other tools read this report: fields are added, never renamed."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from tierline.tickets.schemas import TicketType, Tier

Figure = Literal["reopen_rate", "mttr_hours", "escalation_rate"]


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
    current_first_touch: Tier | None = Field(
        description="the tier that took first touch of most of these tickets now (a tie goes to the lower "
                    "tier); null when none had a tier. tiers.*.volume is the whole distribution")
    recommended_first_touch: Tier = Field(
        description="the lowest tier with min_tickets first-touch tickets, moved up a tier while a rule fires; "
                    "when no tier has min_tickets, the current practice (L1 when none)")
    changes_practice: bool = Field(description="the recommendation differs from current_first_touch")
    verdict: str = Field(description="keep or move first touch, and why, in one line, e.g. "
                                     "'keep L2: L1 has no first-touch data'")
    reasons: list[str] = Field(description="the rules that moved first touch up a tier, with their figures "
                                           "('-> L2'), and where too few tickets moved or stopped it")
    insufficient_data: dict[Tier, list[Figure]] = Field(
        description="per tier, the figures with fewer than min_tickets tickets behind them (reopen_rate: "
                    "ever_solved, mttr_hours: solved, escalation_rate: volume); tiers with enough are left out")


class TierReport(BaseModel):
    days: int
    since: datetime
    until: datetime
    thresholds: dict[str, float] = Field(
        description="min_tickets to judge a tier; a tier hands first touch to the next when its reopen_rate, "
                    "its MTTR over the next tier's (mttr_ratio) or its escalation_rate exceeds these")
    rows: list[TierReportRow] = Field(description="per component and ticket type, largest volume first")
