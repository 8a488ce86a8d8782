"""What the server's PostgreSQL backends were doing during a run: pg_stat_activity sampled from a separate
connection, and pg_stat_statements when the server has it loaded.

Issue 9 found intake bound by a row lock: most backends waited on `Lock:tuple` for the `queue_cursors` row
while the backend holding it sat `idle in transaction` (ClientRead), waiting for Python. The sampler shows the
same picture as shares of samples: every ~100 ms it reads the state and wait event of each backend of the
scratch database (its own and the bench's other connections excluded) and, for a backend waiting on a lock,
what it was running, which relation's lock it wanted, and the state of the backends blocking it. A wait on a
`transactionid` names a relation only when the waiter holds the row's tuple lock; one inside an INSERT ... ON
CONFLICT (a trigger's included) names none, and the statement says where to look.

"Share of time waiting on locks" = samples waiting on a heavyweight lock (wait_event_type 'Lock') over samples
inside a transaction or a statement (every state but 'idle'). Idle pooled connections are not in the
denominator: they would make any figure look small.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Self

from sqlalchemy.engine import make_url

APP_NAME = "tierline-bench"  # the bench's own connections set this (the sampler excludes them)

_SAMPLE = """
SELECT a.pid, a.state, a.wait_event_type, a.wait_event,
       CASE WHEN a.wait_event_type = 'Lock' OR a.state LIKE 'idle in transaction%'
            THEN left(regexp_replace(a.query, '\\s+', ' ', 'g'), 110) END,
       CASE WHEN a.wait_event_type = 'Lock' THEN
            (SELECT string_agg(DISTINCT coalesce(c.relname, l.locktype), ',')
               FROM pg_locks l LEFT JOIN pg_class c ON c.oid = l.relation
              WHERE l.pid = a.pid AND (NOT l.granted OR l.locktype = 'tuple')) END,
       CASE WHEN a.wait_event_type = 'Lock' THEN
            (SELECT string_agg(coalesce(b.state, '?'), ',' ORDER BY b.state)
               FROM pg_stat_activity b WHERE b.pid = ANY (pg_blocking_pids(a.pid))) END
  FROM pg_stat_activity a
 WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() AND a.backend_type = 'client backend'
   AND coalesce(a.application_name, '') NOT LIKE 'tierline-bench%'
"""


def conninfo(url: str) -> str:
    """A libpq URI for psycopg from the SQLAlchemy url."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def connect(url: str) -> Any:
    import psycopg

    return psycopg.connect(conninfo(url), autocommit=True, application_name=APP_NAME)


def state_of(state: str | None, wait_type: str | None, wait_event: str | None) -> str:
    """One label per sample: 'idle', 'idle in transaction (Client:ClientRead)', 'active (running)',
    'active, waiting Lock:tuple', ..."""
    waiting = f"{wait_type}:{wait_event}" if wait_type else None
    if state == "active":
        return f"active, waiting {waiting}" if waiting else "active (running)"
    if state and state.startswith("idle in transaction"):
        return f"{state} ({waiting})" if waiting else state
    return state or "unknown"


@dataclass
class Activity:
    """The samples of one run."""

    rounds: int = 0
    elapsed: float = 0.0
    states: Counter = field(default_factory=Counter)  # label -> samples
    lock_waits: Counter = field(default_factory=Counter)  # (wait event, relation, statement) -> samples
    blockers: Counter = field(default_factory=Counter)  # state of a blocking backend -> samples
    holding: Counter = field(default_factory=Counter)  # last statement of an idle-in-transaction backend
    pids: set[int] = field(default_factory=set)
    cpu_seconds: float = 0.0  # the sampler's own CPU (its thread)
    error: str | None = None

    @property
    def samples(self) -> int:
        return sum(self.states.values())

    @property
    def busy(self) -> int:
        """Samples inside a transaction or a statement: every state but idle."""
        return sum(n for label, n in self.states.items() if label != "idle")

    @property
    def lock_samples(self) -> int:
        return sum(n for label, n in self.states.items() if "waiting Lock:" in label)

    @property
    def lock_share(self) -> float:
        return self.lock_samples / self.busy if self.busy else 0.0

    @property
    def interval(self) -> float:
        return self.elapsed / self.rounds if self.rounds else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "interval_s": round(self.interval, 4), "samples": self.samples,
                "busy_samples": self.busy, "lock_samples": self.lock_samples,
                "lock_share_of_busy": round(self.lock_share, 4),
                "states": dict(self.states.most_common()),
                "lock_waits": [{"wait": w, "relation": r, "statement": s, "samples": n}
                               for (w, r, s), n in self.lock_waits.most_common(10)],
                "blocker_states": dict(self.blockers.most_common()),
                "idle_in_transaction_after": [{"statement": s, "samples": n}
                                              for s, n in self.holding.most_common(5)],
                "backends": len(self.pids), "sampler_cpu_s": round(self.cpu_seconds, 3), "error": self.error}


