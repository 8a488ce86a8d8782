"""Every route with a token of every role, and with narrowed tokens, checked against the permission matrix
(issue 11): a caller whose credential lacks the route's permission is a 403, one that has it is never a 401 or
403 at the door. The matrix itself is held to what it granted before (docs/permissions.md), plus tokens:admin.
"""

from __future__ import annotations

import pytest

from tests.test_route_security import GUARDED, _auth_dependencies, _url
from tierline.platform import rbac

# What the matrix granted before issue 11, role by role; issue 11 added tokens:admin, the admin's alone.
_READ_ALL = {p for p in rbac.PERMISSIONS if p.endswith(":read") and p not in ("audit:read", "metrics:read")}
_AGENT = _READ_ALL | {"tokens:read", "tokens:write", "tickets:write", "customers:write"}
EXPECTED = {
    "admin": set(rbac.PERMISSIONS),
    "manager": _AGENT | {"users:write", "teams:write", "queues:write", "components:write", "sla:write",
                         "metrics:read", "triage:write", "problems:write"},
    "agent_l1": _AGENT,
    "agent_l2": _AGENT | {"problems:write"},
    "agent_l3": _AGENT | {"components:write", "problems:write"},
    "sme": _AGENT | {"problems:write"},
    "incident_commander": _AGENT,
    "product_manager": _READ_ALL | {"tokens:read", "tokens:write", "problems:write"},
    "compliance_officer": _READ_ALL | {"tokens:read", "tokens:write", "audit:read"},
    "auditor": _READ_ALL | {"tokens:read", "tokens:write", "audit:read"},
    "customer": {"tickets:read", "tickets:write", "tokens:read", "tokens:write"},
    "integration": {"ingest:write", "tokens:read"},
}


# Revoking a token (its own is id 1) comes last, so the walk keeps its credential to the end.
WALK = sorted(GUARDED, key=lambda item: (item[0], item[1]) == ("DELETE", "/api/v1/tokens/{token_id}"))


def _needed(route) -> str | None:  # noqa: ANN001
    return _auth_dependencies(route.dependant)[0].permission


def _door_refused(r) -> bool:  # noqa: ANN001
    """A 401, or a 403 from the permission check (its detail names the permission)."""
    return r.status_code == 401 or (r.status_code == 403 and "permission" in r.json().get("detail", ""))


def test_the_permission_matrix_is_unchanged_but_for_tokens_admin():
    assert {role: set(perms) for role, perms in rbac.ROLE_PERMISSIONS.items()} == EXPECTED
    assert [r for r in rbac.ROLES if "tokens:admin" in rbac.ROLE_PERMISSIONS[r]] == ["admin"]


@pytest.mark.parametrize("role", rbac.ROLES)
def test_every_route_with_a_token_of_each_role_follows_the_matrix(client, factory, role):
    api = factory.api(client, roles=[role])
    granted = rbac.ROLE_PERMISSIONS[role]
    wrong = []
    for method, path, route in WALK:
        needed = _needed(route)
        r = client.request(method, _url(path, route), headers={"Authorization": f"Bearer {api.token}"})
        allowed = needed is None or needed in granted
        if allowed == _door_refused(r):
            wrong.append(f"{method} {path} needs {needed}: {r.status_code} {r.text[:120]}")
        if not allowed:
            assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert not wrong, "\n".join(wrong)


def test_every_route_with_a_narrowed_token_reaches_exactly_its_scopes(client, factory):
    admin = factory.user(roles=["admin"])
    tokens = {perm: factory.token(admin, [perm]) for perm in rbac.PERMISSIONS}
    wrong = []
    for method, path, route in WALK:
        needed = _needed(route)
        if needed is None:
            continue
        other = next(p for p in rbac.PERMISSIONS if p != needed)
        for scope, allowed in ((needed, True), (other, False)):
            r = client.request(method, _url(path, route), headers={"Authorization": f"Bearer {tokens[scope]}"})
            if allowed == _door_refused(r):
                wrong.append(f"{method} {path} needs {needed}, token scoped to {scope}: {r.status_code}")
    assert not wrong, "\n".join(wrong)
