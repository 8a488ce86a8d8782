"""The demo's business calendars and SLA policies: what a SaaS support organisation typically promises."""

from __future__ import annotations

from typing import Any

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

CALENDARS: tuple[dict[str, Any], ...] = (
    {"name": "EU support hours", "timezone": "Europe/Berlin",
     "hours": {d: [["08:00", "18:00"]] for d in WEEKDAYS},
     "holidays": ["2026-12-24", "2026-12-31"], "holiday_country": "DE", "holiday_subdivision": "BE"},
    {"name": "Follow the sun (24/5)", "timezone": "UTC",
     "hours": {d: [["00:00", "24:00"]] for d in WEEKDAYS}},
)


def _targets(first: dict[str, float], nxt: dict[str, float], resolution: dict[str, float],
             business: set[str]) -> list[dict[str, Any]]:
    out = []
    for metric, table in (("first_response", first), ("next_reply", nxt), ("resolution", resolution)):
        for priority, minutes in table.items():
            out.append({"metric": metric, "priority": priority, "minutes": minutes,
                        "business_hours": priority in business})
    return out


# Calendar by name; the loader swaps in ids. P1 runs on the clock, everything else in business hours.
POLICIES: tuple[dict[str, Any], ...] = (
    {"name": "Enterprise & Business", "position": 1, "calendar": "Follow the sun (24/5)",
     "description": "Contracted targets for enterprise and business plans.",
     "match": {"customer_plan": ["enterprise", "business"]},
     "targets": _targets({"P1": 30, "P2": 60, "P3": 240, "P4": 480},
                         {"P1": 60, "P2": 120, "P3": 480, "P4": 960},
                         {"P1": 480, "P2": 1440, "P3": 4800, "P4": 9600}, {"P2", "P3", "P4"})
     + [{"metric": "periodic_update", "priority": "P1", "minutes": 60, "business_hours": False}],
     "on_breach": {"bump_priority": False, "escalate_tier": True}},
    {"name": "Standard", "position": 10, "calendar": "EU support hours",
     "description": "Everyone else: free and pro plans, and requesters without a customer.",
     "match": {},
     "targets": _targets({"P1": 60, "P2": 240, "P3": 480, "P4": 1440},
                         {"P1": 120, "P2": 480, "P3": 960, "P4": 1920},
                         {"P1": 1440, "P2": 2880, "P3": 9600, "P4": 19200}, {"P2", "P3", "P4"}),
     "on_breach": {"bump_priority": False, "escalate_tier": False}},
)
