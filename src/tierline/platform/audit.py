"""The hash-chained audit trail.

Services call `record()` for every entity they create, change or delete; the events wait in the session
and are appended to the chain in `before_commit`, inside the same transaction as the change.

Chain design: appends are serialised, at commit time only. On PostgreSQL the commit takes a
transaction-scoped advisory lock, reads the chain head, writes the waiting events with consecutive `seq`
numbers and their hashes, and the lock is released by the COMMIT itself. The lock therefore covers the last
few milliseconds of a writing transaction, never the request's work, and readers never take it. We chose
this over sealing events later into a separate table because the chain is then complete at every
instant: `audit verify` never has an unsealed tail to explain, and there is no sealer process to run,
monitor or fall behind. `seq` is UNIQUE, so even a writer that bypassed the lock could not fork the chain:
its commit would fail instead. On SQLite the database write lock (taken by BEGIN IMMEDIATE) already
serialises writers.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from math import isfinite
from operator import attrgetter
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Index,
    Integer,
    Row,
    String,
    Text,
    event,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from tierline.platform import clock
from tierline.platform.db import Base, BigId, JSONType, UTCDateTime
from tierline.platform.observability import request_id_var
from tierline.platform.pagination import SortKey, paginate

GENESIS_HASH = "0" * 64
_PENDING = "tierline.audit.pending"
_ADVISORY_LOCK_KEY = 0x7431_A0D1  # arbitrary constant naming "the audit chain"


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
        Index("ix_audit_events_actor_time", "actor_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    actor_label: Mapped[str] = mapped_column(String(320), nullable=False)
    action: Mapped[str] = mapped_column(String(100), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(64), nullable=False)
    changes: Mapped[dict] = mapped_column(JSONType, nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditChainHead(Base):
    """The last event of the chain as the writers left it: one row, moved in the same transaction as the events.

    A chain alone cannot show that its newest events were deleted: what remains still links up. The head
    can: verify compares it with the last event it walked. (Whoever can rewrite both rows can hide it; export
    the head elsewhere to close that.)"""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)


_HEAD_ROW = 1


# What the audit trail costs is mostly walking values (a ticket's triage record is some thirty dicts), once to
# normalise them, once to hash them. So each walk tests the exact built-in types first, inline for the members
# of dicts and lists, before any isinstance chain; everything else (subclasses such as IntEnum and StrEnum,
# dates, decimals, enums, sets) follows the full rules in the `_other` functions, as it always did. And a
# snapshot, already a normalised copy, is not normalised a second time when it is recorded.

_AS_IS = frozenset({str, int, bool, type(None)})  # returned as they are by jsonable and _plain_numbers
# Below 2**53 every integral float is an int exactly and `int()` gives the digits `repr()` spells; above it
# the two part ways (int(1e300) is not 10**300), so only there does the hash go through Decimal.
_EXACT_INT_FLOAT = 2.0**53


def jsonable(value: Any) -> Any:
    """Normalise a value the way it will be stored and hashed (UTC ISO 8601 times).

    Containers are always copied, so nothing recorded changes if the caller edits its data before the commit.
    """
    cls = type(value)
    if cls in _AS_IS:
        return value
    if cls is dict:
        return {k if type(k) is str else str(k): v if type(v) in _AS_IS else jsonable(v)
                for k, v in value.items()}
    if cls is list:
        return [v if type(v) in _AS_IS else jsonable(v) for v in value]
    if cls is float:
        # JSON has no NaN or infinity (PostgreSQL refuses them), so they are recorded as text.
        return value if isfinite(value) else str(value)
    if cls is datetime:
        return iso(value)
    return _jsonable_other(value)


def _jsonable_other(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if isfinite(value) else str(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value  # as it is, not normalised further
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    return str(value)


class _NotPlain(Exception):
    """Raised by `_copy_plain` at a value that is not plain JSON."""


def _not_plain() -> Any:
    raise _NotPlain


def _copy_plain(value: Any) -> Any:
    """`jsonable(value)` for plain JSON: dicts with str keys, lists, str, int, bool, None, finite floats, all of
    the exact types; raises `_NotPlain` at anything else. What it returns is settled (jsonable would only copy
    it again), which is what a JSON column holds and lets a create record its snapshot as it is."""
    cls = type(value)
    if cls is dict:
        return {k if type(k) is str else _not_plain():
                v if type(v) in _AS_IS or (type(v) is float and isfinite(v)) else _copy_plain(v)
                for k, v in value.items()}
    if cls is list:
        return [v if type(v) in _AS_IS or (type(v) is float and isfinite(v)) else _copy_plain(v) for v in value]
    if cls in _AS_IS or (cls is float and isfinite(value)):
        return value
    raise _NotPlain


def iso(value: datetime) -> str:
    utc = clock.as_utc(value)
    if type(utc) is datetime and utc.year >= 1000:
        # isoformat is several times cheaper than strftime and spells the same text, `+00:00` aside, from
        # the year 1000 on; strftime does not pad earlier years to four digits, so they keep it.
        return utc.isoformat(timespec="microseconds")[:-6] + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_CANONICAL_OPTIONS: dict[str, Any] = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
# json.dumps builds an encoder on every call when given options; one shared encoder writes the same text (it
# keeps no state between calls, so threads may share it). It skips the bookkeeping that spots a cycle, which
# JSON read back or built by jsonable never has: were one to come, the encoder would recurse until Python
# stops it, and `canonical` then dumps again with the check, to fail as it always did.
_encode_canonical = json.JSONEncoder(check_circular=False, **_CANONICAL_OPTIONS).encode


def canonical(data: dict[str, Any]) -> str:
    plain = _plain_numbers(data)
    try:
        return _encode_canonical(plain)
    except RecursionError:
        return json.dumps(plain, **_CANONICAL_OPTIONS)


def _integral(v: float) -> int:
    return int(v) if -_EXACT_INT_FLOAT < v < _EXACT_INT_FLOAT else int(Decimal(repr(v)))


def _plain_numbers(value: Any) -> Any:
    """Integral floats as the integers they spell: PostgreSQL's JSONB gives `1e+16` back as 10000000000000000
    and `2.0` back as 2.0, so only the number's decimal value, not its Python type, may enter the hash.

    Only the dicts and lists on the way to such a float are copied; the rest is returned as it is (it dumps
    to the same text), so a value with no integral float costs one walk and no copy.
    """
    cls = type(value)
    if cls is dict or cls is list:
        plain = None
        for k, v in (value.items() if cls is dict else enumerate(value)):
            vcls = type(v)
            if vcls in _AS_IS:
                continue
            if vcls is float:
                if not v.is_integer():  # nor is NaN or infinity
                    continue
                p = _integral(v)
            elif (p := _plain_numbers(v)) is v:
                continue
            if plain is None:
                plain = cls(value)
            plain[k] = p
        return value if plain is None else plain
    if cls is float:
        return _integral(value) if value.is_integer() else value
    if cls in _AS_IS:
        return value
    return _plain_numbers_other(value)


def _plain_numbers_other(value: Any) -> Any:
    """The full rule, for subclasses of float, dict and list; tuples and the rest pass as they are."""
    if isinstance(value, float) and isfinite(value) and value.is_integer():
        return int(Decimal(repr(value)))
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


def compute_hash(fields: dict[str, Any], prev_hash: str) -> str:
    body = dict(fields, prev_hash=prev_hash)
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


_SECRETS = ("password_hash", "token_hash", "session_hash")
# Per mapper and `exclude`: the mapper's column namespace the entry was built from, the keys a snapshot reads
# and one C-level getter for them all. SQLAlchemy builds a new namespace when a mapper gains a column, which
# renews the entry. Bounded, in case some caller builds `exclude` afresh each time.
_COLUMNS: dict[tuple[Any, Any], tuple[Any, tuple[str, ...], Callable[[Any], Any]]] = {}
_COLUMNS_MAX = 512


def _columns(mapper: Any, exclude: Any) -> tuple[tuple[str, ...], Callable[[Any], Any]] | None:
    """The keys `snapshot` reads and their getter; None when `exclude` cannot be a cache key."""
    attrs = mapper.column_attrs
    try:
        entry = _COLUMNS.get((mapper, exclude))
    except TypeError:  # an unhashable `exclude`
        return None
    if entry is None or entry[0] is not attrs:
        keys = tuple(attr.key for attr in attrs if attr.key not in exclude and attr.key not in _SECRETS)
        if len(keys) > 1 and not any("." in k for k in keys):
            getter = attrgetter(*keys)
        else:  # attrgetter gives a bare value for one key, and reads a dotted key as a path
            def getter(obj: Any, keys: tuple[str, ...] = keys) -> tuple[Any, ...]:
                return tuple(getattr(obj, k) for k in keys)
        entry = (attrs, keys, getter)
        if len(_COLUMNS) < _COLUMNS_MAX:
            _COLUMNS[(mapper, exclude)] = entry
    return entry[1], entry[2]


def snapshot(obj: Any, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The column values of an ORM object, normalised for the audit trail."""
    return _snapshot(obj, exclude)[0]


