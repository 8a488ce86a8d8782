"""Issue 12, finding 2: what customers read about a problem is written for them. The fix announcement posts
the problem's public summary through a template, from the support team; never a ticket's subject (one
customer's bucket, host or account) and never the problem's key."""

from __future__ import annotations

from sqlalchemy import select

from tests.problems.conftest import World, record, row_counts
from tierline.platform import jobs
from tierline.platform.audit import AuditEvent
from tierline.tickets.models import Message

PROBLEM_JSON = "application/problem+json"
LEAK = "STO-2201: Download links for bucket crescentretail-assets fail with 403"
SUMMARY = "Download links for stored files failed with an access error. They work again since 14:10 UTC."


def _problem(world: World) -> str:
    answers = [record(world.db, customer_id=world.customer_ids[c], component_id=world.component_id,
                      error_code="STO-2201", subject=LEAK if i == 0 else "Downloads fail with 403")
               for i, c in enumerate([0, 1, 2, 3, 4])]
    return answers[-1][1]["problem_key"]


def _walk(api, key: str, last: dict) -> object:  # noqa: ANN001
    for status in ("investigating", "known_error"):
        assert api.patch(f"/api/v1/problems/{key}", json={"status": status}).status_code == 200
    return api.patch(f"/api/v1/problems/{key}", json=last)


def test_an_announcement_never_carries_another_customer_s_ticket_text(world, admin):
    key = _problem(world)
    problem = admin.get(f"/api/v1/problems/{key}").json()
    assert "crescentretail" in problem["title"]  # the internal title comes from the first ticket
    # The title can be rewritten, and the summary comes in the same body as the fix: it counts.
    r = admin.patch(f"/api/v1/problems/{key}", json={"title": "Signed download links fail with 403"})
    assert r.status_code == 200 and r.json()["title"] == "Signed download links fail with 403"
    r = _walk(admin, key, {"status": "fixed", "public_summary": SUMMARY})
    assert r.status_code == 200 and r.json()["public_summary"] == SUMMARY
    while jobs.run_due(world.db):
        pass
    tickets = [t["key"] for t in admin.get(f"/api/v1/problems/{key}").json()["tickets"]]
    bodies = []
    for ticket in tickets:
        [update] = admin.get(f"/api/v1/tickets/{ticket}/messages").json()["items"]
        assert update["author_type"] == "system" and update["author_name"] == "Support team"
        bodies.append(update["body"])
    for body in bodies:
        assert SUMMARY in body
        assert "crescentretail" not in body and "STO-2201" not in body and key not in body


def test_fixing_without_a_summary_is_409_and_changes_nothing(world, admin, factory):
    key = _problem(world)
    for status in ("investigating", "known_error"):
        assert admin.patch(f"/api/v1/problems/{key}", json={"status": status}).status_code == 200
    before, events = row_counts(world.db), factory.audit_count(entity_type="problems")
    owner = admin.get(f"/api/v1/problems/{key}").json()["owner_team_id"]
    r = admin.patch(f"/api/v1/problems/{key}", json={"status": "fixed", "owner_team_id": None})
    assert r.status_code == 409 and r.headers["content-type"].startswith(PROBLEM_JSON)
    assert r.json()["field"] == "public_summary" and "public_summary" in r.json()["detail"]
    assert row_counts(world.db) == before and factory.audit_count(entity_type="problems") == events
    got = admin.get(f"/api/v1/problems/{key}").json()
    assert (got["status"], got["owner_team_id"]) == ("known_error", owner) and owner is not None
    # A stored summary counts, as does one sent with the status.
    assert admin.patch(f"/api/v1/problems/{key}", json={"public_summary": SUMMARY}).status_code == 200
    assert admin.patch(f"/api/v1/problems/{key}", json={"status": "fixed"}).status_code == 200


def test_the_announcement_preview_shows_what_fixing_posts(world, admin, agent):
    key = _problem(world)
    r = agent.get(f"/api/v1/problems/{key}/announcement")
    assert r.status_code == 200
    assert r.json() == {"problem_key": key, "status": "open", "ready": False, "body": None,
                        "author_type": "system", "unsolved_tickets": 5}
    assert admin.patch(f"/api/v1/problems/{key}", json={"public_summary": SUMMARY}).status_code == 200
    preview = agent.get(f"/api/v1/problems/{key}/announcement").json()
    assert preview["ready"] is True and SUMMARY in preview["body"] and "crescentretail" not in preview["body"]
    _walk(admin, key, {"status": "fixed"})
    while jobs.run_due(world.db):
        pass
    with world.db.session(write=False) as s:
        posted = set(s.scalars(select(Message.body).where(Message.author_type == "system")))
        assert posted == {preview["body"]}
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "problems.update").limit(1)) is not None
    assert agent.get("/api/v1/problems/PRB-999/announcement").status_code == 404


def test_title_and_summary_are_frozen_once_closed(world, admin):
    key = _problem(world)
    _walk(admin, key, {"status": "fixed", "public_summary": SUMMARY})
    assert admin.patch(f"/api/v1/problems/{key}", json={"status": "closed"}).status_code == 200
    for body in ({"title": "Another"}, {"public_summary": "Another"}):
        assert admin.patch(f"/api/v1/problems/{key}", json=body).status_code == 409
