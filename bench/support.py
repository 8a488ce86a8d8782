"""What the benchmarks share: a scratch database, realistic ticket bodies, percentiles, and the HTTP intake
harness (a uvicorn server, N clients, the raw insert ceiling), timed loops.

The benchmarks run the code in this tree's src/. To measure another version beside it (a commit before a
change, say), point TIERLINE_BENCH_SRC at its src/ folder, e.g. after
`git archive <commit> src | tar -x -C /tmp/base`: TIERLINE_BENCH_SRC=/tmp/base/src. The bench and every
server it starts then import that copy of tierline.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import httpx
from sqlalchemy import create_engine, event, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
SRC = Path(os.environ.get("TIERLINE_BENCH_SRC") or ROOT / "src").resolve()
sys.path.insert(0, str(SRC))


@contextmanager
def scratch_database(url: str | None) -> Iterator[tuple[str, str]]:
    """(url, label) of an empty database that is removed on exit: a temporary SQLite file, or a scratch
    database created beside the one `url` names (PostgreSQL) and dropped afterwards."""
    if not url or url.startswith("sqlite"):
        tmp = tempfile.mkdtemp(prefix="tierline-bench-")
        try:
            yield f"sqlite:///{tmp}/bench.db", "SQLite (temporary file, WAL)"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    base = make_url(url)
    name = f"{base.database or 'tierline'}_scratch_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        probe = create_engine(base.set(database=name))
        with probe.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
        probe.dispose()
        yield base.set(database=name).render_as_string(hide_password=False), f"PostgreSQL {version} ({name})"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def ticket_bodies(n: int = 400, seed: int = 99, customers: int = 20) -> list[dict]:
    """Realistic request bodies from the demo corpus (subjects, descriptions with traces, error codes). The
    generator draws the customers first: with the seed and customer count of a loaded demo, the requesters
    are that demo's customers' people."""
    from tierline.demo.generator import generate

    plan = generate(seed=seed, customers=customers, tickets=n, now=datetime(2026, 1, 1, tzinfo=UTC))
    return [{"subject": t.subject, "description": t.description, "requester_email": t.requester_email,
             "type": t.type, "priority": t.priority, "channel": t.channel, "feature_area": t.feature_area,
             "error_code": t.error_code, "tags": t.tags, "urgency": t.urgency} for t in plan.tickets]


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=1000, method="inclusive")[max(0, int(q * 1000) - 1)]


# -- the HTTP intake harness (bench/intake.py, bench/triage.py) ----------------------------------------------

ADMIN = "bench-admin@tierline.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str) -> str:
    """Migrate, create an admin and return a fresh API token (through the services, as `tierline` does)."""
    from tierline.platform.db import Database
    from tierline.platform.migrate import upgrade

    db = Database(url)
    try:
        upgrade(db)
    finally:
        db.dispose()
    return admin_token(url)


def admin_token(url: str) -> str:
    """Create the bench admin in a migrated database and return a fresh API token for it."""
    from tierline.people import service as people_service
    from tierline.platform.auth import service as auth_service
    from tierline.platform.auth.actor import Actor
    from tierline.platform.db import Database

    db = Database(url)
    actor = Actor.system("bench")
    with db.unit_of_work() as session:
        view = people_service.create_user(session, actor=actor, email=ADMIN, name="Bench Admin",
                                          roles=["admin"])
        user = auth_service.get_user(session, user_id=view.id)
        _, raw = auth_service.create_token(session, actor=actor, user=user, name="bench")
    db.dispose()
    return raw


@contextmanager
def server(url: str, port: int, log_level: str, log_path: Path) -> Iterator[subprocess.Popen]:
    """`tierline.app` under uvicorn (one process, no reload) on `port`, stopped on exit."""
    env = dict(os.environ, TIERLINE_DATABASE_URL=url, TIERLINE_LOG_LEVEL=log_level,
               PYTHONPATH=str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = [sys.executable, "-m", "uvicorn", "tierline.app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--no-access-log", "--log-level", log_level.lower()]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"the server exited ({proc.returncode}); see {log_path}:\n"
                                   + log_path.read_text()[-2000:])
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not become healthy within 60 s")
            time.sleep(0.2)
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def drive(port: int, token: str, bodies: list[dict], clients: int,
                seconds: float) -> tuple[list[float], int, float]:
    """N concurrent clients POST /api/v1/tickets (each with an Idempotency-Key) for `seconds`: the latencies
    of the tickets created, the number of failures, and the elapsed time."""
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, limits=limits,
                                 timeout=30) as client:
        # Warm-up: one request per client, so the first measured requests do not pay for connecting.
        await asyncio.gather(*(client.get("/api/v1/health") for _ in range(clients)))
        started = time.perf_counter()
        deadline = started + seconds

        async def one_client(k: int) -> None:
            nonlocal errors
            rng = random.Random(k)
            while time.perf_counter() < deadline:
                body = rng.choice(bodies)
                t0 = time.perf_counter()
                try:
                    r = await client.post("/api/v1/tickets", json=body,
                                          headers={"Idempotency-Key": uuid.uuid4().hex})
                    ok = r.status_code == 201
                except httpx.HTTPError:
                    ok = False
                if ok:
                    latencies.append(time.perf_counter() - t0)
                else:
                    errors += 1

        await asyncio.gather(*(one_client(k) for k in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, errors, elapsed


def raw_ceiling(url: str, bodies: list[dict], n: int) -> float:
    """Seconds to insert `n` ticket rows with one executemany (SQLAlchemy Core, one transaction)."""
    from tierline.platform.db import Database
    from tierline.tickets.models import Ticket

    now = datetime.now(UTC)  # bench code, not application code: wall-clock timestamps for the rows
    rows = []
    for i in range(n):
        b = bodies[i % len(bodies)]
        rows.append({"subject": b["subject"], "description": b["description"], "status": "new",
                     "type": b["type"], "priority": b["priority"], "channel": b["channel"],
                     "requester_email": b["requester_email"], "feature_area": b["feature_area"],
                     "error_code": b["error_code"], "tags": b["tags"], "custom_fields": {},
                     "urgency": b["urgency"], "created_at": now, "updated_at": now, "version": 1})
    db = Database(url)
    try:
        t0 = time.perf_counter()
        with db.engine.begin() as conn:
            conn.execute(Ticket.__table__.insert(), rows)
        return time.perf_counter() - t0
    finally:
        db.dispose()


def count_tickets(url: str) -> int:
    from tierline.platform.db import Database
    from tierline.tickets.models import Ticket

    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(Ticket.__table__)).scalar_one()
    finally:
        db.dispose()


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (q in 1..99) on a 100-quantile grid (bench/intake.py's figures)."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


# -- timing loops --------------------------------------------------------------------------------------------

@dataclass
class Run:
    """A timed loop: how many calls, how long it ran, each call's latency (seconds)."""

    count: int
    elapsed: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def line(self, unit: float = 1e6, label: str = "µs", what: str = "tickets") -> str:
        return (f"{self.count:,} {what} in {self.elapsed:.1f} s: {self.rate:,.0f} {what}/s, "
                f"p50 {percentile(self.latencies, .5) * unit:,.0f} {label}, "
                f"p99 {percentile(self.latencies, .99) * unit:,.0f} {label}")


