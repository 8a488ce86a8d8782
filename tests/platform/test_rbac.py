"""The permission matrix: data in one place, the union of a user's roles, rendered in the docs."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tierline.cli import app as cli
from tierline.platform import rbac

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"


def test_permissions_are_the_union_of_the_roles():
    l3 = rbac.permissions_for(["agent_l3"])
    sme = rbac.permissions_for(["sme"])
    ic = rbac.permissions_for(["incident_commander"])
    assert rbac.permissions_for(["agent_l3", "sme", "incident_commander"]) == l3 | sme | ic
    assert rbac.permissions_for(["auditor", "agent_l1"]) >= {"audit:read", "tickets:write"}
    assert rbac.permissions_for([]) == frozenset()
    assert rbac.permissions_for(["no-such-role"]) == frozenset()


def test_every_role_has_permissions_and_every_permission_a_role():
    for role in rbac.ROLES:
        assert rbac.ROLE_PERMISSIONS[role], role
        assert rbac.ROLE_PERMISSIONS[role] <= set(rbac.PERMISSIONS), role
    assert rbac.ROLE_PERMISSIONS["admin"] == frozenset(rbac.PERMISSIONS)


def test_permission_names_are_domain_read_or_write():
    for permission in rbac.PERMISSIONS:
        domain, _, verb = permission.partition(":")
        assert domain and verb in ("read", "write") or permission == "tokens:admin", permission


@pytest.mark.parametrize("role", ["customer", "integration"])
def test_portal_contacts_and_integrations_never_read_internal_notes(role):
    assert "notes:read" not in rbac.permissions_for([role])
    assert rbac.is_customer_only([role])


def test_agents_read_internal_notes():
    assert not rbac.is_customer_only(["agent_l1"])


def test_only_admins_auditors_and_compliance_officers_read_the_audit_trail():
    readers = {r for r in rbac.ROLES if "audit:read" in rbac.ROLE_PERMISSIONS[r]}
    assert readers == {"admin", "auditor", "compliance_officer"}


def test_the_integration_role_only_ingests():
    assert rbac.ROLE_PERMISSIONS["integration"] <= {"ingest:write", "tokens:read"}


def test_an_agents_tier_follows_from_its_highest_agent_role():
    assert rbac.tier_for(["agent_l1"]) == "L1"
    assert rbac.tier_for(["agent_l1", "agent_l3", "sme"]) == "L3"
    assert rbac.tier_for(["manager"]) is None


def test_the_permissions_doc_is_the_current_rendering_of_the_matrix():
    assert DOC.read_text() == rbac.render_markdown(), "run `tierline docs permissions --out docs/permissions.md`"


def test_the_rendered_matrix_lists_every_role_and_permission():
    text = rbac.render_markdown()
    for role in rbac.ROLES:
        assert role in text
    for permission in rbac.PERMISSIONS:
        assert f"`{permission}`" in text


def test_the_cli_renders_the_permissions_doc(tmp_path):
    out = tmp_path / "permissions.md"
    result = CliRunner().invoke(cli, ["docs", "permissions", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_text() == rbac.render_markdown()
