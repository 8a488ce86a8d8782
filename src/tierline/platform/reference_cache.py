"""Per-process copies of reference data (customers, people, the component tree, queues, triage rules and models),
each kept under a token the database itself changes whenever the data changes.

Why: intake reads the same slowly changing rows for every ticket (who the requester's customer is, the
customer's ARR percentile, the queue's tier, who works it, the rule set, the active model). Reading them per
ticket cost a dozen round trips; read once per process they cost none, provided a change is never missed.

How a change is seen: migration 0013 installs triggers on every tracked table that write a fresh random token
for the table's group into `reference_revisions` on each INSERT, UPDATE or DELETE (and TRUNCATE on PostgreSQL),
in the writer's own transaction. So whatever writes the rows (a service, the demo loader, another process,
psql) the new token commits with the change, and the next transaction anywhere sees it. A transaction reads
all tokens in one small query, once; `cached` then hands out the copy built under the same token, or builds
it again.

Why a random token rather than a counter: a copy built inside a transaction that wrote the data is stored under
that transaction's token. Should it roll back, its token never comes back, so the copy can never be mistaken
for committed data; a counter would return to the same value and serve it.

Reads of the tokens happen before the copy's rows are read; on PostgreSQL (read committed) the rows may
therefore be newer than the token, never older: at worst a copy is rebuilt once more than needed.

Within a transaction, the memo of the tokens is dropped whenever the session flushes changes to a tracked table
or executes DML on one, so a service that changes a tracked row and reads the cache afterwards sees its own
change. Rows changed but
not yet flushed are not seen: flush first (services do, to surface conflicts).

Groups and the tables behind them (`GROUPS`; the triggers of migration 0013 install the same, a test checks
that they agree): customers (customers, contacts, customer_email_domains), people (users' roles and active
flag, agent_profiles, teams, team_memberships), components, queues, triage_rules, triage_models, and sla
(sla_policies, sla_calendars; migration 0020). A new contact
renews nothing (`INSERTS_KEEP_TOKEN`, migration 0018); a changed or removed one does.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import String, event, text
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from tierline.platform.db import Base

T = TypeVar("T")

GROUPS: dict[str, tuple[str, ...]] = {
    "customers": ("customers", "contacts", "customer_email_domains"),
    "people": ("users", "agent_profiles", "teams", "team_memberships"),
    "components": ("components",),
    "queues": ("queues",),
    "triage_rules": ("triage_rules",),
    "triage_models": ("triage_models",),
    "sla": ("sla_policies", "sla_calendars"),  # migration 0020
}
# Only these columns of `users` matter to any copy; logins and renames do not invalidate the people group.
USER_COLUMNS = ("roles", "active")
# Tables whose INSERTs renew nothing (migration 0018): intake makes contacts all the time, and the copies built
# from them remember only rows they have read, so a new row cannot make a copy wrong.
INSERTS_KEEP_TOKEN = ("contacts",)


class ReferenceRevision(Base):
    """The current token of each group of reference tables (written only by the triggers)."""

    __tablename__ = "reference_revisions"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), nullable=False)


_TOKENS_SQL = text("SELECT name, token FROM reference_revisions")
_MEMO = "tierline.reference_cache.memo"  # session.info: the _Memo of the current transaction
_NO_TOKEN = "-"  # a group no row was ever written for: its tables have not changed since the migration
_lock = threading.Lock()
_copies: dict[tuple[Any, str], tuple[tuple[str, ...], Any]] = {}  # (database URL, key) -> (tokens, copy)


class _Memo:
    """What one transaction already knows: the tokens, and the copies it already checked against them."""

    __slots__ = ("copies", "tokens", "transaction", "url")

    def __init__(self, transaction: Any, tokens: dict[str, str], url: Any) -> None:
        self.transaction, self.tokens, self.url = transaction, tokens, url
        self.copies: dict[str, Any] = {}


def _memo(session: Session) -> _Memo:
    transaction = session.get_transaction()
    memo = session.info.get(_MEMO)
    if memo is not None and transaction is not None and memo.transaction is transaction:
        return memo
    connection = session.connection()  # Core: nothing to flush or to map for two columns
    found = {name: token for name, token in connection.execute(_TOKENS_SQL)}
    memo = session.info[_MEMO] = _Memo(session.get_transaction(), found, connection.engine.url)
    return memo


def cached(session: Session, groups: str | tuple[str, ...], key: str, build: Callable[[Session], T]) -> T:
    """The copy named `key`, built by `build(session)` from the tables of `groups`: the one this process holds
    when none of those groups changed since it was built, else a new one.

    `build` may also return a mutable container the caller fills on demand (e.g. a dict of rows looked up one
    by one): a change to the groups then starts an empty one.
    """
    memo = _memo(session)
    copy = memo.copies.get(key, _MISSING)
    if copy is not _MISSING:
        return copy
    names = (groups,) if isinstance(groups, str) else groups
    stamp = tuple(memo.tokens.get(name, _NO_TOKEN) for name in names)
    slot = (memo.url, key)
    found = _copies.get(slot)
    if found is not None and found[0] == stamp:
        copy = found[1]
    else:
        copy = build(session)
        with _lock:
            _copies[slot] = (stamp, copy)
    memo.copies[key] = copy
    return copy


_MISSING: Any = object()


def forget_all() -> None:
    """Drop every copy this process holds (tests that swap databases or time)."""
    with _lock:
        _copies.clear()


def _forget_memo(session: Session) -> None:
    session.info.pop(_MEMO, None)


_TRACKED = frozenset(table for tables in GROUPS.values() for table in tables)


def _tracked(obj: Any) -> bool:
    table = getattr(obj, "__table__", None)
    return table is not None and table.name in _TRACKED


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    # A flush that wrote a tracked row changed its group's token: read the tokens again. Other flushes (the
    # ticket itself, its clocks) leave the memo alone.
    if _MEMO in session.info and any(map(_tracked, (*session.dirty, *session.deleted))) or any(
            _tracked(obj) and obj.__table__.name not in INSERTS_KEEP_TOKEN for obj in session.new):
        _forget_memo(session)


@event.listens_for(Session, "do_orm_execute")
def _on_execute(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        name = getattr(table, "name", None)
        if table is None or (name in _TRACKED and not (state.is_insert and name in INSERTS_KEEP_TOKEN)):
            _forget_memo(state.session)


@event.listens_for(Session, "after_soft_rollback")
def _after_soft_rollback(session: Session, _previous: Any) -> None:
    _forget_memo(session)  # a savepoint rolled back may have undone a change (and its token)
