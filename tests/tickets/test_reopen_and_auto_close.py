"""The reopen window and the auto-close job, on a frozen clock."""

from __future__ import annotations

from datetime import timedelta

from tests.tickets.conftest import create_ticket, get_ticket, patch_ticket, post_message
from tierline.platform import clock, jobs
from tierline.platform.jobs import Job

WINDOW = timedelta(days=7)


def _solved(agent) -> dict:  # noqa: ANN001
    t = create_ticket(agent)
    return patch_ticket(agent, t["key"], status="solved")


def test_an_agent_reopens_a_solved_ticket_within_the_window(agent):
    t = _solved(agent)
    clock.advance(WINDOW)
    reopened = patch_ticket(agent, t["key"], status="open")
    assert reopened["status"] == "open" and reopened["solved_at"] is None


def test_an_agent_reopen_after_the_window_is_409(agent):
    t = _solved(agent)
    clock.advance(WINDOW + timedelta(seconds=1))
    r = agent.patch(f"/api/v1/tickets/{t['key']}", json={"status": "open"})
    assert r.status_code == 409 and r.json()["allowed"] == ["closed"]
    assert get_ticket(agent, t["key"])["status"] == "solved"


def test_a_customer_reply_reopens_even_after_the_window_until_the_ticket_is_closed(agent):
    t = _solved(agent)
    clock.advance(WINDOW + timedelta(hours=1))  # the worker has not run yet
    post_message(agent, t["key"], body="still broken", author_type="customer")
    assert get_ticket(agent, t["key"])["status"] == "open"
    jobs.run_until_idle(agent.client.app.state.database)
    assert get_ticket(agent, t["key"])["status"] == "open"


def test_the_job_closes_a_ticket_still_solved_when_the_window_has_passed(agent, db, factory):
    t = _solved(agent)
    solved_at = clock.now()
    clock.advance(WINDOW - timedelta(minutes=1))
    jobs.run_until_idle(db)
    assert get_ticket(agent, t["key"])["status"] == "solved"
    clock.advance(timedelta(minutes=1))
    assert jobs.run_until_idle(db) == 1
    closed = get_ticket(agent, t["key"])
    assert closed["status"] == "closed"
    assert closed["closed_at"] == (solved_at + WINDOW).isoformat().replace("+00:00", "Z")
    assert closed["solved_at"] == solved_at.isoformat().replace("+00:00", "Z")
    assert factory.audit_count(action="tickets.auto_close", entity_id=str(t["id"])) == 1


def test_reopening_cancels_the_job_and_solving_again_reschedules_it(agent, db, factory):
    t = _solved(agent)
    clock.advance(timedelta(days=3))
    patch_ticket(agent, t["key"], status="open")
    clock.advance(timedelta(days=1))
    patch_ticket(agent, t["key"], status="solved")  # day 4: the job is now due on day 11
    clock.advance(timedelta(days=5))
    jobs.run_until_idle(db)
    assert get_ticket(agent, t["key"])["status"] == "solved"
    clock.advance(timedelta(days=2))
    jobs.run_until_idle(db)
    assert get_ticket(agent, t["key"])["status"] == "closed"
    assert factory.count(Job) == 1  # one job per ticket (dedupe key), rescheduled rather than duplicated


def test_a_ticket_reopened_before_the_job_runs_stays_open(agent, db):
    t = _solved(agent)
    clock.advance(timedelta(days=2))
    patch_ticket(agent, t["key"], status="open")
    clock.advance(timedelta(days=30))
    jobs.run_until_idle(db)
    assert get_ticket(agent, t["key"])["status"] == "open"


def test_an_agent_may_close_a_solved_ticket_at_once(agent, db):
    t = _solved(agent)
    closed = patch_ticket(agent, t["key"], status="closed")
    assert closed["status"] == "closed" and closed["closed_at"] is not None
    clock.advance(WINDOW * 2)
    jobs.run_until_idle(db)
    assert get_ticket(agent, t["key"]) == closed


def test_the_window_follows_the_setting(agent, db, monkeypatch):
    from tierline.settings import reset_settings_cache

    monkeypatch.setenv("TIERLINE_REOPEN_WINDOW_DAYS", "2")
    reset_settings_cache()
    try:
        t = _solved(agent)
        clock.advance(timedelta(days=2, seconds=1))
        assert agent.patch(f"/api/v1/tickets/{t['key']}", json={"status": "open"}).status_code == 409
        jobs.run_until_idle(db)
        assert get_ticket(agent, t["key"])["status"] == "closed"
    finally:
        monkeypatch.delenv("TIERLINE_REOPEN_WINDOW_DAYS")
        reset_settings_cache()
