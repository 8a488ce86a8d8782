"""The one form in which audit values are stored and hashed: `jsonable` normalises (UTC ISO 8601 times, enums
by value, containers copied), `canonical` spells the normalised value as the text that is hashed (sorted keys,
compact separators, integral floats as the integers they spell).

Chains already written were hashed through these functions, and `tierline audit verify` recomputes those
hashes with them: a change here that alters any output breaks every existing chain.
tests/platform/test_audit_equivalence.py holds them to a frozen copy of the original code.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from math import isfinite
from typing import Any

from tierline.platform import clock

# What the audit trail costs is mostly walking values (a ticket's triage record is some thirty dicts), once to
# normalise them, once to hash them. So each walk tests the exact built-in types first, inline for the members
# of dicts and lists, before any isinstance chain; everything else (subclasses such as IntEnum and StrEnum,
# dates, decimals, enums, sets) follows the full rules in the `_other` functions, as it always did. And a
# snapshot, already a normalised copy, is not normalised a second time when it is recorded.

AS_IS = frozenset({str, int, bool, type(None)})  # returned as they are by jsonable and plain_numbers
# Below 2**53 every integral float is an int exactly and `int()` gives the digits `repr()` spells; above it
# the two part ways (int(1e300) is not 10**300), so only there does the hash go through Decimal.
_EXACT_INT_FLOAT = 2.0**53

HOLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class Hole:
    """A value of an audit event known only later: an id the write assigns, an assignee it claims.

    `prepare` canonicalises an event with its holes in it; `PreparedEvent.fill` puts the values in. A hole may
    stand for the entity's id or for any value inside `changes`, not for a dict key nor inside a set (whose
    order depends on the values). The name is an identifier, so that it can be spelled in canonical text."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        if type(name) is not str or not HOLE_NAME.fullmatch(name):
            raise ValueError(f"a hole's name is an identifier (letters, digits, underscore), not {name!r}")
        self.name = name

    def __repr__(self) -> str:
        return f"Hole({self.name!r})"

    def __str__(self) -> str:
        # A hole turned into text would be recorded as that text: refuse instead (a dict key, str(entity_id)).
        raise TypeError(f"{self!r} stands for a value not known yet and has no text; fill it first")


def jsonable(value: Any) -> Any:
    """Normalise a value the way it will be stored and hashed (UTC ISO 8601 times).

    Containers are always copied, so nothing recorded changes if the caller edits its data before the commit.
    A `Hole` is kept as it is, for `prepare` to find.
    """
    cls = type(value)
    if cls in AS_IS:
        return value
    if cls is dict:
        return {k if type(k) is str else str(k): v if type(v) in AS_IS else jsonable(v)
                for k, v in value.items()}
    if cls is list:
        return [v if type(v) in AS_IS else jsonable(v) for v in value]
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
        if isinstance(value, (set, frozenset)):
            if any(type(v) is Hole for v in items):
                raise TypeError("a Hole cannot stand in a set: the set's order depends on the value")
            return sorted(items, key=repr)
        return items
    if type(value) is Hole:
        return value
    return str(value)


class NotPlain(Exception):
    """Raised by `copy_plain` at a value that is not plain JSON."""


def _not_plain() -> Any:
    raise NotPlain


def copy_plain(value: Any) -> Any:
    """`jsonable(value)` for plain JSON: dicts with str keys, lists, str, int, bool, None, finite floats, all of
    the exact types; raises `NotPlain` at anything else. What it returns is settled (jsonable would only copy
    it again), which is what a JSON column holds and lets a create record its snapshot as it is."""
    cls = type(value)
    if cls is dict:
        return {k if type(k) is str else _not_plain():
                v if type(v) in AS_IS or (type(v) is float and isfinite(v)) else copy_plain(v)
                for k, v in value.items()}
    if cls is list:
        return [v if type(v) in AS_IS or (type(v) is float and isfinite(v)) else copy_plain(v) for v in value]
    if cls in AS_IS or (cls is float and isfinite(value)):
        return value
    raise NotPlain


def iso(value: datetime) -> str:
    utc = clock.as_utc(value)
    if type(utc) is datetime and utc.year >= 1000:
        # isoformat is several times cheaper than strftime and spells the same text, `+00:00` aside, from
        # the year 1000 on; strftime does not pad earlier years to four digits, so they keep it.
        return utc.isoformat(timespec="microseconds")[:-6] + "Z"
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


CANONICAL_OPTIONS: dict[str, Any] = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
# json.dumps builds an encoder on every call when given options; one shared encoder writes the same text (it
# keeps no state between calls, so threads may share it). It skips the bookkeeping that spots a cycle, which
# JSON read back or built by jsonable never has: were one to come, the encoder would recurse until Python
# stops it, and `canonical` then dumps again with the check, to fail as it always did.
_encode_canonical = json.JSONEncoder(check_circular=False, **CANONICAL_OPTIONS).encode


def canonical(data: dict[str, Any]) -> str:
    plain = plain_numbers(data)
    try:
        return _encode_canonical(plain)
    except RecursionError:
        return json.dumps(plain, **CANONICAL_OPTIONS)


def _integral(v: float) -> int:
    return int(v) if -_EXACT_INT_FLOAT < v < _EXACT_INT_FLOAT else int(Decimal(repr(v)))


def plain_numbers(value: Any) -> Any:
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
            if vcls in AS_IS:
                continue
            if vcls is float:
                if not v.is_integer():  # nor is NaN or infinity
                    continue
                p = _integral(v)
            elif (p := plain_numbers(v)) is v:
                continue
            if plain is None:
                plain = cls(value)
            plain[k] = p
        return value if plain is None else plain
    if cls is float:
        return _integral(value) if value.is_integer() else value
    if cls in AS_IS:
        return value
    return _plain_numbers_other(value)


def _plain_numbers_other(value: Any) -> Any:
    """The full rule, for subclasses of float, dict and list; tuples and the rest pass as they are."""
    if isinstance(value, float) and isfinite(value) and value.is_integer():
        return int(Decimal(repr(value)))
    if isinstance(value, dict):
        return {k: plain_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_numbers(v) for v in value]
    return value

