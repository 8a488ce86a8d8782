from __future__ import annotations

import pytest


def _make(admin, email, roles, **extra):  # noqa: ANN001, ANN202
    r = admin.post("/api/v1/users", json={"email": email, "name": extra.pop("name", email.split("@")[0]),
                                          "roles": roles, **extra})
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture
def staff(admin):  # noqa: ANN001, ANN201
    ids = {
        "l1": _make(admin, "lena@example.com", ["agent_l1"], name="Lena Park", skills=["billing"]),
        "l1sme": _make(admin, "sam@example.com", ["agent_l1", "sme"], name="Sam Ortiz"),
        "l2": _make(admin, "omar@example.com", ["agent_l2", "agent_l1"], name="Omar Haddad",
                    skills=["postgres"]),
        "l3": _make(admin, "ines@example.com", ["agent_l3", "incident_commander"], name="Ines Kovac",
                    skills=["postgres", "kafka"], available=False),
        "pm": _make(admin, "pat@example.com", ["product_manager"], name="Pat 100%_Lee"),
    }
    admin.patch(f"/api/v1/users/{ids['pm']}", json={"active": False})
    return ids


def _ids(admin, **params):  # noqa: ANN001, ANN202
    r = admin.get("/api/v1/users", params=params)
    assert r.status_code == 200, r.text
    return [u["id"] for u in r.json()["items"]]


def test_it_filters_users_by_role(admin, staff):
    assert _ids(admin, role="agent_l1") == [staff["l1"], staff["l1sme"], staff["l2"]]
    assert _ids(admin, role="sme") == [staff["l1sme"]]


def test_it_filters_users_by_tier_the_highest_agent_role(admin, staff):
    assert _ids(admin, tier="L1") == [staff["l1"], staff["l1sme"]]
    assert _ids(admin, tier="L2") == [staff["l2"]]
    assert _ids(admin, tier="L3") == [staff["l3"]]


def test_it_filters_users_by_active_available_and_skill(admin, staff):
    assert staff["pm"] not in _ids(admin, active=True)
    assert _ids(admin, active=False) == [staff["pm"]]
    assert _ids(admin, available=False) == [staff["l3"]]
    assert staff["l3"] not in _ids(admin, available=True)
    assert _ids(admin, skill="Postgres") == [staff["l2"], staff["l3"]]


def test_it_filters_users_by_name_or_email_fragment(admin, staff):
    assert _ids(admin, q="ORTIZ") == [staff["l1sme"]]
    assert _ids(admin, q="ines@") == [staff["l3"]]
    assert _ids(admin, q="100%_") == [staff["pm"]]  # wildcards are literal
    assert _ids(admin, q="%") == [staff["pm"]]


def test_it_filters_users_by_team(admin, staff):
    team = admin.post("/api/v1/teams", json={"name": "Database support", "kind": "support",
                                             "member_ids": [staff["l3"], staff["l2"]]}).json()
    assert _ids(admin, team_id=team["id"]) == [staff["l2"], staff["l3"]]
    assert admin.get(f"/api/v1/users/{staff['l3']}").json()["team_ids"] == [team["id"]]


def test_it_pages_through_users_with_a_cursor(admin, staff):
    seen, cursor = [], None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = admin.get("/api/v1/users", params=params).json()
        seen += [u["id"] for u in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 6  # five staff and the admin


@pytest.mark.parametrize(("params", "field"), [
    ({"tier": "L9"}, "tier"), ({"role": "wizard"}, "role"), ({"limit": 0}, "limit"),
    ({"cursor": "garbage"}, "cursor"), ({"active": "perhaps"}, "active"),
])
def test_it_rejects_bad_list_parameters_naming_them(admin, params, field):
    r = admin.get("/api/v1/users", params=params)
    assert r.status_code == 422
    assert field in [e["field"] for e in r.json()["errors"]]
