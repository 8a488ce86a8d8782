"""Audit events prepared before the write: normalised, canonicalised and body-hashed outside any lock.

    hole = audit.Hole("ticket_id")
    ev = audit.prepare(actor, "tickets.create", entity_type="tickets", entity_id=hole,
                       changes={"id": [None, hole], ...})     # the expensive part, before the write
    ev.fill({"ticket_id": 42})                               # microseconds, once the write knows the id
    audit.append(connection, [ev])                           # inside the write: link and insert

`prepare` walks the changes once (the `jsonable` normalisation) and encodes the event's version-2 body once
(the `canonical` text, see hashing.py). A value not known yet is a `Hole`; the canonical text then holds a
placeholder for it, and `fill` only encodes the holes' values and splices them in, so filling costs the
values' own encoding plus one SHA-256 of the text, never a second walk of the body.

Why splicing gives the text a full encoding would give: JSON is compositional (with sorted keys and fixed
separators the encoding of a container is its members' encodings joined), and `plain_numbers` works member
by member, so the encoding of a value is the same wherever it stands.

Why the placeholders are found exactly: a hole is encoded as the JSON string NUL, `=` (a value in the
changes) or `$` (the entity id, recorded as text), its name (an identifier), NUL; in the canonical text that
is `"\\u0000=name\\u0000"`, since JSON spells NUL only as the escape `\\u0000`. So a hole-free text
without the substring `\\u0000` can be hashed at once. Otherwise the text is split at the placeholders, and
the split is trusted only when the text holds exactly two `\\u0000` per placeholder and one placeholder per
hole: then no `\\u0000` comes from the data, and no placeholder can either. (Data never holds NUL in
practice: input is refused with it, and PostgreSQL cannot store it. Should some, or a literal backslash-u0000
text, come anyway, that event is canonicalised again in full when filled: slower, never wrong.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from tierline.platform import clock
from tierline.platform.audit.canonical import CANONICAL_OPTIONS, Hole, canonical, iso, jsonable, plain_numbers
from tierline.platform.audit.hashing import CURRENT_HASH_VERSION, body_hash_of_text
from tierline.platform.observability import request_id_var

_NUL = "\\u0000"  # NUL as the canonical text spells it
_PLACEHOLDER = re.compile(r'"\\u0000([=$])([A-Za-z_][A-Za-z0-9_]*)\\u0000"')


class _AsText:
    """The entity id's hole: the value is recorded as its text, `str(value)`, as entity ids always were."""

    __slots__ = ("hole",)

    def __init__(self, hole: Hole) -> None:
        self.hole = hole


def _placeholder(obj: Any) -> str:
    cls = type(obj)
    if cls is Hole:
        return "\x00=" + obj.name + "\x00"
    if cls is _AsText:
        return "\x00$" + obj.hole.name + "\x00"
    raise TypeError(f"Object of type {cls.__name__} is not JSON serializable")


# `canonical`'s encoder, which also spells holes (json calls `default` only for what it cannot encode itself,
# so a hole-free body costs nothing more and encodes to the very text `canonical` gives).
_encode_with_holes = json.JSONEncoder(check_circular=False, default=_placeholder, **CANONICAL_OPTIONS).encode


def _canonical_with_holes(body: dict[str, Any]) -> str:
    plain = plain_numbers(body)
    try:
        return _encode_with_holes(plain)
    except RecursionError:
        return json.dumps(plain, default=_placeholder, **CANONICAL_OPTIONS)


def _find_holes(value: Any, found: list[tuple[Any, Any, str]]) -> None:
    """(container, key, name) of every hole in `jsonable` output, whose containers are all dicts and lists."""
    for k, v in value.items() if type(value) is dict else enumerate(value):
        cls = type(v)
        if cls is Hole:
            found.append((value, k, v.name))
        elif cls is dict or cls is list:
            _find_holes(v, found)


