"""Roles and the permission matrix: data, in one place.

A user holds one or more roles and gets the union of their permissions. A permission is named
`<domain>:read` or `<domain>:write`, the same names API tokens use as scopes, so a token can only narrow
what its user may do. `docs/permissions.md` is rendered from this module (`tierline docs permissions`) and
a test keeps it current.
"""

from __future__ import annotations

from collections.abc import Iterable

ROLES: tuple[str, ...] = (
    "admin",
    "manager",
    "agent_l1",
    "agent_l2",
    "agent_l3",
    "sme",
    "incident_commander",
    "product_manager",
    "compliance_officer",
    "auditor",
    "customer",
    "integration",
)

AGENT_TIERS: dict[str, str] = {"agent_l1": "L1", "agent_l2": "L2", "agent_l3": "L3"}

PERMISSION_DESCRIPTIONS: dict[str, str] = {
    "tickets:read": "read tickets, their public messages and their history",
    "tickets:write": "create and update tickets, post messages",
    "notes:read": "read internal notes on tickets",
    "customers:read": "read customers and contacts",
    "customers:write": "create and update customers and contacts",
    "components:read": "read the system-architecture tree",
    "components:write": "change the system-architecture tree",
    "queues:read": "read queues",
    "queues:write": "create and change queues",
    "forms:read": "read ticket forms (fields required before solving)",
    "forms:write": "change ticket forms",
    "users:read": "read users and their agent profiles",
    "users:write": "create, change and deactivate users",
    "teams:read": "read teams",
    "teams:write": "create and change teams",
    "tokens:read": "list one's own API tokens",
    "tokens:write": "create and revoke one's own API tokens",
    "tokens:admin": "mint, list and revoke other users' API tokens (only of users whose roles one could grant)",
    "sla:read": "read business calendars, SLA policies and clocks",
    "sla:write": "change business calendars and SLA policies",
    "triage:read": "read triage rules and explain how a ticket would be triaged",
    "triage:write": "create, change and delete triage rules",
    "problems:read": "read problems (recurring issues) with their tickets and customers",
    "problems:write": "change a problem's status and owner",
    "audit:read": "read the audit trail",
    "metrics:read": "scrape Prometheus metrics",
    "ingest:write": "send tickets and alerts from an integration",
}
PERMISSIONS: tuple[str, ...] = tuple(PERMISSION_DESCRIPTIONS)

_READ_ALL = {p for p in PERMISSIONS if p.endswith(":read") and p not in ("audit:read", "metrics:read")}
_SELF_SERVICE = {"tokens:read", "tokens:write"}
_AGENT = _READ_ALL | _SELF_SERVICE | {"tickets:write", "customers:write"}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(PERMISSIONS),
    "manager": frozenset(_AGENT | {"users:write", "teams:write", "queues:write", "components:write",
                                   "sla:write", "metrics:read", "triage:write", "problems:write"}),
    "agent_l1": frozenset(_AGENT),
    "agent_l2": frozenset(_AGENT | {"problems:write"}),
    "agent_l3": frozenset(_AGENT | {"components:write", "problems:write"}),
    "sme": frozenset(_AGENT | {"problems:write"}),
    "incident_commander": frozenset(_AGENT),
    # Product managers own the backlog that problems feed.
    "product_manager": frozenset(_READ_ALL | _SELF_SERVICE | {"problems:write"}),
    "compliance_officer": frozenset(_READ_ALL | _SELF_SERVICE | {"audit:read"}),
    "auditor": frozenset(_READ_ALL | _SELF_SERVICE | {"audit:read"}),
    # A portal contact: sees and writes only their own tickets, never internal notes.
    "customer": frozenset({"tickets:read", "tickets:write", "tokens:read", "tokens:write"}),
    "integration": frozenset({"ingest:write", "tokens:read"}),
}

assert set(ROLE_PERMISSIONS) == set(ROLES)


def permissions_for(roles: Iterable[str]) -> frozenset[str]:
    out: set[str] = set()
    for role in roles:
        out |= ROLE_PERMISSIONS.get(role, frozenset())
    return frozenset(out)


def tier_for(roles: Iterable[str]) -> str | None:
    """An agent's tier follows from its highest agent role."""
    tiers = sorted(AGENT_TIERS[r] for r in roles if r in AGENT_TIERS)
    return tiers[-1] if tiers else None


def is_customer_only(roles: Iterable[str]) -> bool:
    """True for portal contacts: they never see internal notes or other requesters' tickets."""
    return "notes:read" not in permissions_for(roles)


def render_markdown() -> str:
    lines = [
        "# Permissions",
        "",
        "Rendered from `src/tierline/platform/rbac.py` by `tierline docs permissions`; do not edit by hand.",
        "A user's permissions are the union of their roles'. API token scopes use the same names and can only",
        "narrow what the token's user may do.",
        "",
        "| permission | meaning | " + " | ".join(ROLES) + " |",
        "|---|---|" + "---|" * len(ROLES),
    ]
    for perm in PERMISSIONS:
        cells = ["x" if perm in ROLE_PERMISSIONS[r] else "" for r in ROLES]
        lines.append(f"| `{perm}` | {PERMISSION_DESCRIPTIONS[perm]} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
