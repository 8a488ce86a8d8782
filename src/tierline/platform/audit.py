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
import math
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from sqlalchemy import BigInteger, Index, String, Text, event, insert, inspect, select, text
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


def jsonable(value: Any) -> Any:
    """Normalise a value the way it will be stored and hashed (UTC ISO 8601 times)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        # JSON has no NaN or infinity (PostgreSQL refuses them), so they are recorded as text.
        return value if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [jsonable(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    return str(value)


def iso(value: datetime) -> str:
    return clock.as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(data: dict[str, Any]) -> str:
    return json.dumps(_plain_numbers(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _plain_numbers(value: Any) -> Any:
    """Integral floats as the integers they spell: PostgreSQL's JSONB gives `1e+16` back as 10000000000000000
    and `2.0` back as 2.0, so only the number's decimal value, not its Python type, may enter the hash."""
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(Decimal(repr(value)))
    if isinstance(value, dict):
        return {k: _plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_numbers(v) for v in value]
    return value


def compute_hash(fields: dict[str, Any], prev_hash: str) -> str:
    body = dict(fields, prev_hash=prev_hash)
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def snapshot(obj: Any, *, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
    """The column values of an ORM object, normalised for the audit trail."""
    mapper = inspect(obj).mapper
    return {
        attr.key: jsonable(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in exclude and attr.key not in ("password_hash", "token_hash", "session_hash")
    }


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
            changes=jsonable(changes),
            request_id=request_id_var.get(),
            occurred_at=clock.now(),
            note=note,
        )
    )


def record_create(session: Session, actor: Any, entity: Any, *, action: str | None = None,
                  exclude: tuple[str, ...] = ()) -> None:
    after = snapshot(entity, exclude=exclude) if _has_state(entity) else {}
    record(session, actor, action or f"{_etype(entity)}.create", entity,
           changes={k: [None, v] for k, v in after.items() if v is not None})


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
    before = snapshot(entity)
    record(session, actor, action or f"{_etype(entity)}.delete", entity,
           changes={k: [v, None] for k, v in before.items() if v is not None})


def _etype(entity: Any) -> str:
    return getattr(entity, "__audit_type__", None) or entity.__tablename__


def _has_state(entity: Any) -> bool:
    try:
        inspect(entity)
        return True
    except Exception:
        return False


def _chain_head(session: Session) -> tuple[int, str]:
    row = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else (0, GENESIS_HASH)


def _append_pending(session: Session) -> None:
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    if not pending:
        return
    session.flush()  # assign ids to entities created in this transaction
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _ADVISORY_LOCK_KEY})
    seq, prev = _chain_head(session)
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


def verify(session: Session, *, batch: int = 2000) -> VerifyResult:
    """Walk the chain in order; report the first event whose link or hash does not hold."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    stmt = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    for ev in session.scalars(stmt):
        if ev.seq != expected_seq:
            return VerifyResult(False, checked, ev.seq, ev.id, f"expected seq {expected_seq}, found {ev.seq}")
        if ev.prev_hash != prev_hash:
            return VerifyResult(False, checked, ev.seq, ev.id, "prev_hash does not match the previous event")
        if compute_hash(event_fields(ev), ev.prev_hash) != ev.hash:
            return VerifyResult(False, checked, ev.seq, ev.id, "hash does not match the event's content")
        prev_hash, expected_seq, checked = ev.hash, expected_seq + 1, checked + 1
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
