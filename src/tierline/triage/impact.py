"""The customer impact score (0..100) of a ticket, each factor's points, and the ITIL impact x urgency matrix.

The score adds the points of independent factors (`WEIGHTS`, documented in docs/impact.md) and caps the sum at
100. Every factor only grows with its input (a richer customer, more affected users, production down, a worse
incident, a sicker customer, a frustrated one), so nothing that makes a ticket worse can lower its score.
"""

from __future__ import annotations

import math
from typing import Any

from tierline.triage.types import Draft, Impact, Signals

# Points per factor. Data: change them here and in docs/impact.md together.
WEIGHTS: dict[str, Any] = {
    # The customer's ARR percentile among all customers (0..1) times this.
    "arr_percentile": 20,
    # The customer's plan.
    "plan": {"free": 0, "pro": 3, "business": 6, "enterprise": 10},
    # Affected users on a log scale: points_per_decade * log10(users), at most max_points (10,000 users).
    "affected_users": {"points_per_decade": 5, "max_points": 20},
    # "all users" with no count and no licensed seat count known: scored as this many users.
    "all_users_default": 1000,
    "production_down": 25,
    "data_loss": 15,
    "security": 15,
    # The customer's other open tickets: this many points each, at most max_points.
    "open_tickets": {"points_each": 1, "max_points": 5},
    # The linked incident's severity.
    "incident_severity": {"SEV1": 20, "SEV2": 12, "SEV3": 6, "SEV4": 2},
    # Customer health 0..100 (100 healthy): (100 - health) / 100 times this. An unhealthy account is at risk.
    "health": 5,
    # The customer is frustrated (sentiment.py).
    "frustrated": 5,
}
MAX_SCORE = 100
# Open tickets are counted up to this many: the factor is full at a handful, and in an outage one customer's
# open tickets pile up by the thousand (counting them all made each intake of a burst slower than the last).
OPEN_TICKETS_COUNTED = 100

# ITIL: impact level from the score, then the impact x urgency matrix. Levels are (name, minimum score),
# highest first; urgency None counts as "medium".
IMPACT_LEVELS: tuple[tuple[str, int], ...] = (("high", 50), ("medium", 25), ("low", 0))
URGENCY_LEVELS = ("high", "medium", "low")
PRIORITY_MATRIX: dict[tuple[str, str], str] = {
    ("high", "high"): "P1", ("high", "medium"): "P2", ("high", "low"): "P3",
    ("medium", "high"): "P2", ("medium", "medium"): "P3", ("medium", "low"): "P4",
    ("low", "high"): "P3", ("low", "medium"): "P4", ("low", "low"): "P4",
}


def _round(points: float) -> float:
    return round(points, 1)


def _users_points(users: int) -> float:
    spec = WEIGHTS["affected_users"]
    if users < 1:
        return 0.0
    return min(float(spec["max_points"]), spec["points_per_decade"] * math.log10(users))


def score(*, draft: Draft, signals: Signals, incident_severity: str | None = None) -> Impact:
    """The ticket's impact score with each factor's points and why (`explain`: [{factor, points, detail}])."""
    customer = draft.customer
    explain: list[dict[str, Any]] = []

    if customer is not None and customer.arr_percentile is not None:
        pct = min(1.0, max(0.0, customer.arr_percentile))
        explain.append({"factor": "arr_percentile", "points": _round(WEIGHTS["arr_percentile"] * pct),
                        "detail": f"ARR {customer.arr:,.2f}, percentile {pct:.2f}"})
    else:
        explain.append({"factor": "arr_percentile", "points": 0.0,
                        "detail": "unknown customer" if customer is None else "no ARR percentile"})

    plan_points = WEIGHTS["plan"].get(customer.plan, 0) if customer is not None else 0
    explain.append({"factor": "plan", "points": float(plan_points),
                    "detail": customer.plan if customer is not None else "unknown customer"})

    users, source = _affected(draft, signals)
    explain.append({"factor": "affected_users", "points": _round(_users_points(users or 0)),
                    "detail": f"{users} users ({source})" if users is not None else "unknown"})

    for factor in ("production_down", "data_loss", "security"):
        on = bool(getattr(signals, factor))
        explain.append({"factor": factor, "points": float(WEIGHTS[factor]) if on else 0.0,
                        "detail": "said in the ticket" if on else "not mentioned"})

    open_tickets = customer.open_tickets if customer is not None else 0
    spec = WEIGHTS["open_tickets"]
    explain.append({"factor": "open_tickets",
                    "points": float(min(spec["max_points"], spec["points_each"] * max(0, open_tickets))),
                    "detail": _open_tickets_detail(open_tickets)})

    severity_points = WEIGHTS["incident_severity"].get(incident_severity or "", 0)
    explain.append({"factor": "incident_severity", "points": float(severity_points),
                    "detail": incident_severity or "no linked incident"})

    health = customer.health if customer is not None else None
    if health is not None:
        health = min(100.0, max(0.0, float(health)))
        explain.append({"factor": "health", "points": _round(WEIGHTS["health"] * (100.0 - health) / 100.0),
                        "detail": f"customer health {health:.0f}/100"})
    else:
        explain.append({"factor": "health", "points": 0.0, "detail": "unknown"})

    frustrated = draft.frustrated or bool(signals.sentiment and signals.sentiment.frustrated)
    explain.append({"factor": "frustrated", "points": float(WEIGHTS["frustrated"]) if frustrated else 0.0,
                    "detail": "customer frustrated" if frustrated else "no"})

    total = sum(item["points"] for item in explain)
    return Impact(score=min(MAX_SCORE, round(total)), explain=explain)


