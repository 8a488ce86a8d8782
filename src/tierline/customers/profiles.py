"""What the rest of Tierline knows of a customer at a glance: plan, ARR and where it ranks, size.

Triage weighs it (impact), SLA matches policies on its plan, problems sum its ARR into exposure. Plain data,
kept per process in the customers directory (customers/service.py), so reading it costs no query.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class CustomerProfile:
    id: int
    name: str
    plan: str
    arr: float
    region: str | None
    licensed_users: int | None
    arr_percentile: float | None  # 0..1 among all customers
    open_tickets: int = 0  # filled by triage per ticket: it changes with every ticket
    health: float | None = None  # 0..100 when the customer-health issue lands
