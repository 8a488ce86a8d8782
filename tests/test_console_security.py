"""Every console page sends an anonymous visitor to the login page; only the login page, `/` and the static
files are open. The walk covers whatever the console mounts, so pages added later are held to it too. (The
API's own walk, tests/test_route_security.py, keeps its list of open routes: the console is not in it.)
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import APIRouter
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient

from tests.test_route_security import _auth_dependencies, _url
from tierline.platform import rbac
from tierline.app import create_app
from tierline.platform.db import Database
from tierline.settings import Settings
from tierline.web.console import create_console
from tierline.web.pages_auth import OPEN_PAGES

_CONSOLE = create_console(Database("sqlite://"), Settings(log_level="WARNING", log_json=True,
                                                          embedded_worker=False))


def _walk(app: Any) -> list[tuple[str, str, Any]]:
    out = []
    for route in iter_route_contexts(app.routes):
        methods, path = getattr(route, "methods", None), getattr(route, "path", None)
        if not methods or not path:
            continue
        out += [(m, path, route) for m in sorted(methods) if not (m == "HEAD" and "GET" in methods)]
    return sorted(out, key=lambda item: (item[1], item[0]))


PAGES = _walk(_CONSOLE)
GUARDED = [(m, p, r) for m, p, r in PAGES if (m, p) not in OPEN_PAGES]


def _ids(items: list[tuple[str, str, Any]]) -> list[str]:
    return [f"{m} {p}" for m, p, _ in items]


def test_the_open_pages_are_the_login_page_and_the_root():
    assert {(m, p) for m, p, _ in PAGES if (m, p) in OPEN_PAGES} == set(OPEN_PAGES)
    assert OPEN_PAGES == {("GET", "/"), ("GET", "/login"), ("POST", "/login")}
    assert len(GUARDED) >= 10, _ids(GUARDED)


@pytest.mark.parametrize(("method", "path", "route"), GUARDED, ids=_ids(GUARDED))
def test_every_console_page_sends_an_anonymous_visitor_to_the_login_page(client, method, path, route):
    url = _url(path, route)
    r = client.request(method, url, follow_redirects=False)
    assert r.status_code == 303, f"{method} {path} answered {r.status_code} to an anonymous visitor"
    location = r.headers["location"]
    assert location.startswith("/login"), location
    if method == "GET":
        assert location == f"/login?next={url}", "the visitor comes back to the page after logging in"


@pytest.mark.parametrize(("method", "path", "route"), GUARDED, ids=_ids(GUARDED))
def test_every_console_page_refuses_a_forged_session_cookie(client, method, path, route):
    client.cookies.set("tierline_session", "forged.value")
    r = client.request(method, _url(path, route), follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


@pytest.mark.parametrize(("method", "path", "route"), GUARDED, ids=_ids(GUARDED))
def test_every_console_page_declares_exactly_one_permission_check_of_the_matrix(method, path, route):
    checks = _auth_dependencies(route.dependant)
    assert len(checks) == 1, f"{method} {path} declares {len(checks)} page() dependencies; it needs exactly one"
    assert checks[0].permission is None or checks[0].permission in rbac.PERMISSIONS


def test_the_root_sends_an_anonymous_visitor_to_the_login_page(client):
    r = client.get("/", follow_redirects=False)
    assert (r.status_code, r.headers["location"]) == (303, "/login")


def test_the_login_page_and_the_static_files_are_open(client):
    login = client.get("/login")
    assert login.status_code == 200 and "text/html" in login.headers["content-type"]
    assert 'name="password"' in login.text
    for asset, kind in (("/static/htmx.min.js", "javascript"), ("/static/console.css", "css"),
                        ("/static/console.js", "javascript"), ("/static/htmx.LICENSE.txt", "text/plain"),
                        ("/static/chart.umd.min.js", "javascript")):
        r = client.get(asset)
        assert r.status_code == 200 and kind in r.headers["content-type"], asset


def test_the_console_leaves_the_apis_paths_and_errors_to_the_api(client):
    unknown = client.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    wrong_method = client.put("/api/v1/health")
    assert wrong_method.status_code == 405
    assert client.get("/openapi.json").status_code == 200
    assert not any(p.startswith(("/login", "/queues", "/portal")) for p in client.get("/openapi.json").json()["paths"])


def test_the_console_takes_only_its_own_paths(db, settings):
    app = create_app(db, settings, embedded_worker=False)  # its own: a route is added to it
    later = APIRouter()

    @later.get("/_later")
    def _later() -> dict[str, str]:
        return {"mounted": "after the console"}

    app.include_router(later)
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/no-such-page").status_code == 404
        assert client.get("/_later").json() == {"mounted": "after the console"}
        wrong = client.put("/queues", follow_redirects=False)
        assert wrong.status_code == 405 and "text/html" in wrong.headers["content-type"]


def test_a_next_that_leaves_the_site_is_dropped(client):
    page = client.get("/login?next=//evil.example/x")
    assert "evil.example" not in page.text
