"""The operator's commands: users, tokens, migrations."""

from __future__ import annotations

from typer.testing import CliRunner

from tierline.cli import app as cli
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.models import User


def _run(*args: str, stdin: str | None = None):  # noqa: ANN202
    return CliRunner().invoke(cli, list(args), input=stdin, terminal_width=200)


def test_user_create_makes_a_user_with_several_roles_and_a_password_from_stdin(db, client):
    r = _run("user", "create", "lead@example.com", "--role", "agent_l3", "--role", "sme", "--password-stdin",
             stdin="a long enough password\n")
    assert r.exit_code == 0, r.output
    with db.session(write=False) as session:
        user = auth_service.get_user_by_email(session, email="lead@example.com")
        assert user.roles == ["agent_l3", "sme"]
    login = client.post("/api/v1/auth/login", json={"email": "lead@example.com",
                                                     "password": "a long enough password"})
    assert login.status_code == 200


def test_user_create_refuses_an_unknown_role_or_a_duplicate_with_exit_2(db, factory):
    assert _run("user", "create", "x@example.com", "--role", "wizard").exit_code == 2
    assert factory.count(User) == 0
    assert _run("user", "create", "x@example.com", "--role", "agent_l1").exit_code == 0
    assert _run("user", "create", "X@example.com", "--role", "agent_l1").exit_code == 2
    assert factory.count(User) == 1


def test_token_create_prints_a_working_token_once(db, factory, client):
    factory.user(roles=["auditor"], email="audit@example.com")
    r = _run("token", "create", "audit@example.com", "--scope", "audit:read", "--expires-in", "30")
    assert r.exit_code == 0, r.output
    raw = r.output.strip().splitlines()[-1]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})
    assert me.status_code == 200 and me.json()["permissions"] == ["audit:read"]


def test_token_create_for_an_unknown_user_or_a_scope_beyond_the_roles_exits_2(db, factory):
    assert _run("token", "create", "nobody@example.com").exit_code == 2
    factory.user(roles=["agent_l1"], email="agent@example.com")
    assert _run("token", "create", "agent@example.com", "--scope", "audit:read").exit_code == 2


def test_migrate_on_a_migrated_database_changes_nothing(db):
    r = _run("migrate")
    assert r.exit_code == 0, r.output
    assert "migrated" in r.output
