"""Routes: GET /api/v1/triage/tier-report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from tierline.platform.auth.actor import Actor
from tierline.platform.deps import DB, require
from tierline.platform.schemas import Id
from tierline.tickets.schemas import TicketType
from tierline.triage import tiers
from tierline.triage.tier_schemas import TierReport

router = APIRouter(prefix="/api/v1/triage", tags=["triage"])


@router.get("/tier-report", response_model=TierReport)
def tier_report(
    db: DB,
    _: Annotated[Actor, require("triage:read")],
    days: Annotated[int, Query(ge=1, le=3650, description="tickets created in the last N days")] = 90,
    component_id: Annotated[Id | None, Query(description="this component and its descendants")] = None,
    type: TicketType | None = None,  # `type`: the ticket field's name
) -> TierReport:
    """Per component and ticket type: volume, MTTR, reopen and escalation rates per first-touch tier, the tier
    that takes first touch now, the tier that should (never one without min_tickets of evidence), whether that
    changes practice and why, with the thresholds, the rules that fired and the figures too thin to judge."""
    return TierReport.model_validate(tiers.report(db, days=days, component_id=component_id, type=type))
