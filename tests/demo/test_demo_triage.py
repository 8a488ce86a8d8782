"""The demo shows triage and SLAs: its rules route the history at intake, agents are found, a classifier is
active, and some tickets breached their targets while others are about to."""

from __future__ import annotations

from sqlalchemy import func, select

from tierline.demo import architecture as arch
from tierline.demo import triage_rules
from tierline.demo.command import load, mint_credentials
from tierline.platform.audit import AuditEvent
from tierline.tickets.models import Ticket
from tierline.triage import classifier

SMALL = {"customers": 6, "tickets": 60, "seed": 11}
PARENTS = {c.name: c.parent for c in arch.COMPONENTS}


def _all(api_get, path: str) -> list[dict]:
    items, cursor = [], None
    while True:
        r = api_get(path + (f"&cursor={cursor}" if cursor else ""))
        assert r.status_code == 200, r.text
        items += r.json()["items"]
        cursor = r.json()["next_cursor"]
        if cursor is None:
            return items


def test_the_demo_routes_its_history_by_rules_and_activates_a_classifier(db, client):
    result = load(db, **SMALL)
    assert result.loaded and result.misrouted == [] and result.skipped_events == []
    trained = {m.target: m for m in result.classifiers}
    assert trained["queue"].version is not None, trained["queue"].error
    headers = {"Authorization": f"Bearer {mint_credentials(db).token}"}

    def get(path: str):
        return client.get(path, headers=headers)

    rules = _all(get, "/api/v1/triage/rules?limit=200")
    in_order = sorted(triage_rules.RULES, key=lambda r: r["position"])
    assert [r["name"] for r in rules] == [r["name"] for r in in_order]
    queues = {q["id"]: q["name"] for q in _all(get, "/api/v1/queues?limit=200")}

    tickets = _all(get, "/api/v1/tickets?limit=200&include=triage")  # lists leave it out unless asked
    assert len(tickets) >= SMALL["tickets"]
    assert all(t["triage"] is not None for t in tickets)
    # Routing rules tag what they route; the tags outlive the intake record (later runs replace `triage`).
    routed = [t for t in tickets if {"database", "identity", "5xx", "network", "integrations", "jobs",
                                      "billing", "storage", "etl", "api-error"} & set(t["tags"])]
    assert len(routed) >= len(tickets) // 3
    assert any(t["triage"]["matched_rules"] for t in tickets)
    assert {queues[t["queue_id"]] for t in routed} & {"L2 Database & Data", "L2 Auth & Identity",
                                                       "L2 Integrations & API"}
    with db.session(write=False) as session:
        waiting = session.scalar(select(func.count()).select_from(Ticket)
                                 .where(Ticket.waiting_reason.is_not(None)))
        active = {m.target: m for m in classifier.list_(session) if m.active}
        activations = session.scalar(select(func.count()).select_from(AuditEvent)
                                     .where(AuditEvent.action == "triage_models.activate"))
        # Tickets wait later for a reason: their agent is out today, or an SLA escalation found nobody.
        moved = session.scalar(select(func.count(func.distinct(AuditEvent.entity_id))).where(
            AuditEvent.action.in_(("tickets.return_to_queue", "tickets.escalate"))))
    # The demo's skills let intake find an agent for nearly every ticket.
    found, created = result.assigned_at_intake
    assert created == SMALL["tickets"] and found >= 0.9 * created and waiting <= created - found + moved
    assert set(active) == {m.target for m in result.classifiers if m.version is not None}
    assert "queue" in active
    assert activations == len(active)

    # A new ticket: the rules route it by its error code, and the active classifier's prediction shows.
    with db.session(write=False) as session:
        requester = session.scalar(select(Ticket.requester_email).where(Ticket.customer_id.is_not(None)))
    r = client.post("/api/v1/tickets", headers=headers, json={
        "subject": "Read replica lagging 40 minutes behind primary (DB-1042)",
        "description": "Since this morning the replica in eu-west lags the primary; alert DB-1042 fires.",
        "requester_email": requester})
    assert r.status_code == 201, r.text
    new = r.json()
    assert queues[new["queue_id"]] == "L2 Database & Data" and new["tier"] == "L2"
    assert "Database errors (DB-): L2 Database & Data" in {m["name"] for m in new["triage"]["matched_rules"]}
    assert {p["target"] for p in new["triage"]["prediction"]} == set(active)
    assert new["assignee_id"] is not None


