from tierline.sla.models import SlaPolicy

CAL = {"name": "Office", "timezone": "Europe/London", "hours": {d: [["09:00", "17:00"]] for d in
                                                                ("mon", "tue", "wed", "thu", "fri")}}


def policy_body(**over):
    body = {
        "name": "Enterprise",
        "position": 1,
        "match": {"customer_plan": ["enterprise"]},
        "targets": [
            {"metric": "first_response", "priority": "P1", "minutes": 30},
            {"metric": "resolution", "priority": "P1", "minutes": 480},
        ],
    }
    body.update(over)
    return body


def test_it_creates_a_policy_with_zendesk_like_defaults(admin, factory):
    r = admin.post("/api/v1/sla/policies", json=policy_body())
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["warning_percent"] == 75
    assert body["pause_statuses"] == ["pending_customer", "on_hold"]
    assert body["on_breach"] == {"bump_priority": False, "escalate_tier": False,
                                 "escalate_exclude_types": ["feature_request"]}
    assert factory.audit_count(entity_type="sla_policies") == 1


def test_business_hours_without_a_calendar_is_422_naming_the_target(admin, factory):
    body = policy_body(targets=[{"metric": "first_response", "priority": "P1", "minutes": 30},
                                {"metric": "resolution", "priority": "P1", "minutes": 60, "business_hours": True}])
    r = admin.post("/api/v1/sla/policies", json=body)
    assert r.status_code == 422
    assert [e["field"] for e in r.json()["errors"]] == ["targets.1.business_hours"]
    assert factory.count(SlaPolicy) == 0


def test_it_rejects_bad_targets_naming_the_field(admin):
    cases = [
        ({"targets": [{"metric": "lunch", "priority": "P1", "minutes": 5}]}, "targets.0.metric"),
        ({"targets": [{"metric": "first_response", "priority": "P9", "minutes": 5}]}, "targets.0.priority"),
        ({"targets": [{"metric": "first_response", "priority": "P1", "minutes": 0}]}, "targets.0.minutes"),
        ({"targets": [{"metric": "first_response", "priority": "P1", "minutes": 5},
                      {"metric": "first_response", "priority": "P1", "minutes": 9}]}, "targets.1"),
        ({"warning_percent": 100}, "warning_percent"),
        ({"pause_statuses": ["open"]}, "pause_statuses.0"),
        ({"match": {"customer_plan": ["gold"]}}, "match.customer_plan.0"),
        ({"calendar_id": 999}, "calendar_id"),
    ]
    for over, field in cases:
        r = admin.post("/api/v1/sla/policies", json=policy_body(**over))
        assert r.status_code == 422, (over, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())


def test_a_calendar_in_use_cannot_be_deleted(admin):
    cal = admin.post("/api/v1/sla/calendars", json=CAL).json()
    body = policy_body(calendar_id=cal["id"],
                       targets=[{"metric": "first_response", "priority": "P2", "minutes": 60, "business_hours": True}])
    assert admin.post("/api/v1/sla/policies", json=body).status_code == 201
    r = admin.delete(f"/api/v1/sla/calendars/{cal['id']}")
    assert r.status_code == 409
    assert "Enterprise" in r.json()["detail"]


def test_policies_list_in_position_order_and_patch(admin):
    admin.post("/api/v1/sla/policies", json=policy_body(name="Later", position=5))
    admin.post("/api/v1/sla/policies", json=policy_body(name="First", position=0))
    names = [p["name"] for p in admin.get("/api/v1/sla/policies").json()["items"]]
    assert names == ["First", "Later"]
    pid = admin.get("/api/v1/sla/policies").json()["items"][1]["id"]
    r = admin.patch(f"/api/v1/sla/policies/{pid}", json={"active": False, "warning_percent": 50})
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["warning_percent"] == 50