def timed(step: Callable[[int], object], seconds: float, limit: int | None = None) -> Run:
    """Call step(i) for i = 0, 1, ... until `seconds` have passed (or after `limit` calls)."""
    latencies: list[float] = []
    started = time.perf_counter()  # perf timers measure durations; they are not the application clock
    deadline = started + seconds
    i = 0
    while (t0 := time.perf_counter()) < deadline and (limit is None or i < limit):
        step(i)
        latencies.append(time.perf_counter() - t0)
        i += 1
    return Run(i, time.perf_counter() - started, latencies)


class QueryCount:
    """Counts the statements an engine sends while open, and by the first table each names (for an untimed
    pass: a listener costs time)."""

    _TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)")

    def __init__(self, engine: Any) -> None:
        self.engine, self.n, self.tables = engine, 0, Counter()

    def _count(self, _conn: object, _cursor: object, statement: str, *_: object) -> None:
        self.n += 1
        m = self._TABLE.search(statement)
        self.tables[m.group(1) if m else statement.split(None, 1)[0].lower()] += 1

    def top(self, per: int, k: int = 6) -> str:
        """The tables queried most, as 'name n.n' per `per` units of work."""
        return ", ".join(f"{name} {n / per:.1f}" for name, n in self.tables.most_common(k))

    def __enter__(self) -> Self:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)
