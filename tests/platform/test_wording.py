"""Issue 12, finding 7: "a incident". Texts that name a value take its indefinite article from the value."""

from __future__ import annotations

import pytest

from tests.tickets.conftest import create_ticket
from tierline.platform.wording import article, with_article


@pytest.mark.parametrize(("word", "expected"), [
    ("incident", "an incident"), ("bug", "a bug"), ("question", "a question"), ("open", "an open"),
    ("on_hold", "an on_hold"), ("engineering", "an engineering"), ("support", "a support"),
    ("enum", "an enum"), ("any", "an any"), ("feature_request", "a feature_request"), ("task", "a task"),
    ("L2", "an L2"), ("P1", "a P1"), ("SLA", "an SLA"), ("URL", "a URL"), ("hour", "an hour"),
    ("user", "a user"), ("unassigned", "an unassigned"), ("", "a "),
])
def test_the_article_follows_the_sound_of_the_word(word, expected):
    assert with_article(word) == expected
    assert article(word) == expected.split(" ")[0]


def test_solving_an_incident_without_its_fields_says_an_incident(agent):
    t = create_ticket(agent, type="incident")
    r = agent.patch(f"/api/v1/tickets/{t['key']}", json={"status": "solved"})
    assert r.status_code == 422, r.text
    details = {e["message"] for e in r.json()["errors"]}
    assert details == {"is required before an incident ticket is solved (ticket form)"}, details


def test_an_engineering_team_as_a_support_team_says_an_engineering_team(admin):
    team = admin.post("/api/v1/teams", json={"name": "Data Platform", "kind": "engineering"}).json()
    r = admin.post("/api/v1/components", json={"name": "Database", "support_team_id": team["id"]})
    assert r.status_code == 422, r.text
    assert "is an engineering team; it must be a support team" in r.json()["errors"][0]["message"]


def test_a_state_change_refused_from_open_says_an_open_ticket(agent):
    t = create_ticket(agent, assignee_id=agent.user_id)
    assert t["status"] == "open"
    r = agent.patch(f"/api/v1/tickets/{t['key']}", json={"status": "new"})
    assert r.status_code == 409, r.text
    assert "an open ticket cannot become new" in r.json()["detail"]
