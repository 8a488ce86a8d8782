"""Full-text search of tickets (`?q=`): subject, description and messages, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.tickets.conftest import create_ticket, patch_ticket, post_message


def _found(api, q: str, **params) -> list[str]:  # noqa: ANN001, ANN003
    r = api.get("/api/v1/tickets", params={"q": q, **params})
    assert r.status_code == 200, r.text
    return sorted(t["key"] for t in r.json()["items"])


def test_it_finds_tickets_by_words_in_subject_description_and_messages(agent):
    vpn = create_ticket(agent, subject="VPN tunnel drops", description="The client disconnects hourly.")
    invoice = create_ticket(agent, subject="Invoice missing", description="No PDF attached to the email.")
    post_message(agent, invoice["key"], body="Please check the billing portal under statements.")
    assert _found(agent, "tunnel") == [vpn["key"]]
    assert _found(agent, "disconnects") == [vpn["key"]]
    assert _found(agent, "statements") == [invoice["key"]]
    assert _found(agent, "invoice PDF") == [invoice["key"]]
    assert _found(agent, "tunnel invoice") == []
    assert _found(agent, "nothing-like-this") == []


def test_search_combines_with_filters_and_follows_edits(agent):
    a = create_ticket(agent, subject="Printer jams", priority="P1")
    b = create_ticket(agent, subject="Printer offline", priority="P4")
    assert _found(agent, "printer") == sorted([a["key"], b["key"]])
    assert _found(agent, "printer", priority="P1") == [a["key"]]
    patch_ticket(agent, b["key"], subject="Scanner offline")
    assert _found(agent, "printer") == [a["key"]]
    assert _found(agent, "scanner") == [b["key"]]


def test_internal_notes_are_searchable_by_agents_only(agent, customer_api):
    t = create_ticket(agent, requester_email=customer_api.email, subject="Slow dashboard")
    post_message(agent, t["key"], body="suspect the reporting replica lags", public=False)
    assert _found(agent, "replica") == [t["key"]]
    assert _found(customer_api, "replica") == []
    assert _found(customer_api, "dashboard") == [t["key"]]


def test_search_input_is_never_read_as_query_syntax(agent):
    t = create_ticket(agent, subject="Error E1042 on login")
    for q in ['"', "E1042 AND", "NEAR(", "login*", "-login", "'; DROP TABLE tickets; --", "e1042:"]:
        r = agent.get("/api/v1/tickets", params={"q": q})
        assert r.status_code == 200, (q, r.text)
    assert _found(agent, "e1042") == [t["key"]]
