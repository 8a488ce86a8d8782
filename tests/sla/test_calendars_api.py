from tierline.sla.models import BusinessCalendarRecord

BERLIN = {
    "name": "Berlin support",
    "timezone": "Europe/Berlin",
    "hours": {"mon": [["09:00", "12:30"], ["13:30", "17:00"]], "tue": [["09:00", "17:00"]], "sun": []},
    "holidays": ["2026-12-24", "2026-12-25"],
    "holiday_country": "DE",
    "holiday_subdivision": "BE",
}


def test_it_creates_reads_and_audits_a_calendar(admin, factory):
    r = admin.post("/api/v1/sla/calendars", json=BERLIN)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["hours"]["mon"] == [["09:00", "12:30"], ["13:30", "17:00"]]
    assert body["holidays"] == ["2026-12-24", "2026-12-25"]
    assert admin.get(f"/api/v1/sla/calendars/{body['id']}").json()["name"] == "Berlin support"
    assert factory.audit_count(entity_type="sla_calendars", action="sla_calendars.create") == 1


def test_it_answers_due_dates_with_a_stored_calendar(admin):
    cal = admin.post("/api/v1/sla/calendars", json=BERLIN).json()
    # Monday 2026-11-23 16:00 Berlin + 120 business minutes: 60 on Monday, 60 on Tuesday from 09:00.
    r = admin.get(f"/api/v1/sla/calendars/{cal['id']}/business-time",
                  params={"start": "2026-11-23T16:00:00+01:00", "minutes": 120})
    assert r.status_code == 200, r.text
    assert r.json()["due_at"].startswith("2026-11-24T09:00:00")  # 10:00 in Berlin, given in UTC
    r = admin.get(f"/api/v1/sla/calendars/{cal['id']}/business-time",
                  params={"start": "2026-11-23T08:00:00Z", "end": "2026-11-24T08:00:00Z"})
    assert r.json()["business_minutes"] == 7 * 60


def test_it_rejects_a_bad_calendar_naming_the_field_and_writes_nothing(admin, factory):
    cases = [
        ({**BERLIN, "timezone": "Mars/Base"}, "timezone"),
        ({**BERLIN, "hours": {"mon": [["9", "17:00"]]}}, "hours.mon.0"),
        ({**BERLIN, "hours": {"funday": [["09:00", "17:00"]]}}, "hours.funday"),
        ({**BERLIN, "hours": {"mon": [["09:00", "12:00"], ["11:00", "13:00"]]}}, "hours"),
        ({**BERLIN, "hours": {"mon": [["09:00", "09:00"]]}}, "hours.mon.0"),
        ({**BERLIN, "holiday_country": "XX"}, "holiday_country"),
        ({**BERLIN, "holidays": ["not-a-date"]}, "holidays.0"),
    ]
    before = factory.audit_count()
    for body, field in cases:
        r = admin.post("/api/v1/sla/calendars", json=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())
    assert factory.count(BusinessCalendarRecord) == 0
    assert factory.audit_count() == before


def test_it_updates_and_deletes_a_calendar(admin, factory):
    cal = admin.post("/api/v1/sla/calendars", json=BERLIN).json()
    r = admin.patch(f"/api/v1/sla/calendars/{cal['id']}", json={"hours": "24/7", "holiday_country": None})
    assert r.status_code == 200, r.text
    assert r.json()["hours"] == "24/7" and r.json()["holiday_country"] is None
    bad = admin.patch(f"/api/v1/sla/calendars/{cal['id']}", json={"timezone": "Nowhere/Else"})
    assert bad.status_code == 422
    assert admin.get(f"/api/v1/sla/calendars/{cal['id']}").json()["timezone"] == "Europe/Berlin"
    assert admin.delete(f"/api/v1/sla/calendars/{cal['id']}").status_code == 204
    assert admin.get(f"/api/v1/sla/calendars/{cal['id']}").status_code == 404
    assert factory.audit_count(entity_type="sla_calendars") == 3


def test_it_refuses_a_duplicate_name(admin):
    assert admin.post("/api/v1/sla/calendars", json=BERLIN).status_code == 201
    assert admin.post("/api/v1/sla/calendars", json=BERLIN).status_code == 409


def test_agents_read_but_do_not_change_calendars(admin, agent):
    cal = admin.post("/api/v1/sla/calendars", json=BERLIN).json()
    assert agent.get(f"/api/v1/sla/calendars/{cal['id']}").status_code == 200
    assert agent.patch(f"/api/v1/sla/calendars/{cal['id']}", json={"name": "x"}).status_code == 403