def _snapshot(obj: Any, exclude: Any) -> tuple[dict[str, Any], bool]:
    """The snapshot, and whether it is settled: whether `jsonable` would only copy it again."""
    mapper = inspect(obj).mapper
    columns = _columns(mapper, exclude)
    if columns is None:
        return {
            attr.key: jsonable(getattr(obj, attr.key))
            for attr in mapper.column_attrs
            if attr.key not in exclude and attr.key not in _SECRETS
        }, False
    keys, read = columns
    values = read(obj)
    settled = True
    out = {}
    for k, v in zip(keys, values):
        cls = type(v)
        if cls in _AS_IS:
            out[k] = v
        elif cls is dict or cls is list:  # a JSON column: plain JSON, as a rule
            try:
                out[k] = _copy_plain(v)
            except _NotPlain:
                out[k], settled = jsonable(v), False
        else:
            out[k] = v = jsonable(v)
            if type(v) not in _AS_IS and not (type(v) is float and isfinite(v)):  # an enum's raw value
                settled = False
    return out, settled


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


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


def record(session: Session, actor: Any, action: str, entity: Any = None, *, changes: dict[str, Any],
           entity_type: str | None = None, entity_id: Any = None, note: str | None = None) -> None:
    """Queue one audit event for this transaction.

    `entity` may be an ORM object whose id is not assigned yet: it is read when the chain is appended.
    `changes` maps field -> [before, after].
    """
    _queue(session, actor, action, entity, changes, jsonable, entity_type=entity_type, entity_id=entity_id,
           note=note)


