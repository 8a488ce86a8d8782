"""Request ids and Prometheus metrics."""

from __future__ import annotations


def test_every_response_carries_a_request_id(client):
    assert len(client.get("/api/v1/health").headers["x-request-id"]) == 32
    assert client.get("/api/v1/health", headers={"X-Request-ID": "abc-1"}).headers["x-request-id"] == "abc-1"
    assert client.get("/api/v1/nope").headers["x-request-id"]


def test_an_overlong_request_id_is_cut_to_fit(client):
    assert client.get("/api/v1/health", headers={"X-Request-ID": "r" * 300}).headers["x-request-id"] == "r" * 64


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