def _affected(draft: Draft, signals: Signals) -> tuple[int | None, str]:
    """The affected user count the score uses, and where it came from.

    A count the caller (or a rule) set on the ticket is the truth. Otherwise the largest of the ticket's
    field (the pipeline fills it from the text), the text's count, and for "all users" wording the customer's
    licensed seats (or `all_users_default`)."""
    if draft.affected_users is not None and ("affected_users" in draft.caller_set
                                             or "affected_users" in draft.rule_set):
        return draft.affected_users, "ticket field"
    candidates: list[tuple[int, str]] = []
    if signals.affected_users is not None:
        candidates.append((signals.affected_users, "extracted"))
    if draft.affected_users is not None:
        candidates.append((draft.affected_users, "ticket field"))
    if signals.all_users:
        licensed = draft.customer.licensed_users if draft.customer is not None else None
        if licensed:
            candidates.append((licensed, "all users: licensed seats"))
        else:
            candidates.append((WEIGHTS["all_users_default"], "all users"))
    if not candidates:
        return None, ""
    return max(candidates, key=lambda c: c[0])


def _open_tickets_detail(open_tickets: int) -> str:
    if open_tickets >= OPEN_TICKETS_COUNTED:
        return f"{OPEN_TICKETS_COUNTED} or more other open tickets"
    return f"{open_tickets} other open tickets"


def impact_level(score: int) -> str:
    for name, minimum in IMPACT_LEVELS:
        if score >= minimum:
            return name
    return IMPACT_LEVELS[-1][0]


def effective_urgency(draft: Draft, signals: Signals | None) -> str | None:
    """The urgency the matrix reads: the ticket's, when someone gave one; else high for a full outage (the
    production-down wording: "production is down", "prod down", "outage", "all our users are locked out"),
    since nothing is more time-critical than a customer who cannot work; else None (medium)."""
    if draft.urgency in URGENCY_LEVELS:
        return draft.urgency
    return "high" if signals is not None and signals.production_down else None


def priority_from_impact(score: int, urgency: str | None) -> str:
    """P1..P4 from the impact score and the ticket's urgency (low|medium|high; None is medium), ITIL style."""
    urgency = urgency or "medium"
    if urgency not in URGENCY_LEVELS:
        raise ValueError(f"urgency must be one of {', '.join(URGENCY_LEVELS)}")
    return PRIORITY_MATRIX[(impact_level(score), urgency)]


def render_markdown() -> str:
    """`WEIGHTS`, the impact levels and the priority matrix as docs/impact.md publishes them (a test keeps
    them equal)."""
    w = WEIGHTS
    plans = ", ".join(f"{plan} {points}" for plan, points in w["plan"].items())
    severities = ", ".join(f"{sev} {points}" for sev, points in w["incident_severity"].items())
    users = w["affected_users"]
    rows = [
        ("arr_percentile", f"0..{w['arr_percentile']}",
         f"customer's ARR percentile (0..1) x {w['arr_percentile']}"),
        ("plan", f"0..{max(w['plan'].values())}", plans),
        ("affected_users", f"0..{users['max_points']}",
         (f"{users['points_per_decade']} x log10(users), capped (1 user 0, 10 users "
          f"{users['points_per_decade']}, 100 users {2 * users['points_per_decade']}, ...); "
          f"\"all users\": the customer's licensed seats, else {w['all_users_default']} users")),
        ("production_down", str(w["production_down"]), "production-down wording in the ticket"),
        ("data_loss", str(w["data_loss"]), "data-loss wording in the ticket"),
        ("security", str(w["security"]), "security wording in the ticket"),
        ("open_tickets", f"0..{w['open_tickets']['max_points']}",
         f"{w['open_tickets']['points_each']} per other open ticket of the customer"),
        ("incident_severity", f"0..{max(w['incident_severity'].values())}", severities),
        ("health", f"0..{w['health']}", f"(100 - customer health) / 100 x {w['health']}"),
        ("frustrated", str(w["frustrated"]), "the customer is frustrated (sentiment)"),
    ]
    lines = ["| factor | points | how |", "|---|---|---|"]
    lines += [f"| `{factor}` | {points} | {how} |" for factor, points, how in rows]
    lines += ["", f"Score = min({MAX_SCORE}, round(sum of the points)).", "",
              "| impact level | score |", "|---|---|"]
    lines += [f"| {name} | >= {minimum} |" for name, minimum in IMPACT_LEVELS]
    lines += ["", "| impact \\ urgency | " + " | ".join(URGENCY_LEVELS) + " |",
              "|---|" + "---|" * len(URGENCY_LEVELS)]
    for name, _ in IMPACT_LEVELS:
        lines.append(f"| {name} | " + " | ".join(PRIORITY_MATRIX[(name, u)] for u in URGENCY_LEVELS) + " |")
    return "\n".join(lines)
