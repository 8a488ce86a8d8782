"""The one source of "now". Tests freeze it; nothing else in Tierline reads the wall clock."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

_frozen: datetime | None = None


def now() -> datetime:
    """Timezone-aware UTC now (or the frozen instant in tests)."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """Normalise a datetime read back from a database: SQLite returns naive values, meant as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def freeze(at: datetime) -> None:
    if at.tzinfo is None:
        raise ValueError("frozen time must be timezone-aware")
    global _frozen
    _frozen = at.astimezone(UTC)


def advance(delta: timedelta) -> datetime:
    if _frozen is None:
        raise RuntimeError("advance() needs a frozen clock")
    freeze(_frozen + delta)
    return _frozen


def unfreeze() -> None:
    global _frozen
    _frozen = None


@contextlib.contextmanager
def frozen(at: datetime) -> Iterator[None]:
    previous = _frozen
    freeze(at)
    try:
        yield
    finally:
        global_set(previous)


def global_set(value: datetime | None) -> None:
    global _frozen
    _frozen = value
