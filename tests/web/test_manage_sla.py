"""The SLA dashboard and capacity planning on the console: compliance over a period as chart data and a table
(the API's figures), the targets at risk now and this week's breaches, and recommendations computed and applied
through the same audited service as the API."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from tests.web.conftest import new_ticket, sla_policy
from tierline.platform import clock, jobs


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


def test_recommendations_are_computed_listed_and_applied_as_audited(person, admin, factory):
    policy = sla_policy(admin)
    for _ in range(3):
        new_ticket(admin, priority="P3")
    mona = person(["manager"], "mona@support.example")
    bad = mona.post("/sla/capacity", {"quarter": "2027Q5", "service_level": "0.9"})
    assert bad.status_code == 422 and 'class="field-error"' in bad.text
    r = mona.post("/sla/capacity", {"quarter": "2027Q1", "service_level": "0.9", "team_id": ""})
    assert r.status_code == 303
    assert factory.audit_count(action="sla_recommendations.create") == 8  # each priority's two targets
    page = mona.get("/sla/capacity").text
    assert page.count("<details><summary>Inputs</summary>") == 8 and "observed_quarter" in page
    stored = admin.get("/api/v1/sla/recommendations").json()["items"]
    ready = [x for x in stored if x["recommended_minutes"] is not None and x["policy_id"] == policy["id"]]
    if ready:
        target = ready[0]
        assert f'/sla/capacity/{target["id"]}/apply' in page
        applied = mona.post(f"/sla/capacity/{target['id']}/apply")
        assert applied.status_code == 303
        assert factory.audit_count(action="sla_recommendations.apply") == 1
        assert mona.post(f"/sla/capacity/{target['id']}/apply").status_code == 409, "it applies once"
    nothing = next((x for x in stored if x["recommended_minutes"] is None), None)
    if nothing is not None:
        refused = mona.post(f"/sla/capacity/{nothing['id']}/apply")
        assert refused.status_code == 409 and "recommends nothing" in refused.text
    assert ready or nothing
