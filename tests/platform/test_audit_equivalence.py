"""The audit trail's normalising and hashing code against a frozen copy of the code it replaced.

Chains already written were hashed by the old code, and `tierline audit verify` recomputes those hashes with
the new one: it only holds if both give the same canonical text, hence the same SHA-256, for the same
inputs. The `changes` JSON stored with each event (the before/after of every field) must not change either.
So every function that was rewritten for speed is checked here against its old self on generated inputs
(the reference below is src/tierline/platform/audit.py as of commit a9688d5, copied unchanged apart from the
`ref_` names), comparing results strictly: same types, same key order, same float spelling, or the same
exception.

Since hash version 2 (events are canonicalised and body-hashed when recorded, linked at commit), what the
session path queues and what the commit writes are compared with the reference's queue and rows: the same
stored fields and `changes` JSON, and the hash that version 2's definition (written out again below, apart
from the code under test) gives for the reference's fields.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import OrderedDict, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum, IntEnum, StrEnum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import JSON, DateTime, Float, Integer, Numeric, String, insert, inspect, select, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.sql.elements import TextClause

from tests.helpers import SYSTEM
from tierline.platform import audit, clock
from tierline.platform.audit import GENESIS_HASH, AuditEvent, PreparedEvent
from tierline.platform.audit.canonical import plain_numbers
from tierline.platform.audit.recording import _PENDING, _append_pending
from tierline.platform.observability import request_id_var
from tierline.tickets.models import Ticket

# -- the reference: the implementation before the rewrite ------------------------------------------------

REF_PENDING = "tierline.audit.pending"
REF_ADVISORY_LOCK_KEY = 0x7431_A0D1


@dataclass
class _Pending:
    actor_id: int | None
    actor_label: str
    action: str
    entity_type: str
    entity: Any
    entity_id: str | None
    changes: dict[str, Any]
    request_id: str | None
    occurred_at: datetime
    note: str | None


def ref_jsonable(value: Any) -> Any:
    """Normalise a value the way it will be stored and hashed (UTC ISO 8601 times)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        # JSON has no NaN or infinity (PostgreSQL refuses them), so they are recorded as text.
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return ref_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): ref_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [ref_jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    return str(value)


def ref_iso(value: datetime) -> str:
    return clock.as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ref_canonical(data: dict[str, Any]) -> str:
    return json.dumps(ref_plain_numbers(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def ref_plain_numbers(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(Decimal(repr(value)))
    if isinstance(value, dict):
        return {k: ref_plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [ref_plain_numbers(v) for v in value]
    return value


def ref_compute_hash(fields: dict[str, Any], prev_hash: str) -> str:
    body = dict(fields, prev_hash=prev_hash)
    return hashlib.sha256(ref_canonical(body).encode("utf-8")).hexdigest()


def ref_snapshot(obj: Any, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    mapper = inspect(obj).mapper
    return {
        attr.key: ref_jsonable(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in exclude and attr.key not in ("password_hash", "token_hash", "session_hash")
    }


def ref_diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


def ref_record(session: Any, actor: Any, action: str, entity: Any = None, *, changes: dict[str, Any],
               entity_type: str | None = None, entity_id: Any = None, note: str | None = None) -> None:
    if entity is None and (entity_type is None or entity_id is None):
        raise ValueError("record() needs an entity or entity_type and entity_id")
    etype = entity_type or getattr(entity, "__audit_type__", None) or entity.__tablename__
    session.info.setdefault(REF_PENDING, []).append(
        _Pending(
            actor_id=getattr(actor, "user_id", None),
            actor_label=getattr(actor, "label", None) or "system",
            action=action,
            entity_type=etype,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            changes=ref_jsonable(changes),
            request_id=request_id_var.get(),
            occurred_at=clock.now(),
            note=note,
        )
    )


def ref_record_create(session: Any, actor: Any, entity: Any, *, action: str | None = None,
                      exclude: tuple[str, ...] = ()) -> None:
    after = ref_snapshot(entity, exclude=exclude) if ref_has_state(entity) else {}
    ref_record(session, actor, action or f"{ref_etype(entity)}.create", entity,
               changes={k: [None, v] for k, v in after.items() if v is not None})


def ref_record_update(session: Any, actor: Any, entity: Any, before: dict[str, Any], *,
                      action: str | None = None, exclude: tuple[str, ...] = ("updated_at", "version")) -> bool:
    after = ref_snapshot(entity)
    changes = {k: v for k, v in ref_diff(before, after).items() if k not in exclude}
    if not changes:
        return False
    ref_record(session, actor, action or f"{ref_etype(entity)}.update", entity, changes=changes)
    return True


def ref_record_delete(session: Any, actor: Any, entity: Any, *, action: str | None = None) -> None:
    before = ref_snapshot(entity)
    ref_record(session, actor, action or f"{ref_etype(entity)}.delete", entity,
               changes={k: [v, None] for k, v in before.items() if v is not None})


def ref_etype(entity: Any) -> str:
    return getattr(entity, "__audit_type__", None) or entity.__tablename__


def ref_has_state(entity: Any) -> bool:
    try:
        inspect(entity)
        return True
    except Exception:
        return False


def ref_chain_head(session: Any) -> tuple[int, str]:
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def ref_append_pending(session: Any) -> None:
    pending: list[_Pending] = session.info.pop(REF_PENDING, [])
    if not pending:
        return
    session.flush()  # assign ids to entities created in this transaction
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": REF_ADVISORY_LOCK_KEY})
    seq, prev = ref_chain_head(session)
    rows = []
    for item in pending:
        entity_id = item.entity_id if item.entity_id is not None else str(item.entity.id)
        seq += 1
        fields = {
            "seq": seq,
            "occurred_at": ref_iso(item.occurred_at),
            "actor_id": item.actor_id,
            "actor_label": item.actor_label,
            "action": item.action,
            "entity_type": item.entity_type,
            "entity_id": entity_id,
            "changes": item.changes,
            "request_id": item.request_id,
            "note": item.note,
        }
        digest = ref_compute_hash(fields, prev)
        rows.append(dict(
            seq=seq, occurred_at=item.occurred_at, actor_id=item.actor_id, actor_label=item.actor_label,
            action=item.action, entity_type=item.entity_type, entity_id=entity_id, changes=item.changes,
            request_id=item.request_id, prev_hash=prev, hash=digest, note=item.note,
        ))
        prev = digest
    session.execute(insert(AuditEvent), rows)


def ref_v2_body_hash(fields: dict[str, Any]) -> str:
    """Version 2, as docs/architecture.md defines it: the canonical JSON of the fields but seq and prev_hash."""
    body = {k: v for k, v in fields.items() if k not in ("seq", "prev_hash")}
    return hashlib.sha256(ref_canonical(body).encode("utf-8")).hexdigest()


def ref_v2_hash(seq: int, prev_hash: str, body_hash: str) -> str:
    return hashlib.sha256(f"tierline-audit/2 {seq} {prev_hash} {body_hash}".encode("ascii")).hexdigest()


def ref_fields(item: _Pending, seq: int) -> dict[str, Any]:
    """The fields the reference hashed for a queued event (its entity's id read as at commit)."""
    return {
        "seq": seq,
        "occurred_at": ref_iso(item.occurred_at),
        "actor_id": item.actor_id,
        "actor_label": item.actor_label,
        "action": item.action,
        "entity_type": item.entity_type,
        "entity_id": item.entity_id if item.entity_id is not None else str(item.entity.id),
        "changes": item.changes,
        "request_id": item.request_id,
        "note": item.note,
    }


# -- strict comparison --------------------------------------------------------------------------------------

def same(a: Any, b: Any) -> bool:
    """Equal as stored and hashed: same types all the way down, same key order, same float spelling."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return len(a) == len(b) and all(same(ka, kb) and same(va, vb)
                                        for (ka, va), (kb, vb) in zip(a.items(), b.items()))
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float):
        return repr(a) == repr(b)  # nan, -0.0
    return a == b


def outcome(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, ...]:
    try:
        return ("returned", fn(*args, **kwargs))
    except Exception as exc:  # noqa: BLE001 - the same failure is part of the same behaviour
        return ("raised", type(exc), str(exc))


def assert_same_outcome(new: tuple[Any, ...], ref: tuple[Any, ...]) -> None:
    assert new[0] == ref[0], (new, ref)
    if new[0] == "raised":
        assert new[1:] == ref[1:]
    else:
        assert same(new[1], ref[1]), (new[1], ref[1])


# -- what jsonable is given: everything it accepts today ------------------------------------------------

class Colour(Enum):
    RED = "red"
    PAIR = (1, 2.0)
    WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    NAN = float("nan")
    PRICE = Decimal("1.50")
    WHOLE = 3.0


class Level(IntEnum):
    LOW = 1
    HIGH = 3


class Mode(StrEnum):
    FAST = "fast"
    SLOW = "slow"


class Tag(str):
    pass


class Count(int):
    pass


class Ratio(float):
    pass


class Items(list):
    pass


class Stamp(datetime):
    pass


class Labelled:
    def __init__(self, label: str) -> None:
        self.label = label

    def __str__(self) -> str:
        return f"<{self.label}>"


_ENUMS = [*Colour, *Level, *Mode]
_FLOATS = st.one_of(st.floats(), st.sampled_from([0.0, -0.0, 1.0, 2.0, -3.0, 1e16, -1e16, 2.0**53, 1e300, 0.1, 2.5,
                                                   1.5e-7, float("inf"), float("-inf"), float("nan")]))
_TEXT = st.text(max_size=8)  # any code point, lone surrogates and NUL included
_ZONES = st.one_of(st.none(), st.just(UTC), st.timezones(),
                   st.builds(timezone, st.timedeltas(min_value=timedelta(hours=-23, minutes=-59),
                                                     max_value=timedelta(hours=23, minutes=59))))
# Away from the ends of the calendar, where moving to UTC overflows (both versions raise; see the iso test).
_DATETIMES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=_ZONES),
    st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(1100, 1, 1), timezones=_ZONES),
    st.datetimes(timezones=st.just(UTC)).map(
        lambda d: Stamp(d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond, d.tzinfo)),
)
_HASHABLE = st.one_of(
    st.none(), st.booleans(), st.integers(), _FLOATS, _TEXT, st.dates(), _DATETIMES,
    st.decimals(allow_nan=False), st.sampled_from(_ENUMS), st.tuples(st.integers(), _TEXT),
)
_SCALARS = st.one_of(
    _HASHABLE,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.decimals(),  # NaN and sNaN included
    st.times(), st.uuids(), st.binary(max_size=4), st.builds(Labelled, _TEXT),
    st.builds(Tag, _TEXT), st.builds(Count, st.integers()), st.builds(Ratio, _FLOATS),
)
_KEYS = st.one_of(_TEXT, st.integers(), st.booleans(), st.none(), st.floats(allow_nan=False),
                  st.sampled_from(_ENUMS), st.tuples(st.integers()), st.builds(Tag, _TEXT))
_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.tuples(children, children),
        st.dictionaries(_KEYS, children, max_size=5),
        st.dictionaries(_TEXT, children, max_size=5),
        st.dictionaries(_TEXT, children, max_size=3).map(OrderedDict),
        st.dictionaries(_TEXT, children, max_size=3).map(lambda d: defaultdict(list, d)),
        st.lists(children, max_size=3).map(Items),
        st.sets(_HASHABLE, max_size=4),
        st.frozensets(_HASHABLE, max_size=4),
    ),
    max_leaves=25,
)
# What JSON columns hold, so what snapshots mostly see: plain JSON of the exact built-in types.
_PLAIN_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), _FLOATS, _TEXT),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(_TEXT, children, max_size=5),
    max_leaves=25,
)
# What canonical() is given: jsonable's output, values read back from the database, and anything JSON-shaped.
_JSONISH = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), _FLOATS, _TEXT,
              st.builds(Tag, _TEXT), st.builds(Count, st.integers()), st.builds(Ratio, _FLOATS),
              st.sampled_from([Level.LOW, Mode.FAST])),
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.tuples(children, children),
        st.dictionaries(_TEXT, children, max_size=5),
        st.dictionaries(st.one_of(_TEXT, st.integers()), children, max_size=3),
        st.dictionaries(_TEXT, children, max_size=3).map(OrderedDict),
        st.lists(children, max_size=3).map(Items),
    ),
    max_leaves=25,
)

FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@FAST
@given(value=_VALUES | _PLAIN_JSON)
def test_jsonable_gives_what_it_gave(value: Any) -> None:
    assert_same_outcome(outcome(audit.jsonable, value), outcome(ref_jsonable, value))


@FAST
@given(value=st.one_of(_DATETIMES, st.datetimes(timezones=_ZONES)))
def test_iso_gives_what_it_gave(value: datetime) -> None:
    assert_same_outcome(outcome(audit.iso, value), outcome(ref_iso, value))


@FAST
@given(data=st.one_of(st.dictionaries(_TEXT, _JSONISH, max_size=6), _JSONISH, _VALUES.map(ref_jsonable)))
def test_canonical_gives_what_it_gave(data: Any) -> None:
    assert_same_outcome(outcome(audit.canonical, data), outcome(ref_canonical, data))


@FAST
@given(data=st.one_of(_JSONISH, _VALUES.map(ref_jsonable)))
def test_plain_numbers_as_dumped_gives_what_it_gave(data: Any) -> None:
    """`_plain_numbers` may share what it does not change, but it must dump to the same text."""
    def dumped(fn: Any) -> tuple[Any, ...]:
        return outcome(lambda: json.dumps(fn(data), ensure_ascii=False))

    assert_same_outcome(dumped(plain_numbers), dumped(ref_plain_numbers))


def test_canonical_fails_on_a_cycle_as_it_did() -> None:
    """Only a tuple can carry a cycle past `_plain_numbers` to the encoder; the error is the one it was."""
    loop: list[Any] = []
    loop.append((loop,))
    data = {"a": (loop,)}
    assert_same_outcome(outcome(audit.canonical, data), outcome(ref_canonical, data))
    assert outcome(audit.canonical, data)[1] is ValueError


def test_canonical_of_deep_but_finite_nesting_is_what_it_was() -> None:
    data: Any = {"leaf": 2.0}
    for depth in range(150):
        data = {"d": [data, float(depth)], "t": ({"x": -0.0},)} if depth % 2 else {"t": (data, 1e16)}
    assert_same_outcome(outcome(audit.canonical, data), outcome(ref_canonical, data))


_FIELDS = st.fixed_dictionaries({
    "seq": st.integers(min_value=1, max_value=2**62),
    "occurred_at": _DATETIMES.map(ref_iso),
    "actor_id": st.none() | st.integers(min_value=1),
    "actor_label": _TEXT,
    "action": _TEXT,
    "entity_type": _TEXT,
    "entity_id": _TEXT,
    "changes": st.dictionaries(_TEXT, st.tuples(_VALUES, _VALUES).map(list), max_size=5).map(ref_jsonable),
    "request_id": st.none() | _TEXT,
    "note": st.none() | _TEXT,
})


@FAST
@given(fields=_FIELDS, prev=st.one_of(st.just(GENESIS_HASH), st.text("0123456789abcdef", min_size=64,
                                                                      max_size=64)))
def test_compute_hash_gives_what_it_gave(fields: dict[str, Any], prev: str) -> None:
    assert_same_outcome(outcome(audit.compute_hash, fields, prev), outcome(ref_compute_hash, fields, prev))


# -- snapshots of ORM objects -------------------------------------------------------------------------

class _Base(DeclarativeBase):
    pass


class Thing(_Base):
    """A mapped class with secrets, several column types, and an attribute key unlike its column name."""

    __tablename__ = "equivalence_things"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(50))
    password_hash: Mapped[str | None] = mapped_column(String(100))
    token_hash: Mapped[str | None] = mapped_column(String(100))
    payload: Mapped[Any] = mapped_column(JSON)
    at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    ratio: Mapped[float | None] = mapped_column(Float)
    renamed: Mapped[str | None] = mapped_column("column_named_otherwise", String(20))


class Lone(_Base):
    """One column left once the secret is left out."""

    __tablename__ = "equivalence_lones"
    __audit_type__ = "lone"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str | None] = mapped_column(String(100))


def _columns(cls: type) -> list[str]:
    return [a.key for a in inspect(cls).column_attrs]


def _entity(cls: type) -> st.SearchStrategy[Any]:
    def build(values: dict[str, Any]) -> Any:
        obj = cls()
        for key, value in values.items():
            setattr(obj, key, value)
        return obj

    return st.fixed_dictionaries({}, optional={k: _VALUES | _PLAIN_JSON for k in _columns(cls)}).map(build)


_ENTITIES = st.one_of(_entity(Ticket), _entity(Thing), _entity(Lone))


def _excludes(entity: Any) -> st.SearchStrategy[tuple[str, ...]]:
    keys = _columns(type(entity))
    return st.one_of(st.just(()), st.lists(st.sampled_from(keys + ["not_a_column"]), max_size=4).map(tuple),
                     st.just(tuple(keys)))


@FAST
@given(data=st.data())
def test_snapshot_gives_what_it_gave(data: st.DataObject) -> None:
    entity = data.draw(_ENTITIES)
    exclude = data.draw(_excludes(entity))
    assert_same_outcome(outcome(audit.snapshot, entity, exclude=exclude),
                        outcome(ref_snapshot, entity, exclude=exclude))
    assert_same_outcome(outcome(audit.snapshot, entity), outcome(ref_snapshot, entity))


def test_snapshot_of_an_object_that_is_not_mapped_fails_as_before() -> None:
    assert_same_outcome(outcome(audit.snapshot, Labelled("x")), outcome(ref_snapshot, Labelled("x")))


# -- what record_* queue ------------------------------------------------------------------------------

class FakeSession:
    """What record() touches of a session: its info dict."""

    def __init__(self) -> None:
        self.info: dict[str, Any] = {}


class Actor:
    user_id = 42
    label = "agent@example.com"


def _queued(fn: Any, *args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], list[PreparedEvent]]:
    """What the session path queues, sealed as the commit seals it (a waiting entity's id filled in)."""
    session = FakeSession()
    result = outcome(fn, session, *args, **kwargs)
    queued = session.info.get(_PENDING, [])
    if result[0] == "returned":
        sealed = outcome(lambda: [prepared.fill({"entity_id": entity.id}) for prepared, entity in queued
                                  if entity is not None])
        result = sealed if sealed[0] == "raised" else result
    return result, [prepared for prepared, _ in queued]


def _ref_queued(fn: Any, *args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], list[tuple[dict, str]]]:
    """What the reference queued: each event's fields as its commit read them, and their version-2 body
    hash (a value that cannot be hashed, such as a lone surrogate, failed the reference's commit)."""
    session = FakeSession()
    result = outcome(fn, session, *args, **kwargs)
    events: list[tuple[dict, str]] = []
    if result[0] == "returned":
        def seal() -> None:
            for item in session.info.get(REF_PENDING, []):
                fields = ref_fields(item, 1)
                del fields["seq"]
                events.append((fields, ref_v2_body_hash(fields)))
        sealed = outcome(seal)
        result = sealed if sealed[0] == "raised" else result
    return result, events


def assert_same_queue(new: tuple[tuple[Any, ...], list[PreparedEvent]],
                      ref: tuple[tuple[Any, ...], list[tuple[dict, str]]]) -> None:
    (new_result, prepared), (ref_result, events) = new, ref
    if new_result[0] == "raised" or ref_result[0] == "raised":
        # The same failure, met when recorded rather than at commit when it is the body's text (a lone
        # surrogate cannot be hashed): then only its place in the text, in the message, differs.
        assert new_result[0] == ref_result[0], (new_result, ref_result)
        assert new_result[1] is ref_result[1], (new_result, ref_result)
        if new_result[1] is not UnicodeEncodeError:
            assert new_result[2] == ref_result[2]
        return
    assert len(prepared) == len(events)
    for ev, (fields, body_hash) in zip(prepared, events):
        assert same(ev.fields(), fields), (ev.fields(), fields)
        assert ev.body_hash == body_hash
        assert ev.changes_json == json.dumps(fields["changes"])


_ACTORS = st.sampled_from([SYSTEM, Actor(), None])


@FAST
@given(data=st.data())
def test_record_create_queues_what_it_queued(data: st.DataObject) -> None:
    entity = data.draw(st.one_of(_ENTITIES, st.builds(Labelled, _TEXT)))
    actor = data.draw(_ACTORS)
    action = data.draw(st.none() | _TEXT)
    exclude = data.draw(_excludes(entity)) if not isinstance(entity, Labelled) else ()
    if isinstance(entity, Labelled):
        entity.__tablename__ = "labelled"  # not mapped: recorded with no changes
    assert_same_queue(_queued(audit.record_create, actor, entity, action=action, exclude=exclude),
                      _ref_queued(ref_record_create, actor, entity, action=action, exclude=exclude))


@FAST
@given(data=st.data())
def test_record_update_queues_what_it_queued(data: st.DataObject) -> None:
    entity = data.draw(_ENTITIES)
    keys = _columns(type(entity))
    before = data.draw(st.one_of(
        _ENTITIES.map(ref_snapshot),
        st.dictionaries(st.sampled_from(keys + ["extra"]), _VALUES, max_size=6),
        st.builds(lambda other, extra: {**ref_snapshot(other), **extra}, _ENTITIES,
                  st.dictionaries(st.sampled_from(keys), _VALUES, max_size=3)),
        st.just(ref_snapshot(entity)),
    ))
    exclude = data.draw(st.one_of(st.just(("updated_at", "version")), _excludes(entity)))
    action = data.draw(st.none() | _TEXT)
    assert_same_queue(_queued(audit.record_update, SYSTEM, entity, before, action=action, exclude=exclude),
                      _ref_queued(ref_record_update, SYSTEM, entity, before, action=action, exclude=exclude))


@FAST
@given(entity=_ENTITIES, action=st.none() | _TEXT)
def test_record_delete_queues_what_it_queued(entity: Any, action: str | None) -> None:
    assert_same_queue(_queued(audit.record_delete, SYSTEM, entity, action=action),
                      _ref_queued(ref_record_delete, SYSTEM, entity, action=action))


@FAST
@given(changes=st.dictionaries(_KEYS, st.tuples(_VALUES, _VALUES).map(list), max_size=5) | _VALUES,
       entity=st.none() | _ENTITIES, entity_type=st.none() | _TEXT, entity_id=st.none() | st.integers() | _TEXT,
       note=st.none() | _TEXT, request_id=st.none() | _TEXT)
def test_record_queues_what_it_queued(changes: Any, entity: Any, entity_type: str | None, entity_id: Any,
                                      note: str | None, request_id: str | None) -> None:
    token = request_id_var.set(request_id)
    try:
        kwargs = {"changes": changes, "entity_type": entity_type, "entity_id": entity_id, "note": note}
        assert_same_queue(_queued(audit.record, Actor(), "thing.change", entity, **kwargs),
                          _ref_queued(ref_record, Actor(), "thing.change", entity, **kwargs))
    finally:
        request_id_var.reset(token)


def test_changes_are_copied_when_queued_so_later_edits_by_the_caller_do_not_leak_in() -> None:
    tags = ["a"]
    ticket = Ticket(subject="s", tags=tags, triage={"signals": {"codes": ["X-1"]}})
    session = FakeSession()
    audit.record(session, SYSTEM, "thing.change", entity_type="thing", entity_id=1, changes={"tags": [None, tags]})
    audit.record_create(session, SYSTEM, ticket)
    tags.append("b")
    ticket.triage["signals"]["codes"].append("X-2")
    (first, _), (second, _) = session.info[_PENDING]
    assert first.changes == {"tags": [None, ["a"]]}
    assert second.changes["tags"] == [None, ["a"]]
    assert second.changes["triage"] == [None, {"signals": {"codes": ["X-1"]}}]


# -- what the commit appends ---------------------------------------------------------------------------

class _Result:
    def __init__(self, row: Any) -> None:
        self.row = row

    def first(self) -> Any:
        return self.row

    def one(self) -> Any:
        assert self.row is not None
        return self.row


class RecordingSession(FakeSession):
    """Enough of a Session for the reference's `_append_pending`: it logs every call, answers the chain-head
    query."""

    def __init__(self, dialect: str, head: tuple[int, str] | None) -> None:
        super().__init__()
        self.dialect, self.head, self.calls = dialect, head, []

    def flush(self) -> None:
        self.calls.append(("flush",))

    def get_bind(self) -> Any:
        return type("Bind", (), {"dialect": type("Dialect", (), {"name": self.dialect})})()

    def execute(self, statement: Any, params: Any = None) -> Any:
        if isinstance(statement, TextClause):
            self.calls.append(("text", str(statement), params))
            return _Result(None)
        if statement.is_select:
            self.calls.append(("select", str(statement)))
            return _Result(self.head)
        assert statement.is_insert and statement.table.name == "audit_events"
        self.calls.append(("insert", str(statement), params))
        return _Result(None)


class RecordingConnection:
    """Enough of a Connection for `append`: it logs every statement, answers the reads of the head and of
    the last event, and keeps the head a seeding INSERT creates."""

    def __init__(self, dialect: str, head: tuple[int, str] | None) -> None:
        self.dialect = type("Dialect", (), {"name": dialect})()
        self.head, self.calls = head, []

    def in_nested_transaction(self) -> bool:
        """As a session joined to an outer transaction: its owner commits, so the append is the parameterised
        statement compared here (the append that carries its COMMIT is tested on the database, test_audit.py)."""
        return True

    def execute(self, statement: Any, params: Any = None) -> Any:
        sql = " ".join(str(statement).split())
        self.calls.append((sql, params))
        if "tierline_audit_append" in sql:  # the server links; its head is not this fake's to compute
            return _Result((0, GENESIS_HASH))
        if sql.startswith("SELECT") and "FROM audit_chain_head" in sql:
            return _Result(self.head)
        if sql.startswith("SELECT"):  # the last event: the table is empty
            return _Result(None)
        if "DO NOTHING" in sql:
            seeded = statement.compile().params
            self.head = (seeded["seq"], seeded["hash"])
        return _Result(None)


class CommittingSession(FakeSession):
    """Enough of a Session for `_append_pending`: its flush and its connection."""

    def __init__(self, connection: RecordingConnection) -> None:
        super().__init__()
        self.flushed, self._connection = False, connection

    def flush(self) -> None:
        self.flushed = True

    def connection(self) -> RecordingConnection:
        assert self.flushed, "the ids a flush assigns are read before the chain is appended"
        return self._connection


class _Saved:
    """An entity whose id is known only at flush time."""

    __tablename__ = "saved"

    def __init__(self, id: Any) -> None:
        self.id = id


_PENDINGS = st.lists(
    st.builds(
        lambda changes, occurred_at, entity_id, saved_id, actor, note, request_id: _Pending(
            actor_id=getattr(actor, "user_id", None), actor_label=getattr(actor, "label", None) or "system",
            action="thing.change", entity_type="thing", entity=_Saved(saved_id), entity_id=entity_id,
            changes=ref_jsonable(changes), request_id=request_id, occurred_at=occurred_at, note=note),
        st.dictionaries(_TEXT, st.tuples(_VALUES, _VALUES).map(list), max_size=4),
        st.datetimes(min_value=datetime(1, 1, 2), timezones=st.one_of(st.just(UTC), st.timezones())),
        st.none() | _TEXT, st.integers(min_value=1), _ACTORS, st.none() | _TEXT, st.none() | _TEXT,
    ),
    max_size=5,
)


def _as_prepared(item: _Pending) -> tuple[PreparedEvent, Any]:
    """The reference's queued event as the session path queues it now."""
    waits = item.entity_id is None
    return PreparedEvent(
        occurred_at=item.occurred_at, actor_id=item.actor_id, actor_label=item.actor_label, action=item.action,
        entity_type=item.entity_type, entity_id=audit.Hole("entity_id") if waits else item.entity_id,
        changes=item.changes, request_id=item.request_id, note=item.note,
    ), item.entity if waits else None


def _new_rows(dialect: str, calls: list) -> list[dict[str, Any]]:
    """The events the statements inserted, as column -> value (SQLite's parameters; PostgreSQL's JSON)."""
    rows = []
    for sql, params in calls:
        if dialect == "postgresql" and "tierline_audit_append" in sql:
            rows += json.loads(params["events"])
        elif sql.startswith("INSERT INTO audit_events"):
            n = len(params) // 13
            rows += [{k.rsplit("_", 1)[0]: v for k, v in params.items() if k.endswith(f"_{i}")} for i in range(n)]
    return rows


@FAST
@given(pending=_PENDINGS, dialect=st.sampled_from(["sqlite", "postgresql"]),
       head=st.none() | st.tuples(st.integers(min_value=1, max_value=2**40), st.text("0123456789abcdef",
                                                                                    min_size=64, max_size=64)))
def test_the_commit_appends_what_it_appended(pending: list[_Pending], dialect: str,
                                             head: tuple[int, str] | None) -> None:
    """The reference's rows, field for field, `changes` as the very JSON text the column type wrote, linked by
    version 2 from the same head; in 1 statement on PostgreSQL (the server links them: the events go with
    their body hashes, checked here; the links are checked against the real database below) and 3 on SQLite,
    plus the read that seeds a missing head."""
    ref = RecordingSession(dialect, head)
    ref.info[REF_PENDING] = list(pending)
    ref_result = outcome(ref_append_pending, ref)
    connection = RecordingConnection(dialect, head)
    new = CommittingSession(connection)
    new_result = outcome(lambda: (new.info.__setitem__(_PENDING, [_as_prepared(p) for p in pending]),
                                  _append_pending(new))[1])
    if ref_result[0] == "raised" or new_result[0] == "raised":  # a lone surrogate: met when prepared, now
        assert (new_result[0], new_result[1]) == (ref_result[0], ref_result[1]), (new_result, ref_result)
        return
    assert _PENDING not in new.info
    ref_rows = [row for call in ref.calls if call[0] == "insert" for row in call[2]]
    new_rows = _new_rows(dialect, connection.calls)
    assert len(new_rows) == len(ref_rows) == len(pending)
    seq, prev = head or (0, GENESIS_HASH)
    for new_row, ref_row in zip(new_rows, ref_rows):
        seq += 1
        assert ref_row["seq"] == seq and new_row.get("seq", seq) == seq
        for key in ("actor_id", "actor_label", "action", "entity_type", "entity_id", "request_id", "note"):
            assert new_row[key] == ref_row[key], key
        if dialect == "sqlite":
            assert new_row["occurred_at"] is ref_row["occurred_at"]
            assert new_row["changes"] == json.dumps(ref_row["changes"])  # the text SQLite stores
        else:
            at = datetime.fromisoformat(new_row["occurred_at"])
            # the instant the UTC column type stores (astimezone: a time in a zone's gap compares unequal)
            assert (at, at.utcoffset()) == (clock.as_utc(ref_row["occurred_at"]), timedelta(0))
            assert same(new_row["changes"], json.loads(json.dumps(ref_row["changes"])))  # what JSONB parses
        fields = {k: ref_row[k] for k in ("seq", "actor_id", "actor_label", "action", "entity_type", "entity_id",
                                          "changes", "request_id", "note")}
        fields["occurred_at"] = ref_iso(ref_row["occurred_at"])
        body_hash = ref_v2_body_hash(fields)
        expected = ref_v2_hash(seq, prev, body_hash)
        if dialect == "postgresql":
            assert (new_row["body_hash"], new_row["hash_version"]) == (body_hash, 2)
        else:
            assert (new_row["prev_hash"], new_row["hash"], new_row["hash_version"]) == (prev, expected, 2)
        prev = expected
    statements = [sql.split(" ")[0] for sql, _ in connection.calls]
    if not pending:
        assert statements == []
        return
    moved = connection.calls[-1][1]
    if dialect == "postgresql":
        assert statements == ["SELECT"] and "tierline_audit_append" in connection.calls[0][0]
        return
    else:
        assert statements == (["SELECT"] if head else ["SELECT", "SELECT"]) + ["INSERT", "INSERT"]
        assert "ON CONFLICT" in connection.calls[-1][0]
    assert (moved["head_seq"], moved["head_hash"]) == (seq, prev)


# -- through a real database ---------------------------------------------------------------------------

# What the database can hold: no NUL or lone surrogate in text, no NaN or infinity in JSON (jsonable turns
# non-finite floats into text, but an Enum's raw value passes through).
_DB_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)
_DB_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(2**62), max_value=2**62), _FLOATS, _DB_TEXT,
              st.decimals(), st.dates(), st.datetimes(min_value=datetime(1, 1, 2), timezones=_ZONES),
              st.sampled_from([Colour.RED, Colour.WHOLE, Level.HIGH, Mode.SLOW])),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(_DB_TEXT, children, max_size=4),
                               st.sets(st.one_of(st.integers(), _DB_TEXT), max_size=3)),
    max_leaves=15,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(_DB_TEXT, st.tuples(_DB_VALUES, _DB_VALUES).map(list), min_size=1, max_size=4))
def test_events_written_now_hash_and_store_as_before(db, changes: dict[str, Any]) -> None:
    with db.unit_of_work() as session:
        audit.record(session, SYSTEM, "thing.update", entity_type="thing", entity_id="1", changes=changes,
                     note="property")
    expected_changes = ref_jsonable(changes)
    with db.session(write=False) as session:
        event = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
        stored = session.execute(text("SELECT changes FROM audit_events WHERE seq = :s"), {"s": event.seq}).scalar()
    fields = {"seq": event.seq, "occurred_at": ref_iso(clock.now()), "actor_id": SYSTEM.user_id,
              "actor_label": SYSTEM.label, "action": "thing.update", "entity_type": "thing", "entity_id": "1",
              "changes": expected_changes, "request_id": None, "note": "property"}
    assert event.hash_version == 2
    assert event.hash == ref_v2_hash(event.seq, event.prev_hash, ref_v2_body_hash(fields))
    if db.is_sqlite:
        assert stored == json.dumps(expected_changes)  # the very text the old code stored
    else:  # JSONB keeps numbers by decimal value, which is all the canonical form keeps of them
        assert ref_canonical(stored) == ref_canonical(expected_changes)
    assert ref_v2_hash(event.seq, event.prev_hash, ref_v2_body_hash(audit.event_fields(event))) == event.hash
    with db.session(write=False) as session:
        assert audit.verify(session).ok


@pytest.mark.parametrize("exclude", [(), ("triage",)])
def test_a_ticket_created_now_hashes_as_before(db, exclude: tuple[str, ...]) -> None:
    """A ticket's create event, integral floats in its triage record included, through a real commit."""
    with db.unit_of_work() as session:
        ticket = Ticket(id=10_001, subject="Query failed", description="DB-2001", status="open", type="question",
                        priority="P3", channel="api", requester_email="x@acme.example", tags=["database"],
                        custom_fields={}, impact_score=20, sentiment=0.0, frustrated=False,
                        impact_explain=[{"factor": "plan", "points": 10.0, "detail": "enterprise"}],
                        triage={"at": "2026-11-23T10:00:00+00:00", "impact": {"score": 20, "points": [10.0, 0.5]},
                                "sentiment": {"compound": -0.0}, "big": 1e16},
                        created_at=clock.now(), updated_at=clock.now(), version=1)
        ref = FakeSession()
        ref_record_create(ref, SYSTEM, ticket, action="tickets.create", exclude=exclude)
        audit.record_create(session, SYSTEM, ticket, action="tickets.create", exclude=exclude)
    expected = ref.info[REF_PENDING][0]
    with db.session(write=False) as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "tickets.create")).one()
    fields = {"seq": event.seq, "occurred_at": ref_iso(expected.occurred_at), "actor_id": expected.actor_id,
              "actor_label": expected.actor_label, "action": "tickets.create", "entity_type": "tickets",
              "entity_id": "10001", "changes": expected.changes, "request_id": None, "note": None}
    assert event.hash == ref_v2_hash(event.seq, event.prev_hash, ref_v2_body_hash(fields))
    assert ref_canonical(event.changes) == ref_canonical(expected.changes)