class ActivitySampler:
    """Samples pg_stat_activity of the database `url` names every `interval` seconds in a thread, between
    `begin()` and `end()` (connected beforehand, so that starting costs the measured window nothing)."""

    def __init__(self, url: str, interval: float = 0.1) -> None:
        self.url, self.interval = url, interval
        self.activity = Activity()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: Any = None

    def __enter__(self) -> Self:
        self._conn = connect(self.url)
        return self

    def backends(self) -> set[int]:
        """The server's backends right now (one sample, not counted; before `begin`)."""
        with self._conn.cursor() as cur:
            cur.execute(_SAMPLE)
            return {row[0] for row in cur.fetchall()}

    def begin(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pg-activity-sampler", daemon=True)
        self._thread.start()

    def end(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def __exit__(self, *_: object) -> None:
        self.end()
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _run(self) -> None:
        a = self.activity
        cpu0 = time.thread_time()
        started = time.perf_counter()  # durations only
        next_at = started
        try:
            with self._conn.cursor() as cur:
                while not self._stop.is_set():
                    cur.execute(_SAMPLE)
                    for pid, state, wait_type, wait_event, query, relation, blockers in cur.fetchall():
                        label = state_of(state, wait_type, wait_event)
                        a.states[label] += 1
                        a.pids.add(pid)
                        if wait_type == "Lock":
                            a.lock_waits[(f"{wait_type}:{wait_event}", relation or "?", query or "?")] += 1
                            for blocker in (blockers or "").split(","):
                                if blocker:
                                    a.blockers[blocker] += 1
                        elif state and state.startswith("idle in transaction"):
                            a.holding[query or "?"] += 1
                    a.rounds += 1
                    next_at += self.interval
                    self._stop.wait(max(0.0, next_at - time.perf_counter()))
        except Exception as exc:  # noqa: BLE001 - the figures say the sampling broke off; the run goes on
            a.error = repr(exc)
        a.elapsed = time.perf_counter() - started
        a.cpu_seconds = time.thread_time() - cpu0


# -- pg_stat_statements --------------------------------------------------------------------------------------

def statements_unavailable(url: str) -> str | None:
    """None when pg_stat_statements can count this database's statements (the extension is created in the
    scratch database if the server preloads the library); otherwise why not."""
    try:
        with connect(url) as conn:
            preload = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()[0]
            if "pg_stat_statements" not in preload:
                return "not loaded (it needs shared_preload_libraries = 'pg_stat_statements')"
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    except Exception as exc:  # noqa: BLE001 - any failure means: count in-process only, and say why
        return f"not usable: {exc}"
    return None


def statements_reset(url: str) -> None:
    """Forget this database's statement counts (only this database's: the server may be shared). Each copy of
    the demo needs the extension created anew."""
    with connect(url) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset(0::oid, (SELECT oid FROM pg_database "
                     "WHERE datname = current_database()), 0::bigint)")


def statements_counted(url: str, top: int = 8) -> tuple[int, list[tuple[int, str]]]:
    """(calls of every statement in this database since the reset, the `top` statements by calls)."""
    with connect(url) as conn:
        rows = conn.execute(
            "SELECT calls, left(regexp_replace(query, '\\s+', ' ', 'g'), 100) FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND query NOT LIKE '%pg_stat_statements%' AND query NOT LIKE '%pg_stat_activity%' "
            "ORDER BY calls DESC").fetchall()
    return sum(r[0] for r in rows), [(r[0], r[1]) for r in rows[:top]]
