from tierline.platform.auth.models import ApiToken


def test_health_is_open(client):
    r = client.get("/api/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_unknown_route_is_problem_json(client):
    r = client.get("/api/v1/nope")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")


def test_token_roundtrip(admin, factory):
    r = admin.post("/api/v1/tokens", json={"name": "ci", "scopes": ["tickets:read"]})
    assert r.status_code == 201, r.text
    raw = r.json()["token"]
    me = admin.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"}).json()
    assert me["permissions"] == ["tickets:read"]
    assert factory.count(ApiToken) == 2
