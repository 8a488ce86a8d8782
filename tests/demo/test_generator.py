"""The demo plan: deterministic, realistic, and consistent with what the services will accept."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

from email_validator import validate_email

from tierline.demo import architecture as arch
from tierline.demo.corpus import SCENARIOS
from tierline.demo.generator import HISTORY_DAYS, generate
from tierline.demo.texts import TicketWriter
from tierline.tickets.forms import DEFAULT_FORMS

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _fingerprint(plan):  # noqa: ANN001, ANN202
    return ([(c.external_id, c.name, c.arr, [x.email for x in c.contacts]) for c in plan.customers],
            [(t.created_at, t.subject, t.description, t.requester_email, t.priority) for t in plan.tickets],
            [(e.at, e.ticket, e.kind, sorted(e.data.items())) for e in plan.events])


def test_the_same_seed_gives_the_same_plan():
    a = generate(seed=7, customers=30, tickets=300, now=NOW)
    b = generate(seed=7, customers=30, tickets=300, now=NOW)
    assert _fingerprint(a) == _fingerprint(b)


def test_another_seed_gives_another_plan():
    a = generate(seed=7, customers=30, tickets=300, now=NOW)
    b = generate(seed=8, customers=30, tickets=300, now=NOW)
    assert _fingerprint(a) != _fingerprint(b)


def test_tickets_spread_over_the_last_180_days_and_events_stop_at_now():
    plan = generate(seed=1, customers=40, tickets=600, now=NOW)
    created = [t.created_at for t in plan.tickets]
    assert min(created) >= NOW - timedelta(days=HISTORY_DAYS + 1) and max(created) < NOW
    assert min(created) < NOW - timedelta(days=150) and max(created) > NOW - timedelta(days=3)
    assert all(e.at < NOW for e in plan.events)
    assert [e.at for e in plan.events] == sorted(e.at for e in plan.events)
    assert Counter(e.kind for e in plan.events)["create"] == 600


def test_every_address_is_a_valid_email():
    plan = generate(seed=42, customers=150, tickets=2400, now=NOW)
    addresses = {t.requester_email for t in plan.tickets} | {p.email for p in plan.staff}
    addresses |= {x.email for c in plan.customers for x in c.contacts}
    for address in addresses:
        validate_email(address, check_deliverability=False)


def test_customer_arr_is_long_tailed_across_every_plan():
    plan = generate(seed=3, customers=200, tickets=0, now=NOW)
    arrs = sorted((c.arr for c in plan.customers), reverse=True)
    assert sum(arrs[:20]) > 0.4 * sum(arrs)  # the top 10% of customers carry a large share of ARR
    assert {c.plan for c in plan.customers} == {"free", "pro", "business", "enterprise"}
    assert len({c.timezone for c in plan.customers}) >= 15
    emails = [x.email for c in plan.customers for x in c.contacts]
    assert len(emails) == len(set(emails))
    assert all(x.email.split("@")[1] in c.email_domains for c in plan.customers for x in c.contacts)


def test_the_organisation_has_three_tiers_and_the_specialist_roles():
    plan = generate(seed=1, customers=1, tickets=0, now=NOW)
    roles = Counter(r for p in plan.staff for r in p.roles)
    assert roles["agent_l1"] >= 8 and roles["agent_l2"] >= 6 and roles["agent_l3"] >= 3
    for role in ("sme", "incident_commander", "manager", "product_manager", "compliance_officer", "auditor"):
        assert roles[role] >= 1, role
    assert len({p.email for p in plan.staff}) == len(plan.staff)
    assert len(arch.COMPONENTS) >= 30
    names = {c.name for c in arch.COMPONENTS}
    assert all(c.parent is None or c.parent in names for c in arch.COMPONENTS)
    assert all("/" not in c.name for c in arch.COMPONENTS)


def test_every_scenario_can_satisfy_its_ticket_form():
    for s in SCENARIOS:
        required = DEFAULT_FORMS[s.type][0]
        if "error_code" in required:
            assert s.error_codes, s.subjects[0]
        if "custom_fields.root_cause_summary" in required:
            assert s.root_causes, s.subjects[0]
        assert s.component in {c.name for c in arch.COMPONENTS}


def test_every_template_fills_and_reads_like_a_support_request():
    writer = TicketWriter(random.Random(0))
    plan = generate(seed=2, customers=5, tickets=0, now=NOW)
    customer = plan.customers[0]
    for s in SCENARIOS:
        code = s.error_codes[0] if s.error_codes else None
        ctx = writer.context(s, customer, customer.contacts[0].name, code, NOW)
        for template in (*s.subjects, *s.descriptions, *s.resolutions):
            text = template.format(**ctx)
            assert "{" not in text.replace("{{", "") or "error" in text, text
    text = generate(seed=2, customers=5, tickets=200, now=NOW)
    codes = {t.error_code for t in text.tickets}
    assert {"DB-1042", "AUTH-401"} & codes
    assert any("Traceback" in t.description or "HTTP/2" in t.description or "\tat " in t.description
               for t in text.tickets)


def test_old_tickets_reach_the_end_of_their_life_and_recent_ones_do_not():
    plan = generate(seed=5, customers=30, tickets=400, now=NOW)
    last_status: dict[int, str] = {}
    for e in plan.events:
        if e.kind == "create":
            last_status[e.ticket] = "new"
        elif "status" in e.data:
            last_status[e.ticket] = e.data["status"]
    old = [i for i, t in enumerate(plan.tickets) if t.created_at < NOW - timedelta(days=60)]
    recent = [i for i, t in enumerate(plan.tickets) if t.created_at > NOW - timedelta(days=7)]
    assert all(last_status[i] == "closed" for i in old)
    assert recent and any(last_status[i] in ("new", "open", "pending_customer") for i in recent)
