"""Helpers for the workload and claim tests: bare tickets written with one statement, as intake writes them,
and the open work recounted in Python from the definitions assignment uses."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, insert, select, text

from tierline.platform import clock
from tierline.platform.db import Database
from tierline.tickets import state_machine as sm
from tierline.tickets.models import Ticket
from tierline.triage.assignment import PRIORITY_WEIGHTS


def insert_ticket(conn: Connection, *, assignee_id: int | None, status: str = "open", priority: str = "P3",
                  queue_id: int | None = None) -> int:
    now = clock.now()
    return conn.execute(insert(Ticket).values(
        subject="Held", description="d", status=status, type="question", priority=priority, channel="api",
        requester_email="held@customer.example", tags=[], custom_fields={}, assignee_id=assignee_id,
        queue_id=queue_id, frustrated=False, created_at=now, updated_at=now, version=1,
    ).returning(Ticket.id)).scalar_one()


def recounted(conn: Connection, user_ids: list[int]) -> dict[int, tuple[int, int]]:
    """(open tickets, weighted load) per user, counted in Python with `sm.UNSOLVED` and assignment's
    weights."""
    out = {uid: (0, 0) for uid in user_ids}
    rows = conn.execute(select(Ticket.assignee_id, Ticket.status, Ticket.priority))
    for assignee, status, priority in rows:
        if assignee is not None and status in sm.UNSOLVED:
            n, load = out.get(assignee, (0, 0))
            out[assignee] = (n + 1, load + PRIORITY_WEIGHTS[priority])
    return out


def wait_until_blocked(db: Database, *, waiters: int = 1, timeout: float = 10.0) -> None:
    """On PostgreSQL, until `waiters` backends wait on a lock (so a test knows its second transaction is
    parked on the first one's row). SQLite writers queue on the process's write lock: nothing to observe, so a
    short pause."""
    if db.is_sqlite:
        time.sleep(0.2)
        return
    deadline = time.monotonic() + timeout  # a duration, not a wall-clock reading
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            n = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                  "AND datname = current_database()")).scalar_one()
            conn.rollback()
            if n >= waiters:
                return
            time.sleep(0.02)
    raise AssertionError(f"no {waiters} transaction(s) waited on a lock within {timeout} s")


def in_thread(work: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Start `work` in a thread; its result (or exception) lands in the returned dict."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # noqa: BLE001 (re-raised by the test)
            box["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    return thread, box


def joined(thread: threading.Thread, box: dict[str, Any]) -> Any:
    thread.join(timeout=60)
    assert not thread.is_alive(), "the thread did not finish"
    if "error" in box:
        raise box["error"]
    return box["result"]
