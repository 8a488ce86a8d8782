"""Issue 12, finding 7: '"Production is down" from an enterprise customer ($329.5k ARR) came out P2'. A full
outage ("production is down", "prod down", "outage", "all our users are locked out") reads as high urgency, so
its impact gives P1; a new ticket that reads as one is never less urgent than that, whatever the default or a
classifier said, unless the caller gave a priority or a rule sets one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.tickets.conftest import create_ticket
from tierline.triage import impact
from tierline.triage.signals import extract
from tierline.triage.types import Draft, Signals

PRIORITY_RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4}


@pytest.fixture
def customers(admin):
    """The demo's shape: an enterprise customer at $329.5k ARR among smaller ones."""
    out = {}
    for name, plan, arr in (("Cobalt Software", "enterprise", 329_500), ("Acme", "business", 48_000),
                            ("Beta", "pro", 12_000), ("Corp", "business", 90_000), ("Delta", "free", 0)):
        r = admin.post("/api/v1/customers", json={"name": name, "external_id": name.lower().split()[0],
                                                  "plan": plan, "arr": arr,
                                                  "email_domains": [f"{name.lower().split()[0]}.example"]})
        assert r.status_code == 201, r.text
        out[name] = r.json()
    return out


def _priority_from_impact_rule(admin) -> None:  # noqa: ANN001
    """The demo's rule 200: an incident scoring 50+ takes its priority from the impact x urgency matrix."""
    r = admin.post("/api/v1/triage/rules", json={
        "name": "High-impact incidents: priority from impact", "position": 200,
        "conditions": {"all": [{"field": "type", "op": "equals", "value": "incident"},
                               {"field": "impact_score", "op": "gte", "value": 50}]},
        "actions": [{"type": "set_priority_from_impact"}]})
    assert r.status_code == 201, r.text


def test_production_down_from_an_enterprise_customer_is_p1_through_the_impact_rule(admin, agent, customers):
    _priority_from_impact_rule(admin)
    t = create_ticket(agent, subject="Production is down", type="incident",
                      description="Since 09:10 our production workspace answers every request with an error.",
                      requester_email="ops@cobalt.example")
    assert t["impact_score"] >= 50
    assert t["priority"] == "P1", t["triage"]["actions"]
    [action] = t["triage"]["actions"]
    assert "urgency high (full outage)" in action["note"]


@pytest.mark.parametrize("subject", ["Production is down", "prod down since 9am", "Outage right now",
                                     "All our users are locked out"])
def test_a_full_outage_is_never_less_urgent_than_its_impact_at_high_urgency(agent, customers, subject):
    t = create_ticket(agent, subject=subject, description="Please call us.", requester_email="it@cobalt.example")
    assert t["triage"]["signals"]["production_down"] is True
    assert t["priority"] == "P1"
    assert t["triage"]["outage_priority"]["was"] == "P3"
    small = create_ticket(agent, subject=subject, description="Please call us.", requester_email="me@delta.example")
    assert small["priority"] == impact.priority_from_impact(small["impact_score"], "high")


def test_the_caller_s_priority_stands_and_a_planned_outage_is_no_outage(agent, customers):
    t = create_ticket(agent, subject="Production is down", description="x", priority="P3",
                      requester_email="ops@cobalt.example")
    assert t["priority"] == "P3" and t["triage"]["outage_priority"] is None
    planned = create_ticket(agent, subject="Planned outage on Sunday", description="Is the window confirmed?",
                            requester_email="ops@cobalt.example")
    assert planned["triage"]["signals"]["production_down"] is False and planned["priority"] == "P3"


@given(score=st.integers(0, 100), urgency=st.sampled_from([None, "low", "medium", "high"]),
       down=st.booleans())
def test_a_full_outage_never_makes_the_matrix_less_urgent(score, urgency, down):
    draft = Draft(subject="s", description="d", requester_email="a@example.com", urgency=urgency)
    calm = impact.priority_from_impact(score, impact.effective_urgency(draft, Signals()))
    read = impact.priority_from_impact(score, impact.effective_urgency(draft, Signals(production_down=down)))
    assert PRIORITY_RANK[read] <= PRIORITY_RANK[calm]
    if urgency is not None:  # an urgency someone gave is the truth
        assert read == calm


@pytest.mark.parametrize("text", ["a planned outage tonight", "there is no outage", "brief outage yesterday",
                                  "not all users are locked out", "all the reports are late"])
def test_outage_look_alikes_are_not_a_full_outage(text):
    assert extract(subject=text, description="", custom_fields={}, component_index={},
                   with_sentiment=False).production_down is False
