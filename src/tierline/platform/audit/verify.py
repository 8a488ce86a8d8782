"""`tierline audit verify`: walk the chain, check every link and hash by its version, and the head."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierline.platform.audit.canonical import iso
from tierline.platform.audit.hashing import event_hash
from tierline.platform.audit.models import GENESIS_HASH, HEAD_ROW, AuditChainHead, AuditEvent
from tierline.platform.audit.reads import scan


def event_fields(ev: AuditEvent) -> dict[str, Any]:
    """A stored event's hashed fields (all but `prev_hash`, `hash` and `hash_version`)."""
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
    """Walk the chain in order; report the first event whose link or hash does not hold, or a chain that
    ends before (or does not end at) the head the writers recorded. Each event is checked by the definition
    its `hash_version` names, so a trail written by version 1 and continued by version 2 verifies."""
    prev_hash, expected_seq, checked = GENESIS_HASH, 1, 0
    for _, ev in scan(session, AuditEvent, batch=batch):
        if ev.seq != expected_seq:
            return VerifyResult(False, checked, ev.seq, ev.id, f"expected seq {expected_seq}, found {ev.seq}")
        if ev.prev_hash != prev_hash:
            return VerifyResult(False, checked, ev.seq, ev.id, "prev_hash does not match the previous event")
        expected = event_hash(ev.hash_version, event_fields(ev), ev.prev_hash)
        if expected is None:
            return VerifyResult(False, checked, ev.seq, ev.id, f"unknown hash version {ev.hash_version}")
        if expected != ev.hash:
            return VerifyResult(False, checked, ev.seq, ev.id, "hash does not match the event's content")
        prev_hash, expected_seq, checked = ev.hash, expected_seq + 1, checked + 1
    head = session.execute(select(AuditChainHead.seq, AuditChainHead.hash)
                           .where(AuditChainHead.id == HEAD_ROW)).first()
    last = expected_seq - 1
    if head is not None and head.seq > last:
        return VerifyResult(False, checked, head.seq, None,
                            f"the chain head records seq {head.seq}, but the last event is seq {last}: "
                            "events were removed from the end")
    if head is not None and (head.seq, head.hash) != (last, prev_hash):
        return VerifyResult(False, checked, last, None,
                            f"the chain head records seq {head.seq} with another hash than the events hold")
    return VerifyResult(True, checked)
