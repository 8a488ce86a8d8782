"""The hash-chained audit trail: written with every change, verifiable, tamper-evident, readable by auditors."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from tierline.cli import app as cli
from tierline.platform import audit, clock
from tierline.platform.audit import AuditEvent
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.models import ApiToken
from tests.helpers import SYSTEM


def _update_user(db, user_id, **changes):  # noqa: ANN001
    with db.unit_of_work() as session:
        user = auth_service.get_user(session, user_id=user_id)
        auth_service.update_user(session, actor=SYSTEM, user=user, **changes)


def _events(db, **filters):  # noqa: ANN001
    with db.session(write=False) as session:
        stmt = select(AuditEvent).order_by(AuditEvent.seq)
        for key, value in filters.items():
            stmt = stmt.where(getattr(AuditEvent, key) == value)
        return list(session.scalars(stmt))


def _verify(db):  # noqa: ANN001
    with db.session(write=False) as session:
        return audit.verify(session)


def _some_history(db, factory):  # noqa: ANN001
    """A few creates, updates and a delete: a chain of several events."""
    user = factory.user(roles=["agent_l1"])
    factory.token(user)
    _update_user(db, user.id, name="Renamed Agent", roles=["agent_l2"])
    with db.unit_of_work() as session:
        token = session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
        audit.record_delete(session, SYSTEM, token)
        session.delete(token)
    return user


def _run_verify():  # noqa: ANN202
    result = CliRunner().invoke(cli, ["audit", "verify"], terminal_width=200)
    return result.exit_code, " ".join(result.output.split())


def test_the_chain_verifies_after_creates_updates_and_deletes(db, factory):
    _some_history(db, factory)
    events = _events(db)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].prev_hash == audit.GENESIS_HASH
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))
    ours = [e.action for e in events if e.entity_type in ("users", "api_tokens")]  # domains may add profiles
    assert ours == ["users.create", "api_tokens.create", "users.update", "api_tokens.delete"]
    result = _verify(db)
    assert result.ok and result.checked == len(events)


def test_audit_verify_exits_0_when_the_chain_is_intact(db, factory):
    _some_history(db, factory)
    code, output = _run_verify()
    assert code == 0, output
    assert "intact" in output and f"{len(_events(db))} events" in output


def test_audit_verify_exits_0_on_an_empty_trail(db):
    code, output = _run_verify()
    assert code == 0, output


def test_audit_verify_exits_1_naming_the_event_whose_changes_were_edited(db, factory):
    _some_history(db, factory)
    with db.engine.begin() as conn:
        conn.execute(text("""UPDATE audit_events SET changes = '{"name": ["x", "innocent"]}' WHERE seq = 3"""))
    code, output = _run_verify()
    assert code == 1
    assert "seq=3" in output and "hash does not match" in output


def test_audit_verify_exits_1_naming_the_event_after_a_deleted_one(db, factory):
    _some_history(db, factory)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    code, output = _run_verify()
    assert code == 1
    assert "seq=3" in output and "expected seq 2" in output


def test_audit_verify_exits_1_when_the_newest_events_were_deleted(db, factory):
    _some_history(db, factory)
    last = len(_events(db))
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq >= :s"), {"s": last - 1})
    code, output = _run_verify()
    assert code == 1
    assert f"records seq {last}" in output and f"last event is seq {last - 2}" in output


def test_audit_verify_exits_1_when_every_event_was_deleted(db, factory):
    _some_history(db, factory)
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events"))
    code, output = _run_verify()
    assert code == 1 and "removed from the end" in output


def test_the_chain_head_follows_every_append(db, factory):
    _some_history(db, factory)
    last = _events(db)[-1]  # in seq order
    with db.session(write=False) as session:
        head = session.get(audit.AuditChainHead, 1)
        assert (head.seq, head.hash) == (last.seq, last.hash)
    assert _verify(db).ok


def test_audit_verify_exits_1_naming_the_event_whose_hash_was_changed(db, factory):
    _some_history(db, factory)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET hash = :h WHERE seq = 2"), {"h": "f" * 64})
    code, output = _run_verify()
    assert code == 1
    assert "seq=2" in output


def test_a_rewritten_event_with_a_recomputed_hash_breaks_the_next_link(db, factory):
    _some_history(db, factory)
    forged = _events(db, seq=2)[0]
    fields = audit.event_fields(forged)
    fields["changes"] = {"name": [None, "forged"]}
    new_hash = audit.event_hash(forged.hash_version, fields, forged.prev_hash)
    with db.engine.begin() as conn:
        conn.execute(text("""UPDATE audit_events SET changes = '{"name": [null, "forged"]}', hash = :h
                             WHERE seq = 2"""), {"h": new_hash})
    result = _verify(db)
    assert not result.ok and result.broken_seq == 3 and "prev_hash" in result.reason


def test_a_change_to_several_fields_writes_one_event_listing_each(db, factory):
    user = factory.user(roles=["agent_l1"])
    before = factory.audit_count()
    _update_user(db, user.id, name="New Name", roles=["agent_l1", "sme"], timezone="Europe/Paris")
    assert factory.audit_count() == before + 1
    event = _events(db, action="users.update")[0]
    assert event.entity_type == "users" and event.entity_id == str(user.id)
    assert event.changes["name"][1] == "New Name"
    assert event.changes["roles"] == [["agent_l1"], ["agent_l1", "sme"]]
    assert event.changes["timezone"] == ["UTC", "Europe/Paris"]
    assert "updated_at" not in event.changes


def test_an_update_that_changes_nothing_writes_no_event(db, factory):
    user = factory.user(roles=["agent_l1"], name="Same")
    before = factory.audit_count()
    _update_user(db, user.id, name="Same")
    assert factory.audit_count() == before


def test_deactivating_a_user_writes_one_event_per_changed_entity(db, factory, client):
    user = factory.user(roles=["agent_l1"], password="correct horse battery")
    factory.token(user)
    factory.token(user)
    assert client.post("/api/v1/auth/login", json={"email": user.email,
                                                   "password": "correct horse battery"}).status_code == 200
    before = factory.audit_count()
    _update_user(db, user.id, active=False)
    new = _events(db)[before:]
    assert sorted(e.action for e in new) == ["api_tokens.revoke", "api_tokens.revoke", "users.update",
                                              "web_sessions.revoke"]
    entities = [(e.entity_type, e.entity_id) for e in new]
    assert len(entities) == len(set(entities))


def test_a_rolled_back_transaction_leaves_no_event(db, factory):
    before = factory.audit_count()
    with pytest.raises(RuntimeError):
        with db.unit_of_work() as session:
            auth_service.create_user(session, actor=SYSTEM, email="ghost@example.com", name="Ghost",
                                     roles=["agent_l1"])
            raise RuntimeError("the request failed after the change")
    assert factory.audit_count() == before
    assert _verify(db).ok


def test_a_rolled_back_savepoint_drops_only_its_own_events(db, factory):
    with db.unit_of_work() as session:
        audit.record(session, SYSTEM, "thing.create", entity_type="thing", entity_id="kept-before", changes={})
        with pytest.raises(RuntimeError):
            with session.begin_nested():
                audit.record(session, SYSTEM, "thing.create", entity_type="thing", entity_id="dropped",
                             changes={})
                raise RuntimeError("a get-or-create lost a race")
        with session.begin_nested():
            audit.record(session, SYSTEM, "thing.create", entity_type="thing", entity_id="kept-after",
                         changes={})
    assert [e.entity_id for e in _events(db)] == ["kept-before", "kept-after"]
    assert _verify(db).ok


def test_events_carry_the_actor_and_the_request_id_from_the_header(admin, factory):
    r = admin.post("/api/v1/tokens", json={"name": "ci"}, headers={"X-Request-ID": "req-4711-abc"})
    assert r.status_code == 201, r.text
    assert r.headers["x-request-id"] == "req-4711-abc"
    event = _events(factory.db, action="api_tokens.create", actor_id=admin.user_id)[0]
    assert event.actor_label == admin.email
    assert event.request_id == "req-4711-abc"
    assert event.entity_id == str(r.json()["id"])


def test_a_request_without_an_id_gets_one_echoed_and_recorded(admin, factory):
    r = admin.post("/api/v1/tokens", json={"name": "ci"})
    assert r.status_code == 201
    rid = r.headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", rid)
    event = _events(factory.db, action="api_tokens.create", actor_id=admin.user_id)[0]
    assert event.request_id == rid


def test_events_never_contain_secrets(db, factory):
    user = factory.user(roles=["agent_l1"], password="correct horse battery")
    raw = factory.token(user)
    for event in _events(db):
        dumped = audit.canonical(event.changes)
        assert raw not in dumped
        assert "token_hash" not in event.changes and "password_hash" not in event.changes


# -- GET /api/v1/audit ---------------------------------------------------------------------------------

def _seed_for_listing(db, factory):  # noqa: ANN001, ANN202
    """Three users created an hour apart by the test actor."""
    users = []
    for i in range(3):
        users.append(factory.user(roles=["agent_l1"], email=f"listed{i}@example.com"))
        clock.advance(timedelta(hours=1))
    return users


def test_the_audit_list_filters_by_entity_actor_and_time(db, factory, client):
    t0 = clock.now()
    users = _seed_for_listing(db, factory)
    auditor = factory.api(client, roles=["auditor"])  # at t0 + 3h: a users.create and an api_tokens.create
    r = auditor.get("/api/v1/audit", params={"entity_type": "users", "entity_id": str(users[1].id)})
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["action"], i["entity_id"]) for i in items] == [("users.create", str(users[1].id))]

    r = auditor.get("/api/v1/audit", params={"entity_type": "users"})
    assert len(r.json()["items"]) == 4
    seqs = [i["seq"] for i in r.json()["items"]]
    assert seqs == sorted(seqs, reverse=True)  # newest first

    r = auditor.get("/api/v1/audit", params={"entity_type": "users",
                                             "since": (t0 + timedelta(minutes=30)).isoformat(),
                                             "until": (t0 + timedelta(hours=2)).isoformat()})
    assert [i["entity_id"] for i in r.json()["items"]] == [str(users[1].id)]

    since = t0 + timedelta(hours=2)
    r = auditor.get("/api/v1/audit", params={"since": since.isoformat(), "limit": 200})
    expected = [e.seq for e in reversed(_events(db)) if e.occurred_at >= since]
    assert [i["seq"] for i in r.json()["items"]] == expected
    assert {"users", "api_tokens"} <= {i["entity_type"] for i in r.json()["items"]}
    until = t0 + timedelta(hours=1)
    r = auditor.get("/api/v1/audit", params={"until": until.isoformat(), "limit": 200})
    assert [i["seq"] for i in r.json()["items"]] == [e.seq for e in reversed(_events(db)) if e.occurred_at < until]
    assert str(users[0].id) in {i["entity_id"] for i in r.json()["items"] if i["entity_type"] == "users"}

    mine = auditor.post("/api/v1/tokens", json={"name": "mine"})
    assert mine.status_code == 201
    r = auditor.get("/api/v1/audit", params={"actor_id": auditor.user_id})
    assert [(i["action"], i["actor_id"]) for i in r.json()["items"]] == [("api_tokens.create", auditor.user_id)]


def test_the_audit_list_pages_with_a_cursor(db, factory, client):
    for _ in range(5):
        factory.user(roles=["agent_l1"])
    admin = factory.api(client, roles=["admin"])
    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        body = admin.get("/api/v1/audit", params=params).json()
        seen += [i["seq"] for i in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == list(range(factory.audit_count(), 0, -1))


@pytest.mark.parametrize("role", ["admin", "auditor", "compliance_officer"])
def test_the_audit_list_is_open_to_admins_auditors_and_compliance_officers(factory, client, role):
    api = factory.api(client, roles=[role])
    r = api.get("/api/v1/audit")
    assert r.status_code == 200, r.text
    assert r.json()["items"]


@pytest.mark.parametrize("role", ["manager", "agent_l1", "agent_l3", "sme", "incident_commander",
                                  "product_manager", "customer", "integration"])
def test_the_audit_list_is_closed_to_other_roles(factory, client, role):
    api = factory.api(client, roles=[role])
    r = api.get("/api/v1/audit")
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


def test_the_audit_list_rejects_a_time_without_a_zone(factory, client):
    api = factory.api(client, roles=["auditor"])
    r = api.get("/api/v1/audit", params={"since": "2026-11-23T10:00:00"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "since"


# -- concurrency ---------------------------------------------------------------------------------------

@pytest.mark.committing
def test_concurrent_writers_append_one_unforked_chain(db):
    threads_n, commits_each = 6, 8
    barrier = threading.Barrier(threads_n)
    failures: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(commits_each):
                with db.unit_of_work() as session:
                    for part in ("a", "b"):
                        audit.record(session, SYSTEM, "thing.create", entity_type="thing",
                                     entity_id=f"{n}-{i}-{part}", changes={"n": [None, n], "i": [None, i]})
        except BaseException as exc:  # surfaced below
            failures.append(exc)

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads_n)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert not failures, failures
    events = _events(db)
    total = threads_n * commits_each * 2
    assert [e.seq for e in events] == list(range(1, total + 1))
    assert len({e.prev_hash for e in events}) == total  # no two events share a parent: no fork
    # The two events of one transaction are adjacent: appends are serialised per transaction.
    by_entity = {e.entity_id: e.seq for e in events}
    for n in range(threads_n):
        for i in range(commits_each):
            assert by_entity[f"{n}-{i}-b"] == by_entity[f"{n}-{i}-a"] + 1
    assert _verify(db).ok


@pytest.mark.committing
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(
    st.text(max_size=8).filter(lambda t: "\x00" not in t),
    st.lists(st.sampled_from(["it's", "\\", '"', "$$", "$1", ";COMMIT;", "é", "%s", "%(x)s", "{events}"]),
             max_size=4).map(lambda parts: [None, " ".join(parts)]),
    min_size=1, max_size=3))
def test_an_append_committed_with_its_own_round_trip_stores_every_text_as_given(db, changes):
    """On PostgreSQL the session's own commit sends the append and the COMMIT as one query, the values quoted
    as literals: quotes, backslashes, dollar signs and semicolons arrive as they were, and the chain verifies."""
    with db.unit_of_work() as session:
        audit.record(session, SYSTEM, "thing.update", entity_type="thing", entity_id="q'; COMMIT; --",
                     changes=changes)
    last = _events(db)[-1]
    assert (last.entity_id, last.changes) == ("q'; COMMIT; --", changes)
    assert _verify(db).ok


@pytest.mark.committing
def test_an_append_that_fails_commits_nothing_of_its_transaction(db):
    """The COMMIT after a failed append never runs: the transaction's other rows are rolled back with it, and
    the next transaction on the same pool appends to an intact chain."""
    if db.is_sqlite:
        pytest.skip("SQLite does not enforce the length that makes the append fail here")
    with db.unit_of_work() as session:
        audit.record(session, SYSTEM, "thing.create", entity_type="thing", entity_id="before", changes={})
    with pytest.raises(Exception, match="too long"), db.unit_of_work() as session:
        session.execute(text("INSERT INTO app_settings (key, value, created_at) VALUES ('probe', 'x', now())"))
        audit.record(session, SYSTEM, "thing.create", entity_type="t" * 65, entity_id="x", changes={})
    with db.unit_of_work() as session:
        assert session.scalar(text("SELECT count(*) FROM app_settings WHERE key = 'probe'")) == 0
        audit.record(session, SYSTEM, "thing.create", entity_type="thing", entity_id="after", changes={})
    assert [e.entity_id for e in _events(db)][-2:] == ["before", "after"]
    assert _verify(db).ok


# -- canonical hashing, property-tested -----------------------------------------------------------------

# PostgreSQL cannot store NUL characters in text or JSON, and HTTP input cannot carry lone surrogates, so the
# strategy leaves those two out; every other JSON value is fair game.
_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | _text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=12,
)
_changes = st.dictionaries(_text, st.tuples(_json, _json).map(list), min_size=1, max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=_changes)
def test_any_changes_round_trip_through_the_database_and_still_verify(db, changes):
    with db.unit_of_work() as session:
        audit.record(session, SYSTEM, "thing.update", entity_type="thing", entity_id="1", changes=changes)
    result = _verify(db)
    assert result.ok, (result.reason, changes)
    with db.session(write=False) as session:
        count = session.scalar(select(func.count()).select_from(AuditEvent))
    assert result.checked == count