def _as_it_is(changes: Any) -> Any:
    return changes


def _queue(session: Session, actor: Any, action: str, entity: Any, changes: Any, normalise: Callable[[Any], Any],
           *, entity_type: str | None = None, entity_id: Any = None, note: str | None = None) -> None:
    """`record`, told how to normalise `changes`: not at all when they are built from a settled snapshot."""
    if entity is None and (entity_type is None or entity_id is None):
        raise ValueError("record() needs an entity or entity_type and entity_id")
    etype = entity_type or getattr(entity, "__audit_type__", None) or entity.__tablename__
    session.info.setdefault(_PENDING, []).append(
        _Pending(
            actor_id=getattr(actor, "user_id", None),
            actor_label=getattr(actor, "label", None) or "system",
            action=action,
            entity_type=etype,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            changes=normalise(changes),
            request_id=request_id_var.get(),
            occurred_at=clock.now(),
            note=note,
        )
    )


def record_create(session: Session, actor: Any, entity: Any, *, action: str | None = None,
                  exclude: tuple[str, ...] = ()) -> None:
    after, settled = _snapshot(entity, exclude) if _has_state(entity) else ({}, True)
    _queue(session, actor, action or f"{_etype(entity)}.create", entity,
           {k: [None, v] for k, v in after.items() if v is not None}, _as_it_is if settled else jsonable)