def test_the_demo_has_breached_and_at_risk_tickets(db, client):
    load(db, **SMALL)
    headers = {"Authorization": f"Bearer {mint_credentials(db).token}"}
    at_risk = client.get("/api/v1/sla/at-risk?within_minutes=1440&limit=200", headers=headers)
    assert at_risk.status_code == 200, at_risk.text
    assert at_risk.json()["items"], "no target falls due within a day of the demo's end"
    with db.session(write=False) as session:
        keys = [f"T-{i}" for i in session.scalars(select(Ticket.id).order_by(Ticket.id.desc()))]
    statuses = []
    for key in keys:
        r = client.get(f"/api/v1/tickets/{key}", headers=headers)
        assert r.status_code == 200, r.text
        statuses += [(c["metric"], c["status"]) for c in r.json()["sla"]]
    assert any(status == "breached" for _, status in statuses)
    assert any(status == "achieved" for _, status in statuses)
    assert any(status == "active" for _, status in statuses)


def test_intake_queue_agrees_with_the_rules_on_every_demo_scenario():
    from tierline.demo.corpus import SCENARIOS

    for scenario in SCENARIOS:
        for code in scenario.error_codes or (None,):
            for plan in ("free", "enterprise", None):
                queue = triage_rules.intake_queue(error_code=code, component=scenario.component, plan=plan,
                                                  parents=PARENTS)
                assert queue is None or queue in {q.name for q in arch.QUEUES}
    assert triage_rules.intake_queue(error_code="DB-1042", component="Replication", plan=None,
                                     parents=PARENTS) == "L2 Database & Data"
    assert triage_rules.intake_queue(error_code="HTTP 503", component="CDN", plan="pro",
                                     parents=PARENTS) == "L2 Integrations & API"
    assert triage_rules.intake_queue(error_code="PAY-3003", component="Payments", plan="enterprise",
                                     parents=PARENTS) == "L2 Billing"
    assert triage_rules.intake_queue(error_code="PAY-3003", component="Payments", plan="pro",
                                     parents=PARENTS) == "L1 Billing"
    assert triage_rules.intake_queue(error_code="API-429", component="Rate Limiting", plan="pro",
                                     parents=PARENTS) is None


def test_every_component_can_be_worked_by_the_team_its_tickets_start_with():
    """The skills a component requires are held by every agent of the queue its tickets land in."""
    from tierline.demo.corpus import SCENARIOS
    from tierline.demo.generator import generate
    from tierline.platform import clock

    plan = generate(seed=3, customers=5, tickets=0, now=clock.now())
    required = {c.name: set(c.skills) for c in arch.COMPONENTS}
    queues = {q.name: q for q in arch.QUEUES}
    for scenario in SCENARIOS:
        component = next(c for c in arch.COMPONENTS if c.name == scenario.component)
        for code in scenario.error_codes or (None,):
            name = triage_rules.intake_queue(error_code=code, component=scenario.component, plan="pro",
                                             parents=PARENTS) or (
                arch.L1_QUEUE_FOR_BILLING if component.l2_queue == "L2 Billing" else arch.L1_QUEUE)
            q = queues[name]
            agents = [p for p in plan.staff if q.team in p.teams and f"agent_{q.tier.lower()}" in p.roles]
            assert agents and all(required[scenario.component] <= set(p.skills) for p in agents), (
                scenario.component, code, name)