class PreparedEvent:
    """One audit event, ready for the chain but for its place in it (seq and prev_hash, given by `append`).

    The attributes are the values that will be stored. While a hole is open, `body_hash` is None (and so is
    `entity_id` if it is the hole); `fill` closes them, and may be called again with other values (a retried
    write) since it writes the same positions."""

    __slots__ = ("_holder", "_id_hole", "_pieces", "_slots", "action", "actor_id", "actor_label", "body_hash",
                 "changes", "changes_json", "entity_id", "entity_type", "holes", "note", "occurred_at", "request_id",
                 "row_json")

    def __init__(self, *, occurred_at: datetime, actor_id: int | None, actor_label: str, action: str,
                 entity_type: str, entity_id: Any, changes: Any, request_id: str | None, note: str | None) -> None:
        """`changes` must be normalised already (`jsonable` output, holes kept); it is owned from now on."""
        if occurred_at.tzinfo is None:
            raise ValueError("an audit event's time must be timezone-aware")
        self.occurred_at = occurred_at
        self.actor_id = actor_id
        self.actor_label = actor_label
        self.action = action
        self.entity_type = entity_type
        self.changes = changes
        self.request_id = request_id
        self.note = note
        if type(note) is Hole:
            raise TypeError("a note cannot be a Hole")
        id_hole = entity_id.name if type(entity_id) is Hole else None
        self.entity_id = None if id_hole is not None else str(entity_id)
        self._id_hole = id_hole
        self._holder = {"changes": changes}  # so that `changes` itself may be a hole
        self._slots: list[tuple[Any, Any, str]] = []
        self._pieces: list[str] | None = None
        self.body_hash: str | None = None
        # Written with the body hash, for `append`: the JSON text `changes` is stored as, and the stored row as
        # JSON object members (every column but seq, prev_hash and hash).
        self.changes_json: str | None = None
        self.row_json: str | None = None
        self.holes: frozenset[str] = frozenset()

        body = self._body(_AsText(entity_id) if id_hole is not None else self.entity_id)
        text = _canonical_with_holes(body)
        if _NUL in text:
            _find_holes(self._holder, self._slots)
        if not self._slots and id_hole is None:
            self._seal(text)
            return
        self.holes = frozenset([name for _, _, name in self._slots] + ([id_hole] if id_hole else []))
        parts = _PLACEHOLDER.split(text)
        found = (len(parts) - 1) // 3
        if found == len(self._slots) + (id_hole is not None) and text.count(_NUL) == 2 * found:
            self._pieces = parts  # text, kind, name, text, kind, name, ..., text

    def _body(self, entity_id: Any) -> dict[str, Any]:
        return {
            "occurred_at": iso(self.occurred_at),
            "actor_id": self.actor_id,
            "actor_label": self.actor_label,
            "action": self.action,
            "entity_type": self.entity_type,
            "entity_id": entity_id,
            "changes": self._holder["changes"],
            "request_id": self.request_id,
            "note": self.note,
        }

    def fill(self, values: Mapping[str, Any]) -> PreparedEvent:
        """Put the holes' values in (normalised as `jsonable` would, the entity id as its text) and hash the
        body. Values for names this event has no hole for are ignored, so one mapping can fill many events."""
        if not self.holes:
            return self
        missing = [name for name in self.holes if name not in values]
        if missing:
            raise ValueError(f"no value for the audit event's hole(s): {', '.join(sorted(missing))}")
        normalised = {name: jsonable(values[name]) for name in {name for _, _, name in self._slots}}
        entity_id = str(values[self._id_hole]) if self._id_hole is not None else self.entity_id
        # Each value encoded alone; `canonical` refuses a value that still holds a hole.
        encoded = {name: canonical(value) for name, value in normalised.items()}
        for container, key, name in self._slots:
            container[key] = normalised[name]
        self.changes = self._holder["changes"]
        self.entity_id = entity_id
        parts = self._pieces
        if parts is None:
            text = canonical(self._body(entity_id))
        else:
            out = [parts[0]]
            for i in range(1, len(parts), 3):
                out.append(encoded[parts[i + 1]] if parts[i] == "=" else canonical(entity_id))
                out.append(parts[i + 2])
            text = "".join(out)
        self._seal(text)
        return self

    def _seal(self, canonical_body: str) -> None:
        """The body is complete: hash it, and write the texts `append` sends, so that it serialises nothing.
        `changes` as the JSON column type would write it (json.dumps); the row for PostgreSQL's
        json_to_recordset (times in ISO 8601, which it reads back exactly)."""
        changes_json = json.dumps(self.changes)
        scalars = json.dumps({"occurred_at": clock.as_utc(self.occurred_at).isoformat(), "actor_id": self.actor_id,
                              "actor_label": self.actor_label, "action": self.action,
                              "entity_type": self.entity_type, "entity_id": self.entity_id,
                              "request_id": self.request_id, "note": self.note,
                              "hash_version": CURRENT_HASH_VERSION})
        self.changes_json = changes_json
        self.row_json = f'{scalars[1:-1]},"changes":{changes_json}'
        self.body_hash = body_hash_of_text(canonical_body)

    def fields(self) -> dict[str, Any]:
        """The version-2 body as stored (the event's fields but seq and prev_hash)."""
        return self._body(self.entity_id)

    def __repr__(self) -> str:
        return (f"PreparedEvent({self.action!r}, {self.entity_type}/{self.entity_id}, "
                f"holes={sorted(self.holes)}, body_hash={self.body_hash})")

    hash_version = CURRENT_HASH_VERSION


def prepare(actor: Any, action: str, *, entity_type: str, entity_id: Any, changes: Any,
            note: str | None = None) -> PreparedEvent:
    """An audit event for `append`, normalised and canonicalised now, hashed now unless it has holes.

    `actor` is what services are given (its `user_id` and `label`); `changes` maps field -> [before, after]
    and may hold `Hole`s, as may `entity_id`. The time is now and the request id the current request's, as
    for `record`."""
    return build(actor, action, entity_type=entity_type, entity_id=entity_id, changes=jsonable(changes),
                 note=note)


def build(actor: Any, action: str, *, entity_type: str, entity_id: Any, changes: Any,
          note: str | None) -> PreparedEvent:
    """`prepare` for changes already normalised (a settled snapshot is not walked again)."""
    return PreparedEvent(
        occurred_at=clock.now(),
        actor_id=getattr(actor, "user_id", None),
        actor_label=getattr(actor, "label", None) or "system",
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        changes=changes,
        request_id=request_id_var.get(),
        note=note,
    )
