"""Login throttling: failed password logins counted per (normalised email, client address), in the database.

A failure is written by the caller in a transaction of its own and committed at once (the request's own
transaction rolls back with its 401), so every process behind the load balancer sees the same count. After
`MAX_FAILURES` failures within `WINDOW`, the pair is locked out for `WINDOW`: every attempt, the right password
included, is a 429 with Retry-After until then. A success forgets the pair's failures. A lockout is audited.
Tokens need no brake: they carry 256 random bits and are stored hashed, so they cannot be guessed.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache

from sqlalchemy import case, delete, literal, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from tierline.platform import audit, clock
from tierline.platform.auth.actor import Actor
from tierline.platform.auth.models import LoginFailure
from tierline.platform.db import UTCDateTime
from tierline.platform.errors import TooManyRequests

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
ADDRESS_MAX = 64
THROTTLE_ACTOR = Actor.system("login throttle")

_NETWORK = ipaddress.IPv4Network | ipaddress.IPv6Network


# -- who is asking -----------------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _networks(trusted: tuple[str, ...]) -> tuple[_NETWORK, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _trusted(address: str, networks: tuple[_NETWORK, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[str]) -> str:
    """The client's address: the socket's peer, unless the peer is a trusted proxy; then the nearest hop of
    X-Forwarded-For (read from the right) that is not a trusted proxy itself. A client may write anything into
    the header, but only the hops our own proxies appended are believed."""
    peer = (peer or "unknown")[:ADDRESS_MAX]
    networks = _networks(tuple(trusted))
    if not networks or not _trusted(peer, networks):
        return peer
    hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            return hop[:ADDRESS_MAX]
    return (hops[0] if hops else peer)[:ADDRESS_MAX]


# -- the count ---------------------------------------------------------------------------------------------

def _retry_after(until: datetime, now: datetime) -> int:
    return max(1, math.ceil((until - now).total_seconds()))


def check(session: Session, *, email: str, address: str) -> None:
    """429 with Retry-After while the pair is locked out."""
    until = session.scalar(select(LoginFailure.locked_until).where(LoginFailure.email == email,
                                                                   LoginFailure.address == address))
    now = clock.now()
    if until is not None and until > now:
        raise TooManyRequests(f"too many failed logins for this email from your address; try again after "
                              f"{until.isoformat()}", retry_after=_retry_after(until, now))


def record_failure(session: Session, *, email: str, address: str) -> datetime | None:
    """Count one failure (one statement: an upsert, so concurrent failures in any process all count); the one
    that reaches MAX_FAILURES within WINDOW locks the pair out and is audited. Returns the lockout's end."""
    now = clock.now()
    table = LoginFailure.__table__
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    in_window = table.c.window_started_at > now - WINDOW
    stmt = insert(table).values(email=email, address=address, failures=1, window_started_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.email, table.c.address],
        set_={"failures": case((in_window, table.c.failures + 1), else_=1),
              "window_started_at": case((in_window, table.c.window_started_at),
                                        else_=literal(now, UTCDateTime()))},
    ).returning(table.c.id, table.c.failures, table.c.locked_until)
    row_id, failures, locked_until = session.execute(stmt).one()
    if failures < MAX_FAILURES or (locked_until is not None and locked_until > now):
        return None
    until = now + WINDOW
    session.execute(table.update().where(table.c.id == row_id).values(locked_until=until))
    audit.record(session, THROTTLE_ACTOR, "login_failures.lockout", entity_type="login_failures",
                 entity_id=row_id, changes={"email": [None, email], "address": [None, address],
                                            "failures": [None, failures], "locked_until": [None, until]})
    return until


def forget(session: Session, *, email: str, address: str) -> None:
    """A successful login: the pair's failures start again from nothing."""
    session.execute(delete(LoginFailure).where(LoginFailure.email == email, LoginFailure.address == address)
                    .execution_options(synchronize_session=False))
