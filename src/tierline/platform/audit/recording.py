"""Recording through the ORM session: what services call for every entity they create, change or delete.

`record*` prepare the event at once (normalised, canonicalised and body-hashed, see prepared.py) and queue it
in the session; the session's `before_commit` hook flushes, fills the ids that the flush assigned, and hands
the queue to `chain.append`, inside the same transaction as the change. The one thing an event may wait for
is its entity's id, when the entity is created in this transaction and its id comes from the database: the
event then holds a hole for it, filled at commit without canonicalising the body again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from math import isfinite
from operator import attrgetter
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from tierline.platform.audit.canonical import AS_IS, Hole, NotPlain, copy_plain, jsonable
from tierline.platform.audit.chain import append
from tierline.platform.audit.prepared import PreparedEvent, build
from tierline.platform.db import READ_ONLY, ReadOnlySession

_PENDING = "tierline.audit.pending"  # session.info: [(PreparedEvent, the entity whose id fills it, or None)]
_ENTITY_ID = Hole("entity_id")  # the hole for an id that the flush assigns


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
        if cls in AS_IS:
            out[k] = v
        elif cls is dict or cls is list:  # a JSON column: plain JSON, as a rule
            try:
                out[k] = copy_plain(v)
            except NotPlain:
                out[k], settled = jsonable(v), False
        else:
            out[k] = v = jsonable(v)
            if type(v) not in AS_IS and not (type(v) is float and isfinite(v)):  # an enum's raw value
                settled = False
    return out, settled


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


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
    changes = normalise(changes)
    waits_for = None
    if entity_id is not None:
        entity_id = str(entity_id)  # a Hole refuses: the session path has no fill but the entity's id
    else:
        entity_id = getattr(entity, "id", None)
        if entity_id is None:  # assigned by the flush: read at commit
            entity_id, waits_for = _ENTITY_ID, entity
    prepared = build(actor, action, entity_type=etype, entity_id=entity_id, changes=changes, note=note)
    session.info.setdefault(_PENDING, []).append((prepared, waits_for))


def queue(session: Session, events: Iterable[PreparedEvent]) -> None:
    """Queue events prepared below the ORM (`prepare`, holes filled) to be appended with the session's own at
    its commit: one append, one take of the chain's head, for the whole transaction."""
    session.info.setdefault(_PENDING, []).extend((event, None) for event in events)


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
    except Exception:  # noqa: BLE001 - whatever is not an ORM entity is recorded without a snapshot
        return False


def _append_pending(session: Session) -> None:
    queued: list[tuple[PreparedEvent, Any]] = session.info.pop(_PENDING, [])
    if not queued:
        return
    if session.info.get(READ_ONLY):
        raise ReadOnlySession("a read session must not write; open it with write=True")
    session.flush()  # assign ids to entities created in this transaction
    for prepared, entity in queued:
        if entity is not None:
            prepared.fill({_ENTITY_ID.name: entity.id})
    connection = session.connection()
    # The COMMIT rides with the append when the transaction is the session's own; a session joined to an
    # outer transaction (a savepoint inside it, as in the tests) leaves the commit to its owner.
    append(connection, [prepared for prepared, _ in queued], commit=not connection.in_nested_transaction())


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
