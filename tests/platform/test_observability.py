"""Request ids and Prometheus metrics."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from tierline.app import create_app
from tierline.platform.observability import configure_logging
from tierline.settings import Settings


def test_every_response_carries_a_request_id(client):
    assert len(client.get("/api/v1/health").headers["x-request-id"]) == 32
    assert client.get("/api/v1/health", headers={"X-Request-ID": "abc-1"}).headers["x-request-id"] == "abc-1"
    assert client.get("/api/v1/nope").headers["x-request-id"]


def test_an_incoming_request_id_is_kept_only_when_short_and_plain(client):
    kept = "a" * 63 + "Z"
    assert client.get("/api/v1/health", headers={"X-Request-ID": kept}).headers["x-request-id"] == kept
    assert client.get("/api/v1/health", headers={"X-Request-ID": "v1.2_3-x"}).headers["x-request-id"] == "v1.2_3-x"
    for refused in ("r" * 65, "<script>", "a b", "id\\n", "a;b", "x/y", "caf\xe9".encode("latin-1")):
        rid = client.get("/api/v1/health", headers={"X-Request-ID": refused}).headers["x-request-id"]
        assert len(rid) == 32 and rid.isalnum(), refused


def test_metrics_are_served_to_callers_allowed_to_scrape(factory, client):
    client.get("/api/v1/health")
    manager = factory.api(client, roles=["manager"])
    r = manager.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert 'tierline_http_requests_total{method="GET",route="/api/v1/health",status="200"}' in r.text


def test_metrics_are_closed_to_others(factory, client):
    assert client.get("/metrics").status_code == 401
    assert factory.api(client, roles=["agent_l1"]).get("/metrics").status_code == 403


def _access_log(stderr: str) -> list[dict]:
    return [line for line in map(json.loads, filter(None, stderr.splitlines())) if line.get("event") == "request"]


def test_each_request_is_logged_once_with_its_request_id_when_the_level_allows(db, capsys):
    app = create_app(db, Settings(log_level="INFO", log_json=True, embedded_worker=False), embedded_worker=False)
    try:
        with TestClient(app) as client:
            capsys.readouterr()
            assert client.get("/api/v1/health", headers={"X-Request-ID": "log-1"}).status_code == 200
            assert client.get("/api/v1/nope", headers={"X-Request-ID": "log-2"}).status_code == 404
        lines = _access_log(capsys.readouterr().err)
    finally:
        configure_logging("WARNING", True)
    assert [(e["request_id"], e["method"], e["path"], e["status"], e["level"]) for e in lines] == [
        ("log-1", "GET", "/api/v1/health", 200, "info"), ("log-2", "GET", "/api/v1/nope", 404, "info")]
    assert all(isinstance(e["ms"], float) and e["timestamp"].endswith("Z") for e in lines)


def test_nothing_is_logged_per_request_when_the_level_filters_it(client, capsys):
    capsys.readouterr()
    assert client.get("/api/v1/health").status_code == 200
    assert _access_log(capsys.readouterr().err) == []


def test_every_status_of_a_route_is_counted_under_its_own_labels(factory, client):
    manager = factory.api(client, roles=["manager"])
    before = manager.get("/metrics").text
    client.get("/api/v1/audit")  # anonymous: 401
    manager.get("/api/v1/audit")  # 403
    manager.get("/api/v1/audit")
    text = manager.get("/metrics").text
    for status, extra in (("401", 1), ("403", 2)):
        sample = f'tierline_http_requests_total{{method="GET",route="/api/v1/audit",status="{status}"}}'
        assert _value(text, sample) - _value(before, sample) == extra
    assert 'tierline_http_request_seconds_count{method="GET",route="/api/v1/audit"}' in text


def _value(exposition: str, sample: str) -> float:
    for line in exposition.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0