def record_update(session: Session, actor: Any, entity: Any, before: dict[str, Any], *,
                  action: str | None = None, exclude: tuple[str, ...] = ("updated_at", "version")) -> bool:
    """Record the fields that changed since `before` (a `snapshot`); returns whether anything did."""
    after = snapshot(entity)
    changes = {k: v for k, v in diff(before, after).items() if k not in exclude}
    if not changes:
        return False
    record(session, actor, action or f"{_etype(entity)}.update", entity, changes=changes)
    return True


def record_delete(session: Session, actor: Any, entity: Any, *, action: str | None = None) -> None:
    before, settled = _snapshot(entity, ())
    _queue(session, actor, action or f"{_etype(entity)}.delete", entity,
           {k: [v, None] for k, v in before.items() if v is not None}, _as_it_is if settled else jsonable)


def _etype(entity: Any) -> str:
    return getattr(entity, "__audit_type__", None) or entity.__tablename__


def _has_state(entity: Any) -> bool:
    try:
        inspect(entity)
        return True
    except Exception:
        return False


def _chain_head(session: Session) -> tuple[int, str, bool]:
    """(seq, hash, recorded): the head row, else (a trail older than it, or emptied) the last event."""
    row = session.execute(select(AuditChainHead.seq, AuditChainHead.hash)
                          .where(AuditChainHead.id == _HEAD_ROW)).first()
    if row is not None:
        return row[0], row[1], True
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (row[0], row[1], False) if row else (0, GENESIS_HASH, False)


def _append_pending(session: Session) -> None:
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()  # assign ids to entities created in this transaction
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    seq, prev, recorded = _chain_head(session)
    rows = []
    for item in pending:
        entity_id = item.entity_id if item.entity_id is not None else str(item.entity.id)
        seq += 1
        fields = {
            "seq": seq,
            "occurred_at": iso(item.occurred_at),
            "actor_id": item.actor_id,
            "actor_label": item.actor_label,
            "action": item.action,
            "entity_type": item.entity_type,
            "entity_id": entity_id,
            "changes": item.changes,
            "request_id": item.request_id,
            "note": item.note,
        }
        digest = compute_hash(fields, prev)
        rows.append(dict(
            seq=seq, occurred_at=item.occurred_at, actor_id=item.actor_id, actor_label=item.actor_label,
            action=item.action, entity_type=item.entity_type, entity_id=entity_id, changes=item.changes,
            request_id=item.request_id, prev_hash=prev, hash=digest, note=item.note,
        ))
        prev = digest
    # One executemany through Core: the events are written, never read back in this transaction.
    session.execute(insert(AuditEvent), rows)
    head = {"seq": seq, "hash": prev, "updated_at": clock.now()}
    if recorded:
        session.execute(update(AuditChainHead).where(AuditChainHead.id == _HEAD_ROW).values(**head))
    else:
        session.execute(insert(AuditChainHead).values(id=_HEAD_ROW, **head))


def event_fields(ev: AuditEvent) -> dict[str, Any]:
    return {
        "seq": ev.seq,
        "occurred_at": iso(ev.occurred_at),
        "actor_id": ev.actor_id,
        "actor_label": ev.actor_label,
        "action": ev.action,
        "entity_type": ev.entity_type,
        "entity_id": ev.entity_id,
        "changes": ev.changes,
        "request_id": ev.request_id,
        "note": ev.note,
    }


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str | None = None


