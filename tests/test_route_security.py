"""Every route but the four open ones rejects anonymous callers and callers lacking its permission.

The test walks whatever the application mounts, so it covers each domain's routes as they arrive.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import iter_route_contexts

from tierline.app import OPEN_ROUTES, create_app
from tierline.platform import rbac
from tierline.platform.db import Database
from tierline.settings import Settings

PROBLEM_JSON = "application/problem+json"


def _walk(app: Any) -> list[tuple[str, str, Any]]:
    """(method, path, route) for every endpoint the app serves, including those of included routers."""
    out = []
    for route in iter_route_contexts(app.routes):
        methods = getattr(route, "methods", None)
        path = getattr(route, "path", None)
        if not methods or not path:
            continue
        for method in sorted(methods):
            if method == "HEAD" and "GET" in methods:
                continue  # Starlette adds HEAD beside GET; it is the same endpoint
            out.append((method, path, route))
    return sorted(out, key=lambda item: (item[1], item[0]))


def _is_open(method: str, path: str) -> bool:
    return (method, path) in OPEN_ROUTES


def _auth_dependencies(dependant: Any) -> list[Any]:
    """Every require()/authenticated() dependency (they carry `.permission`), however deeply nested."""
    found = []
    for sub in getattr(dependant, "dependencies", []):
        if hasattr(sub.call, "permission"):
            found.append(sub.call)
        found.extend(_auth_dependencies(sub))
    return found


def _plausible(name: str, annotation: Any) -> str:
    if annotation is int:
        return "1"
    lowered = name.lower()
    if lowered == "key" or lowered.endswith("_key"):
        return "T-1"
    if lowered in ("type", "ticket_type"):
        return "question"
    return "1"


def _url(path: str, route: Any) -> str:
    dependant = getattr(route, "dependant", None)
    params = {p.name: p.field_info.annotation for p in getattr(dependant, "path_params", [])}
    url = path
    for name in list(route.param_convertors or {}):
        annotation = params.get(name)
        convertor = type(route.param_convertors[name]).__name__
        if convertor in ("IntegerConvertor", "FloatConvertor"):
            annotation = int
        for placeholder in (f"{{{name}}}", *(f"{{{name}:{c}}}" for c in ("int", "str", "path", "float", "uuid"))):
            url = url.replace(placeholder, _plausible(name, annotation))
    return url


_APP = create_app(Database("sqlite://"), Settings(log_level="WARNING", log_json=True, embedded_worker=False),
                  embedded_worker=False)
ROUTES = _walk(_APP)
GUARDED = [(m, p, r) for m, p, r in ROUTES if not _is_open(m, p)]
WITH_PERMISSION = [(m, p, r) for m, p, r in GUARDED
                   if any(getattr(c, "permission", None) for c in _auth_dependencies(getattr(r, "dependant", None)))]


def _ids(items: list[tuple[str, str, Any]]) -> list[str]:
    return [f"{m} {p}" for m, p, _ in items]


def _permission(route: Any) -> str:
    return next(c.permission for c in _auth_dependencies(route.dependant) if c.permission)


def _call(client: Any, method: str, url: str, headers: dict[str, str] | None = None) -> Any:
    return client.request(method, url, headers=headers or {})


def test_the_open_routes_are_exactly_the_four_agreed_ones():
    mounted_open = {(m, p) for m, p, _ in ROUTES if _is_open(m, p)}
    assert mounted_open == set(OPEN_ROUTES)
    assert OPEN_ROUTES == {("GET", "/api/v1/health"), ("POST", "/api/v1/auth/login"),
                           ("GET", "/openapi.json"), ("GET", "/docs")}


def test_the_route_table_is_not_empty():
    assert len(GUARDED) >= 5, _ids(GUARDED)


@pytest.mark.parametrize(("method", "path", "route"), GUARDED, ids=_ids(GUARDED))
def test_every_guarded_route_declares_exactly_one_permission_check(method, path, route):
    dependant = getattr(route, "dependant", None)
    assert dependant is not None, f"{method} {path} is not an API route, so it cannot declare require()"
    checks = _auth_dependencies(dependant)
    assert len(checks) == 1, (
        f"{method} {path} declares {len(checks)} require()/authenticated() dependencies; it needs exactly one"
    )
    permission = checks[0].permission
    assert permission is None or permission in rbac.PERMISSIONS, (
        f"{method} {path} requires {permission!r}, which is not in the permission matrix"
    )


@pytest.mark.parametrize(("method", "path", "route"), GUARDED, ids=_ids(GUARDED))
def test_every_guarded_route_rejects_anonymous_callers(client, method, path, route):
    r = _call(client, method, _url(path, route))
    assert r.status_code == 401, f"{method} {path} answered {r.status_code} to an anonymous caller: {r.text}"
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert r.json()["status"] == 401


@pytest.mark.parametrize(("method", "path", "route"), GUARDED, ids=_ids(GUARDED))
def test_every_guarded_route_rejects_a_bad_token(client, method, path, route):
    r = _call(client, method, _url(path, route), {"Authorization": "Bearer tl_not-a-real-token"})
    assert r.status_code == 401, f"{method} {path} answered {r.status_code} to a forged token"
    assert r.headers["content-type"].startswith(PROBLEM_JSON)


def _caller_lacking(factory: Any, client: Any, permission: str) -> dict[str, str]:
    """A user whose roles lack `permission`; when every role grants it, a token scoped without it."""
    for role in rbac.ROLES:
        if permission not in rbac.ROLE_PERMISSIONS[role]:
            api = factory.api(client, roles=[role])
            return {"Authorization": f"Bearer {api.token}"}
    other = sorted(rbac.ROLE_PERMISSIONS["agent_l1"] - {permission})[0]
    api = factory.api(client, roles=["agent_l1"], scopes=[other])
    return {"Authorization": f"Bearer {api.token}"}


@pytest.mark.parametrize(("method", "path", "route"), WITH_PERMISSION, ids=_ids(WITH_PERMISSION))
def test_every_route_with_a_permission_rejects_callers_lacking_it(client, factory, method, path, route):
    permission = _permission(route)
    r = _call(client, method, _url(path, route), _caller_lacking(factory, client, permission))
    assert r.status_code == 403, f"{method} {path} answered {r.status_code} to a caller without {permission}"
    assert r.headers["content-type"].startswith(PROBLEM_JSON)
    assert permission in r.json()["detail"]


@pytest.mark.parametrize(("method", "path", "route"), GUARDED, ids=_ids(GUARDED))
def test_a_caller_holding_every_permission_gets_past_the_check_without_a_server_error(
        client, factory, method, path, route):
    api = factory.api(client, roles=["admin"])
    r = _call(client, method, _url(path, route), {"Authorization": f"Bearer {api.token}"})
    assert r.status_code not in (401, 403), f"{method} {path} refused an admin: {r.text}"
    assert r.status_code < 500, f"{method} {path} failed with {r.status_code}: {r.text}"


@pytest.mark.parametrize(("method", "path"), sorted(OPEN_ROUTES))
def test_the_open_routes_answer_anonymous_callers(client, method, path):
    body = {"email": "nobody@example.com", "password": "wrong password"} if method == "POST" else None
    r = client.request(method, path, json=body)
    expected = 401 if path == "/api/v1/auth/login" else 200  # reached the handler: wrong password, not 'who?'
    assert r.status_code == expected, r.text
