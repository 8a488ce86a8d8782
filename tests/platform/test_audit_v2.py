"""Hash version 2: bodies hashed before the lock, links inside it; old chains still verify; events prepared
outside the transaction with holes for what only the write knows."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event, insert, select, update

from tests.helpers import SYSTEM
from tierline.platform import audit, clock
from tierline.platform.audit import AuditChainHead, AuditEvent, Hole
from tierline.platform.db import ReadOnlySession

PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _events(db) -> list[AuditEvent]:
    with db.session(write=False) as session:
        return list(session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))


def _verify(db) -> audit.VerifyResult:
    with db.session(write=False) as session:
        return audit.verify(session)


def _record(db, *entity_ids: str) -> None:
    with db.unit_of_work() as session:
        for entity_id in entity_ids:
            audit.record(session, SYSTEM, "thing.update", entity_type="thing", entity_id=entity_id,
                         changes={"status": ["open", "pending"], "n": [1, 2.0]}, note="kept")


# -- the definition ----------------------------------------------------------------------------------------

FIELDS = {"seq": 7, "occurred_at": "2026-11-23T10:00:00.000000Z", "actor_id": 3, "actor_label": "a@example.com",
          "action": "tickets.update", "entity_type": "tickets", "entity_id": "42",
          "changes": {"status": ["open", "solved"], "points": [1.5, 2.0]}, "request_id": "req-1", "note": None}


def test_a_v2_hash_links_seq_and_prev_hash_to_a_hash_of_the_body_alone():
    body = ('{"action":"tickets.update","actor_id":3,"actor_label":"a@example.com","changes":{"points":[1.5,2],'
            '"status":["open","solved"]},"entity_id":"42","entity_type":"tickets","note":null,'
            '"occurred_at":"2026-11-23T10:00:00.000000Z","request_id":"req-1"}')
    body_hash = hashlib.sha256(body.encode()).hexdigest()
    assert audit.compute_body_hash(FIELDS) == body_hash
    prev = "ab" * 32
    link = hashlib.sha256(f"tierline-audit/2 7 {prev} {body_hash}".encode()).hexdigest()
    assert audit.link_hash(7, prev, body_hash) == link
    assert audit.event_hash(2, FIELDS, prev) == link
    assert audit.event_hash(1, FIELDS, prev) == audit.compute_hash(FIELDS, prev) != link
    assert audit.event_hash(3, FIELDS, prev) is None
    # Frozen: a change to either step would leave every chain written since unverifiable.
    assert link == "bf6490661e158e25676658eb4cb1b8af89e956743351601b8a2ea2bed95654c1"


_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10)
_json = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70) | st.floats() | _text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_text, children, max_size=4),
    max_leaves=20,
)
_fields = st.fixed_dictionaries({
    "seq": st.integers(min_value=1, max_value=2**62),
    "occurred_at": st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)).map(audit.iso),
    "actor_id": st.none() | st.integers(min_value=1, max_value=2**62),
    "actor_label": _text,
    "action": _text,
    "entity_type": _text,
    "entity_id": _text,
    "changes": st.dictionaries(_text, st.tuples(_json, _json).map(list), max_size=4),
    "request_id": st.none() | _text,
    "note": st.none() | _text,
})
_hex = st.text("0123456789abcdef", min_size=64, max_size=64)


def _other(key: str, value: Any) -> Any:
    """A value of the field that canonicalises differently."""
    if key == "changes":
        return {"wrapped": [value, None]}
    if key in ("seq", "actor_id"):
        return 1 if value is None else value + 1
    return "x" if value is None else value + "x"


@PROPERTY
@given(fields=_fields, prev=_hex, key=st.sampled_from([*FIELDS, "prev_hash"]))
def test_a_v2_hash_changes_with_any_field_and_the_link(fields: dict, prev: str, key: str) -> None:
    before = audit.event_hash(2, fields, prev)
    if key == "prev_hash":
        other = "f" * 64 if prev != "f" * 64 else "0" * 64
        assert audit.event_hash(2, fields, other) != before
    else:
        assert audit.event_hash(2, {**fields, key: _other(key, fields[key])}, prev) != before
    assert audit.event_hash(2, fields, prev) == before  # and the same fields give the same hash


@PROPERTY
@given(value=_json, data=st.data())
def test_canonical_text_is_a_fixed_point_of_storing_and_reading_back(value: Any, data: st.DataObject) -> None:
    """What verify hashes is what the database gives back: JSON text parsed again (PostgreSQL's JSONB also
    gives integral numbers back as integers), in any key order. Its canonical text must not move."""
    text = audit.canonical(value)
    again = json.loads(text)
    assert audit.canonical(again) == text
    stored = json.loads(json.dumps(value))  # what SQLite's JSON column holds and returns
    assert audit.canonical(stored) == text

    def shuffled(v: Any) -> Any:
        if isinstance(v, dict):
            keys = data.draw(st.permutations(list(v)))
            return {k: shuffled(v[k]) for k in keys}
        if isinstance(v, list):
            return [shuffled(x) for x in v]
        return v

    assert audit.canonical(shuffled(value)) == text


@PROPERTY
@given(value=_json)
def test_canonical_text_keeps_a_number_by_its_decimal_value(value: Any) -> None:
    def as_floats(v: Any) -> Any:
        if type(v) is int and abs(v) < 2**53:
            return float(v)
        if isinstance(v, dict):
            return {k: as_floats(x) for k, x in v.items()}
        if isinstance(v, list):
            return [as_floats(x) for x in v]
        return v

    assert audit.canonical(as_floats(value)) == audit.canonical(value)


# -- prepare and fill -----------------------------------------------------------------------------------

# Values a hole may stand for, as services hand them over: ids, and anything jsonable normalises.
_hole_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _text | st.sampled_from(["\x00", "\\u0000", '"'])
    | st.datetimes(timezones=st.sampled_from([UTC, None]).filter(bool)) | st.decimals(allow_nan=False),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_text, children, max_size=3),
    max_leaves=8,
)
_NAMES = ["ticket_id", "assignee_id", "queue_id"]


@st.composite
def _with_holes(draw: st.DrawFn) -> Any:
    """A changes structure some of whose values are holes."""
    leaf = st.one_of(_json, _hole_values, st.sampled_from(_NAMES).map(Hole))
    tree = st.recursive(leaf, lambda children: st.lists(children, max_size=3)
                        | st.dictionaries(_text, children, max_size=3)
                        | st.tuples(children, children), max_leaves=12)
    return draw(st.dictionaries(_text, st.tuples(tree, tree).map(list), max_size=4) | tree)


def _filled(value: Any, values: dict[str, Any]) -> Any:
    if type(value) is Hole:
        return values[value.name]
    if isinstance(value, dict):
        return {k: _filled(v, values) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_filled(v, values) for v in value)
    return value


@PROPERTY
@given(changes=_with_holes(), values=st.fixed_dictionaries({n: _hole_values for n in _NAMES}),
       id_hole=st.booleans(), note=st.none() | _text)
def test_filling_holes_gives_what_preparing_with_the_values_gives(changes: Any, values: dict, id_hole: bool,
                                                                 note: str | None) -> None:
    entity_id = Hole("ticket_id") if id_hole else 17
    ev = audit.prepare(SYSTEM, "tickets.create", entity_type="tickets", entity_id=entity_id, changes=changes,
                       note=note)
    whole = audit.prepare(SYSTEM, "tickets.create", entity_type="tickets",
                          entity_id=_filled(entity_id, values), changes=_filled(changes, values), note=note)
    assert whole.body_hash is not None and not whole.holes
    assert (ev.body_hash is None) == bool(ev.holes)
    assert ev.fill(values) is ev
    assert ev.body_hash == whole.body_hash
    assert json.dumps(ev.fields()) == json.dumps(whole.fields())  # same stored values, same key order
    assert (ev.changes_json, ev.row_json) == (whole.changes_json, whole.row_json)
    assert ev.body_hash == audit.compute_body_hash(whole.fields())


def test_an_event_without_holes_is_hashed_when_prepared():
    ev = audit.prepare(SYSTEM, "tickets.update", entity_type="tickets", entity_id=42,
                       changes={"status": ["open", "solved"]})
    assert not ev.holes and ev.entity_id == "42"
    assert ev.body_hash == audit.compute_body_hash(ev.fields())
    assert ev.fill({}) is ev  # nothing to fill


def test_a_filled_event_can_be_filled_again_with_other_values():
    hole = Hole("ticket_id")
    ev = audit.prepare(SYSTEM, "tickets.create", entity_type="tickets", entity_id=hole,
                       changes={"id": [None, hole], "tags": [None, ["a"]]})
    first = ev.fill({"ticket_id": 1}).body_hash
    ev.fill({"ticket_id": 2, "unused": "ignored"})
    assert (ev.entity_id, ev.changes) == ("2", {"id": [None, 2], "tags": [None, ["a"]]})
    assert ev.body_hash == audit.compute_body_hash(ev.fields()) != first


def test_a_hole_left_open_is_refused_by_fill_and_append(db):
    ev = audit.prepare(SYSTEM, "tickets.create", entity_type="tickets", entity_id=Hole("ticket_id"),
                       changes={"assignee_id": [None, Hole("assignee_id")]})
    with pytest.raises(ValueError, match="assignee_id"):
        ev.fill({"ticket_id": 1})
    assert ev.body_hash is None
    with db.engine.begin() as conn, pytest.raises(ValueError, match="not filled"):
        audit.append(conn, [ev])
    assert _events(db) == []


@pytest.mark.parametrize("build", [
    lambda: Hole("no spaces"),
    lambda: Hole(""),
    lambda: Hole(42),
    lambda: audit.prepare(SYSTEM, "a.b", entity_type="t", entity_id=1, changes={Hole("k"): [None, 1]}),
    lambda: audit.prepare(SYSTEM, "a.b", entity_type="t", entity_id=1, changes={"tags": [None, {Hole("k"), 1}]}),
    lambda: audit.prepare(SYSTEM, "a.b", entity_type="t", entity_id=1, changes={}, note=Hole("k")),
    lambda: audit.record(None, SYSTEM, "a.b", entity_type="t", entity_id=Hole("k"), changes={}),
])
def test_a_hole_where_its_text_or_order_would_be_needed_is_refused(build):
    with pytest.raises((TypeError, ValueError)):
        build()


def test_a_hole_value_still_holding_a_hole_is_refused():
    ev = audit.prepare(SYSTEM, "a.b", entity_type="t", entity_id=1, changes={"x": [None, Hole("k")]})
    with pytest.raises(TypeError):
        ev.fill({"k": [Hole("other")]})
    assert ev.body_hash is None


# -- append, through the database -------------------------------------------------------------------

def test_events_prepared_before_the_write_are_filled_and_appended_inside_it(db):
    ticket, assignee = Hole("ticket_id"), Hole("assignee_id")
    created = audit.prepare(SYSTEM, "tickets.create", entity_type="tickets", entity_id=ticket,
                            changes={"id": [None, ticket], "assignee_id": [None, assignee],
                                     "subject": [None, "Disk full"], "score": [None, 20.0]})
    clock_started = audit.prepare(SYSTEM, "sla_clocks.start", entity_type="sla_clocks", entity_id=5,
                                  changes={"ticket_id": [None, ticket], "due_at": [None, clock.now()]})
    assert created.holes == {"ticket_id", "assignee_id"} and created.body_hash is None
    with db.engine.begin() as conn:
        for ev in (created, clock_started):
            ev.fill({"ticket_id": 42, "assignee_id": 7})
        head = audit.append(conn, [created, clock_started])
    first, second = _events(db)
    assert (first.entity_id, first.changes) == ("42", {"id": [None, 42], "assignee_id": [None, 7],
                                                       "subject": [None, "Disk full"], "score": [None, 20.0]})
    assert second.changes == {"ticket_id": [None, 42], "due_at": [None, audit.iso(clock.now())]}
    assert [e.hash_version for e in (first, second)] == [2, 2]
    assert head == (second.seq, second.hash) == (2, second.hash)
    assert _verify(db).ok


def test_prepared_events_queued_in_a_session_are_appended_at_its_commit_in_order(db):
    with db.unit_of_work() as session:
        audit.record(session, SYSTEM, "thing.update", entity_type="thing", entity_id="before", changes={})
        hole = Hole("thing_id")
        prepared = audit.prepare(SYSTEM, "thing.create", entity_type="thing", entity_id=hole,
                                 changes={"id": [None, hole]})
        with pytest.raises(RuntimeError), session.begin_nested():
            audit.queue(session, [audit.prepare(SYSTEM, "thing.create", entity_type="thing", entity_id="lost",
                                                changes={})])
            raise RuntimeError("the savepoint rolls back, and its events with it")
        audit.queue(session, [prepared.fill({"thing_id": 9})])
        audit.record(session, SYSTEM, "thing.update", entity_type="thing", entity_id="after", changes={})
    assert [(e.entity_id, e.changes) for e in _events(db)] == [("before", {}), ("9", {"id": [None, 9]}),
                                                               ("after", {})]
    assert _verify(db).ok


def test_appending_nothing_touches_nothing(db):
    with db.engine.begin() as conn:
        assert audit.append(conn, []) is None
    with db.session(write=False) as session:
        assert session.get(AuditChainHead, 1) is None or session.get(AuditChainHead, 1).seq == 0


def _statements_of_an_append(db, n: int) -> list[str]:
    events = [audit.prepare(SYSTEM, "thing.update", entity_type="thing", entity_id=i, changes={"i": [None, i]})
              for i in range(n)]
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        seen.append(" ".join(statement.split()))

    with db.engine.begin() as conn:
        event.listen(conn, "before_cursor_execute", count)
        try:
            audit.append(conn, events)
        finally:
            event.remove(conn, "before_cursor_execute", count)
    return seen


@pytest.mark.parametrize("n", [1, 5])
def test_an_append_is_one_statement_on_postgresql_and_three_on_sqlite(db, n):
    _record(db, "first")  # the head row exists (tests empty the table; the migration creates it)
    statements = _statements_of_an_append(db, n)
    if db.is_sqlite:
        assert [s.split(" ")[0] for s in statements] == ["SELECT", "INSERT", "INSERT"]
    else:
        assert len(statements) == 1
        assert "tierline_audit_append" in statements[0]
    assert len(_events(db)) == n + 1
    assert _verify(db).ok


def test_an_append_continues_from_the_last_event_when_the_head_row_is_gone(db):
    _record(db, "a", "b")
    with db.engine.begin() as conn:
        conn.execute(delete(AuditChainHead))
    _record(db, "c")
    assert [e.seq for e in _events(db)] == [1, 2, 3]
    result = _verify(db)
    assert result.ok and result.checked == 3


def test_a_read_session_refuses_to_append(db):
    with db.session(write=False) as session:
        audit.record(session, SYSTEM, "thing.update", entity_type="thing", entity_id="1", changes={})
        with pytest.raises(ReadOnlySession):
            session.commit()
    assert _events(db) == []


# -- verify, across versions -------------------------------------------------------------------------

def _v1_trail(db, n: int) -> None:
    """`n` events as the code before version 2 wrote them: no hash_version (the column's default, 1), hashed by
    version 1, and the head moved."""
    prev, at = audit.GENESIS_HASH, clock.now() - timedelta(days=1)
    with db.engine.begin() as conn:
        for seq in range(1, n + 1):
            fields = {"seq": seq, "occurred_at": audit.iso(at), "actor_id": None, "actor_label": "system",
                      "action": "thing.create", "entity_type": "thing", "entity_id": str(seq),
                      "changes": {"n": [None, seq], "ratio": [None, 0.5], "whole": [None, 3.0]},
                      "request_id": None, "note": None}
            digest = audit.compute_hash(fields, prev)
            conn.execute(insert(AuditEvent.__table__).values(
                {**fields, "occurred_at": at, "prev_hash": prev, "hash": digest}))
            prev = digest
        conn.execute(delete(AuditChainHead))
        conn.execute(insert(AuditChainHead).values(id=1, seq=n, hash=prev, updated_at=at))


def test_a_v1_trail_continued_by_v2_events_verifies(db):
    _v1_trail(db, 3)
    _record(db, "a", "b")
    events = _events(db)
    assert [e.hash_version for e in events] == [1, 1, 1, 2, 2]
    assert events[3].prev_hash == events[2].hash
    result = _verify(db)
    assert result.ok and result.checked == 5


def test_tampering_with_a_v1_event_of_a_mixed_trail_is_caught(db):
    _v1_trail(db, 3)
    _record(db, "a")
    with db.engine.begin() as conn:
        conn.execute(update(AuditEvent.__table__).where(AuditEvent.seq == 2).values(changes={"n": [None, 99]}))
    result = _verify(db)
    assert not result.ok and result.broken_seq == 2 and "hash does not match" in result.reason


_TAMPERED = {
    "occurred_at": lambda ev: ev.occurred_at + timedelta(seconds=1),
    "actor_id": lambda ev: 999,
    "actor_label": lambda ev: "mallory@example.com",
    "action": lambda ev: "thing.delete",
    "entity_type": lambda ev: "other",
    "entity_id": lambda ev: "999",
    "changes": lambda ev: {**ev.changes, "status": ["open", "closed"]},
    "request_id": lambda ev: "forged",
    "note": lambda ev: None,
    "hash_version": lambda ev: 1,
    "hash": lambda ev: "f" * 64,
}


@pytest.mark.parametrize("column", sorted(_TAMPERED))
def test_tampering_with_any_field_of_a_v2_event_is_caught_at_that_event(db, column):
    _record(db, "a", "b", "c")
    target = _events(db)[1]
    with db.engine.begin() as conn:
        conn.execute(update(AuditEvent.__table__).where(AuditEvent.seq == 2)
                     .values({column: _TAMPERED[column](target)}))
    result = _verify(db)
    assert not result.ok and result.broken_seq == 2, result
    assert "hash does not match" in result.reason


def test_a_changed_seq_or_prev_hash_of_a_v2_event_is_caught(db):
    _record(db, "a", "b", "c")
    with db.engine.begin() as conn:
        conn.execute(update(AuditEvent.__table__).where(AuditEvent.seq == 2).values(prev_hash="e" * 64))
    result = _verify(db)
    assert not result.ok and result.broken_seq == 2 and "prev_hash" in result.reason
    with db.engine.begin() as conn:
        conn.execute(update(AuditEvent.__table__).where(AuditEvent.seq == 2).values(seq=20))
    result = _verify(db)
    assert not result.ok and result.broken_seq == 3 and "expected seq 2" in result.reason


def test_a_v2_event_rehashed_after_an_edit_breaks_the_next_link(db):
    _record(db, "a", "b", "c")
    forged = _events(db)[1]
    fields = {**audit.event_fields(forged), "note": "rewritten"}
    with db.engine.begin() as conn:
        conn.execute(update(AuditEvent.__table__).where(AuditEvent.seq == 2).values(
            note="rewritten", hash=audit.event_hash(2, fields, forged.prev_hash)))
    result = _verify(db)
    assert not result.ok and result.broken_seq == 3 and "prev_hash" in result.reason


def test_removing_the_newest_v2_events_is_caught_by_the_head(db):
    _v1_trail(db, 2)
    _record(db, "a", "b")
    with db.engine.begin() as conn:
        conn.execute(delete(AuditEvent.__table__).where(AuditEvent.seq >= 3))
    result = _verify(db)
    assert not result.ok and "records seq 4, but the last event is seq 2" in result.reason


def test_an_unknown_hash_version_is_reported(db):
    _record(db, "a")
    with db.engine.begin() as conn:
        conn.execute(update(AuditEvent.__table__).values(hash_version=9))
    result = _verify(db)
    assert not result.ok and result.broken_seq == 1 and result.reason == "unknown hash version 9"


def test_a_stored_v2_event_hashes_from_what_the_database_gives_back(db):
    """Floats, big integers, datetimes and decimals, as JSONB or SQLite's JSON text return them."""
    with db.unit_of_work() as session:
        audit.record(session, SYSTEM, "thing.update", entity_type="thing", entity_id="1", changes={
            "big": [10**20, 1e16], "ratio": [0.1, -0.0], "at": [None, datetime(2026, 1, 2, tzinfo=UTC)],
            "price": [Decimal("1.50"), None], "nested": [{"b": 1, "a": [2.0, "ü"]}, {}]})
    assert _verify(db).ok
