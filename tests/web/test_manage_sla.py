"""The SLA dashboard and capacity planning on the console: compliance over a period as chart data and a table
(the API's figures), the targets at risk now and this week's breaches, and recommendations computed and applied
through the same audited service as the API."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.helpers import SYSTEM
from tests.web.conftest import new_ticket, sla_policy
from tierline.flows import intake, messages, ticket_update
from tierline.platform import clock, jobs
from tierline.platform.auth import service as auth_service
from tierline.tickets.schemas import TicketCreate

LONDON = ZoneInfo("Europe/London")


def _chart(page: str) -> dict:
    return json.loads(re.search(r'<script type="application/json" id="compliance-data">(.*?)</script>', page,
                                re.S).group(1))


def test_the_dashboard_shows_compliance_at_risk_and_breaches(db, person, admin, frozen_clock):
    sla_policy(admin)
    met = new_ticket(admin, priority="P2", subject="Answered quickly")
    admin.post(f"/api/v1/tickets/{met['key']}/messages", json={"body": "On it."})
    urgent = new_ticket(admin, priority="P1", subject="Production is down")
    mona = person(["manager"], "mona@support.example")
    page = mona.get("/sla").text
    assert 'data-chart="compliance"' in page and "/static/chart.umd.min.js" in page
    assert _chart(page) == {"labels": ["P2"], "achieved": [100.0], "breaches": [0]}
    table = page.split('id="compliance-table"', 1)[1].split("</table>", 1)[0]
    assert "<th scope=\"row\">P2</th>" in table and "100.0%" in table
    risk = page.split('id="risk-h"', 1)[1].split("</section>", 1)[0]
    assert urgent["key"] in risk and met["key"] not in risk  # P1 first response due within the hour
    assert 'data-due="' in risk

    clock.freeze(frozen_clock + timedelta(hours=2))  # the P1's first response is now two hours late
    jobs.run_until_idle(db)  # the breach sweep records it
    later = mona.get("/sla").text
    assert re.search(r'Breaches this week</span><span class="kpi-value breached">1<', later)
    week = later.split('id="week-h"', 1)[1].split("</section>", 1)[0]
    assert urgent["key"] in week and "overdue" in week
    assert "P1" in _chart(later)["labels"], "the breach is decided today: in the period's figures too"


def test_the_period_and_grouping_are_in_the_url_and_checked(person, admin):
    sla_policy(admin)
    ticket = new_ticket(admin, priority="P3")
    admin.post(f"/api/v1/tickets/{ticket['key']}/messages", json={"body": "On it."})
    mona = person(["manager"], "mona@support.example")
    today = clock.now().date()
    page = mona.get(f"/sla?from={today.isoformat()}&to={today.isoformat()}&group_by=policy").text
    assert _chart(page)["labels"] == ["Standard"]
    assert f'value="{today.isoformat()}"' in page and 'value="policy" selected' in page
    assert mona.get("/sla?group_by=moon").status_code == 422
    backwards = mona.get(f"/sla?from={today.isoformat()}&to={(today - timedelta(days=3)).isoformat()}")
    assert backwards.status_code == 422 and "must be after from" in backwards.text


def _seed_quarter(db, *, agent_id: int, team_id: int) -> None:  # noqa: ANN001
    """One P3 ticket a weekday of 2026Q3, answered a minute after it came in and solved the next weekday,
    through the intake, message and update flows under a frozen clock."""
    day = date(2026, 7, 1)
    with db.unit_of_work() as session:
        agent = auth_service.actor_for(auth_service.get_user(session, user_id=agent_id), via="token")
        while day < date(2026, 10, 1):
            if day.weekday() < 5:
                with clock.frozen(datetime.combine(day, time(9, 5), tzinfo=LONDON)):
                    ticket = intake.create_ticket(session, actor=SYSTEM, data=TicketCreate(
                        subject="Export fails", description="The nightly export fails with E42.",
                        requester_email="ops@customer.example", priority="P3", team_id=team_id))
                with clock.frozen(datetime.combine(day, time(9, 6), tzinfo=LONDON)):
                    messages.create(session, actor=agent, ticket_key=ticket.key, body="Looking into it now.")
                solved = day + timedelta(days=3 if day.weekday() == 4 else 1)
                with clock.frozen(datetime.combine(solved, time(9, 50), tzinfo=LONDON)):
                    ticket_update.update(session, actor=agent, ticket=ticket, changes={"status": "solved"})
            day += timedelta(days=1)


def test_recommendations_are_computed_listed_and_applied_as_audited(db, person, admin, factory):
    agents = [admin.post("/api/v1/users", json={"email": f"l1-{i}@support.example", "name": f"Agent {i}",
                                               "roles": ["agent_l1"], "max_open_tickets": 2}).json()["id"]
              for i in range(2)]
    team = admin.post("/api/v1/teams", json={"name": "Desk", "kind": "support", "member_ids": agents}).json()
    calendar = admin.post("/api/v1/sla/calendars", json={
        "name": "Morning desk", "timezone": "Europe/London",
        "hours": {d: [["09:00", "10:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}).json()
    policy = admin.post("/api/v1/sla/policies", json={
        "name": "Standard", "position": 1, "calendar_id": calendar["id"],
        "targets": [{"metric": "first_response", "priority": "P3", "minutes": 60, "business_hours": True},
                    {"metric": "resolution", "priority": "P3", "minutes": 600, "business_hours": True}]}).json()
    _seed_quarter(db, agent_id=agents[0], team_id=team["id"])
    mona = person(["manager"], "mona@support.example")
    bad = mona.post("/sla/capacity", {"quarter": "2026Q5", "service_level": "0.9"})
    assert bad.status_code == 422 and 'class="field-error"' in bad.text
    r = mona.post("/sla/capacity", {"quarter": "2026Q4", "service_level": "0.9", "team_id": str(team["id"])})
    assert r.status_code == 303
    assert factory.audit_count(action="sla_recommendations.create") == 8  # each priority's two targets
    page = mona.get("/sla/capacity").text
    assert page.count("<details><summary>Inputs</summary>") == 8 and "observed_quarter" in page
    stored = {(x["priority"], x["metric"]): x for x in admin.get("/api/v1/sla/recommendations").json()["items"]}
    target = stored[("P3", "resolution")]  # the seeded quarter's tickets were solved, never answered first
    assert target["recommended_minutes"] is not None and target["policy_id"] == policy["id"]
    assert f'/sla/capacity/{target["id"]}/apply' in page
    policy_events = factory.audit_count(entity_type="sla_policies")
    applied = mona.post(f"/sla/capacity/{target['id']}/apply")
    assert (applied.status_code, applied.headers["location"]) == (303, f"/sla/capacity?applied={target['id']}")
    assert factory.audit_count(action="sla_recommendations.apply", entity_id=str(target["id"])) == 1
    assert factory.audit_count(entity_type="sla_policies") == policy_events + 1
    targets = {(t["metric"], t["priority"]): t["minutes"]
               for t in admin.get(f"/api/v1/sla/policies/{policy['id']}").json()["targets"]}
    assert targets[("resolution", "P3")] == target["recommended_minutes"]
    assert "applied" in mona.get(f"/sla/capacity?applied={target['id']}").text
    again = mona.post(f"/sla/capacity/{target['id']}/apply")
    assert again.status_code == 409 and "already applied" in again.text, "it applies once"
    nothing = stored[("P1", "first_response")]  # no P1 tickets: nothing to recommend, nothing to apply
    refused = mona.post(f"/sla/capacity/{nothing['id']}/apply")
    assert refused.status_code == 409 and "recommends nothing" in refused.text
    ann = person(["agent_l1"], "ann@support.example")
    assert ann.post(f"/sla/capacity/{nothing['id']}/apply").status_code == 403
