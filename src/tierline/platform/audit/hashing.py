"""What an event's `hash` is: one definition per `hash_version`, all of them verifiable forever.

Version 1 (every event written before migration 0016): SHA-256 of the canonical JSON of the event's fields
with its `prev_hash` among them. The whole body enters the hash together with the link to the previous
event, so an event can only be hashed once that link is known, inside the chain's lock.

Version 2 (every event written since): two steps.
- `body_hash` = SHA-256 of the canonical JSON of the event's fields other than `seq` and `prev_hash`:
  occurred_at, actor_id, actor_label, action, entity_type, entity_id, changes, request_id, note. It depends on
  nothing the chain decides, so it is computed before the lock, when the event is prepared.
- `hash` = SHA-256 of the ASCII text `tierline-audit/2 <seq> <prev_hash> <body_hash>`: the version, the seq
  in decimal, the previous hash and the body hash, single spaces between them. Inside the lock only this
  short text is hashed. It is unambiguous: a seq is digits only and both hashes are 64 hexadecimal digits,
  so no other (version, seq, prev_hash, body_hash) spells the same text.
The body hash is not stored: `verify` recomputes it from the stored fields, as it recomputes version 1.
"""

from __future__ import annotations

import hashlib
from typing import Any

from tierline.platform.audit.canonical import canonical

CURRENT_HASH_VERSION = 2
BODY_FIELDS = ("occurred_at", "actor_id", "actor_label", "action", "entity_type", "entity_id", "changes",
               "request_id", "note")


def compute_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """Version 1: the event's fields (seq included) with `prev_hash`, hashed together."""
    body = dict(fields, prev_hash=prev_hash)
    return hashlib.sha256(canonical(body).encode("utf-8")).hexdigest()


def body_hash_of_text(canonical_body: str) -> str:
    return hashlib.sha256(canonical_body.encode("utf-8")).hexdigest()


def compute_body_hash(fields: dict[str, Any]) -> str:
    """Version 2's first step, from an event's fields (`seq` and `prev_hash`, if there, are left out)."""
    return body_hash_of_text(canonical({k: fields[k] for k in BODY_FIELDS}))


def link_hash(seq: int, prev_hash: str, body_hash: str) -> str:
    """Version 2's second step: the only hashing done inside the chain's lock."""
    return hashlib.sha256(f"tierline-audit/2 {seq:d} {prev_hash} {body_hash}".encode()).hexdigest()


def event_hash(version: int, fields: dict[str, Any], prev_hash: str) -> str | None:
    """The hash an event with these fields and this link must carry under `version`; None for a version this
    code does not know."""
    if version == 2:
        return link_hash(fields["seq"], prev_hash, compute_body_hash(fields))
    if version == 1:
        return compute_hash(fields, prev_hash)
    return None