def scan(session: Session, *columns: Any, where: Iterable[ColumnElement[bool]] = (),
         batch: int = 2000) -> Iterator[Row]:
    """(seq, *columns) of the events matching `where`, in chain order, read `batch` at a time by seq.

    Pages rather than a streamed cursor: memory stays bounded, and no server-side cursor needs the read to
    hold a transaction open."""
    last = 0
    while True:
        rows = session.execute(select(AuditEvent.seq, *columns).where(AuditEvent.seq > last, *where)
                               .order_by(AuditEvent.seq).limit(batch)).all()
        yield from rows
        if len(rows) < batch:
            return
        last = rows[-1][0]


def verify(session: Session, *, batch: int = 2000) -> VerifyResult:
    """Walk the chain in order; report the first event whose link or hash does not hold, or a chain that
    ends before (or does not end at) the head the writers recorded."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    for _, ev in scan(session, AuditEvent, batch=batch):
        if ev.seq != expected_seq:
            return VerifyResult(False, checked, ev.seq, ev.id, f"expected seq {expected_seq}, found {ev.seq}")
        if ev.prev_hash != prev_hash:
            return VerifyResult(False, checked, ev.seq, ev.id, "prev_hash does not match the previous event")
        if compute_hash(event_fields(ev), ev.prev_hash) != ev.hash:
            return VerifyResult(False, checked, ev.seq, ev.id, "hash does not match the event's content")
        prev_hash, expected_seq, checked = ev.hash, expected_seq + 1, checked + 1
    head = session.execute(select(AuditChainHead.seq, AuditChainHead.hash)
                           .where(AuditChainHead.id == _HEAD_ROW)).first()
    last = expected_seq - 1
    if head is not None and head.seq > last:
        return VerifyResult(False, checked, head.seq, None,
                            f"the chain head records seq {head.seq}, but the last event is seq {last}: "
                            "events were removed from the end")
    if head is not None and (head.seq, head.hash) != (last, prev_hash):
        return VerifyResult(False, checked, last, None,
                            f"the chain head records seq {head.seq} with another hash than the events hold")
    return VerifyResult(True, checked)


def list_events(session: Session, *, entity_type: str | None = None, entity_id: str | None = None,
                actor_id: int | None = None, action: str | None = None, since: datetime | None = None,
                until: datetime | None = None, limit: int | None = None,
                cursor: str | None = None) -> tuple[list[AuditEvent], str | None]:
    """Newest first; `since` inclusive, `until` exclusive."""
    stmt = select(AuditEvent)
    if entity_type:
        stmt = stmt.where(AuditEvent.entity_type == entity_type)
    if entity_id:
        stmt = stmt.where(AuditEvent.entity_id == entity_id)
    if actor_id is not None:
        stmt = stmt.where(AuditEvent.actor_id == actor_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if since:
        stmt = stmt.where(AuditEvent.occurred_at >= since)
    if until:
        stmt = stmt.where(AuditEvent.occurred_at < until)
    return paginate(session, stmt, keys=[SortKey(AuditEvent.seq, descending=True)], limit=limit, cursor=cursor)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    _append_pending(session)


# A savepoint (`begin_nested`) that rolls back must drop the events recorded inside it and keep the ones
# recorded before it; the outermost rollback drops them all. (`after_rollback` fires for savepoints too, so
# it cannot tell the two apart.)
_SAVEPOINTS = "tierline.audit.savepoints"


@event.listens_for(Session, "after_transaction_create")
def _mark_savepoint(session: Session, transaction: Any) -> None:
    if transaction.nested:
        session.info.setdefault(_SAVEPOINTS, {})[id(transaction)] = len(session.info.get(_PENDING, ()))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: Any) -> None:
    marks = session.info.get(_SAVEPOINTS, {})
    if previous_transaction.nested and id(previous_transaction) in marks:
        del session.info.get(_PENDING, [])[marks.pop(id(previous_transaction)):]
        return
    if previous_transaction.parent is not None:
        return  # an inner (flush) transaction: its savepoint or the outermost rollback decides
    session.info.pop(_PENDING, None)
    session.info.pop(_SAVEPOINTS, None)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    session.info.pop(_SAVEPOINTS, None)
