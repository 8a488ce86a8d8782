"""Nobody locks the organisation out: a change that would leave no active admin (the last active admin losing
the role, or being deactivated) is a 409 saying why, and changes nothing. Revoking one's own token stays
allowed."""

from __future__ import annotations

import threading

import pytest

from tests.helpers import SYSTEM
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.models import User
from tierline.platform.errors import Conflict


def _conflict(r) -> dict:  # noqa: ANN001
    assert r.status_code == 409, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    return r.json()


def test_the_last_admin_cannot_drop_the_admin_role_and_nothing_changes(admin, factory):
    events = factory.audit_count()
    body = _conflict(admin.patch(f"/api/v1/users/{admin.user_id}", json={"roles": ["manager"]}))
    assert "last active admin" in body["detail"] and "another" in body["detail"]
    assert admin.get(f"/api/v1/users/{admin.user_id}").json()["roles"] == ["admin"]
    assert factory.audit_count() == events


def test_the_last_admin_may_change_other_roles_and_fields(admin):
    r = admin.patch(f"/api/v1/users/{admin.user_id}", json={"roles": ["admin", "manager"], "name": "Root"})
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["admin", "manager"]


def test_with_a_second_admin_one_may_step_down_but_then_not_the_other(admin, factory, client):
    other = factory.api(client, roles=["admin"], email="second@example.com")
    r = admin.patch(f"/api/v1/users/{other.user_id}", json={"roles": ["agent_l2"]})
    assert r.status_code == 200, r.text
    _conflict(admin.patch(f"/api/v1/users/{admin.user_id}", json={"roles": ["agent_l2"]}))


def test_an_inactive_admin_does_not_count(admin, factory, client):
    other = factory.api(client, roles=["admin"], email="second@example.com")
    assert admin.patch(f"/api/v1/users/{other.user_id}", json={"active": False}).status_code == 200
    _conflict(admin.patch(f"/api/v1/users/{admin.user_id}", json={"roles": ["manager"]}))


def test_the_last_admin_cannot_be_deactivated_by_anyone(admin, db):
    with pytest.raises(Conflict, match="last active admin"):
        with db.unit_of_work() as session:
            user = auth_service.get_user(session, user_id=admin.user_id)
            auth_service.update_user(session, actor=SYSTEM, user=user, active=False)
    with db.session(write=False) as session:
        assert session.get(User, admin.user_id).active


def test_revoking_ones_own_token_stays_allowed(admin):
    tokens = admin.get("/api/v1/tokens").json()["items"]
    assert admin.delete(f"/api/v1/tokens/{tokens[0]['id']}").status_code == 204
    assert admin.get("/api/v1/auth/me").status_code == 401


@pytest.mark.committing
def test_two_admins_demoting_each_other_at_once_leave_one_admin(db, factory):
    first = factory.user(roles=["admin"], email="first@example.com")
    second = factory.user(roles=["admin"], email="second@example.com")
    barrier = threading.Barrier(2, timeout=20)
    outcomes: list[str] = []

    def demote(actor_user: User, target: User) -> None:
        actor = auth_service.actor_for(actor_user, via="token")
        barrier.wait()
        try:
            with db.unit_of_work() as session:
                user = auth_service.get_user(session, user_id=target.id)
                auth_service.update_user(session, actor=actor, user=user, roles=["manager"])
            outcomes.append("demoted")
        except Conflict:
            outcomes.append("refused")

    threads = [threading.Thread(target=demote, args=(first, second)),
               threading.Thread(target=demote, args=(second, first))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["demoted", "refused"]
    with db.session(write=False) as session:
        admins = [u for u in session.query(User) if u.active and "admin" in u.roles]
    assert len(admins) == 1
