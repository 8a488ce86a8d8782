"""Intake benchmark: tickets per second through the real HTTP stack, against the raw insert ceiling.

    python bench/intake.py [--clients 8] [--seconds 10] [--database-url postgresql+psycopg://...]

It starts `tierline.app` under uvicorn (one process, no reload) on its own port and on a scratch database
(a temporary SQLite file, or a scratch database created beside the one --database-url names and dropped
afterwards), migrates it, makes an admin and an API token in-process, then N concurrent clients POST
/api/v1/tickets (each with an Idempotency-Key, as a careful client would) for a bounded time. It prints
tickets/s, p50/p99 latency and errors, then inserts the same number of ticket rows with one executemany
through SQLAlchemy Core (the ceiling no API can beat on this machine and database) and prints the ratio.
It stops by itself and cleans up after itself, also when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from support import ROOT, scratch_database, ticket_bodies  # noqa: E402
from tierline.platform.db import Database  # noqa: E402
from tierline.platform.migrate import upgrade  # noqa: E402

ADMIN = "bench-admin@tierline.example"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str) -> str:
    """Migrate, create an admin and return a fresh API token (through the services, as `tierline` does)."""
    from tierline.people import service as people_service
    from tierline.platform.auth import service as auth_service
    from tierline.platform.auth.actor import Actor

    db = Database(url)
    upgrade(db)
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
    env = dict(os.environ, TIERLINE_DATABASE_URL=url, TIERLINE_LOG_LEVEL=log_level,
               PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
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
    from tierline.tickets.models import Ticket

    db = Database(url)
    try:
        with db.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(Ticket.__table__)).scalar_one()
    finally:
        db.dispose()


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--database-url", default=None, help="postgresql+psycopg://...; default: temporary "
                                                             "SQLite")
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--log-level", default="WARNING", help="the server's log level (INFO logs every "
                                                               "request)")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0:
        parser.error("--clients must be >= 1 and --seconds > 0")
    bodies = ticket_bodies()
    port = args.port or free_port()
    with scratch_database(args.database_url) as (url, label), tempfile.TemporaryDirectory() as tmp:
        token = prepare(url)
        with server(url, port, args.log_level, Path(tmp) / "server.log"):
            latencies, errors, elapsed = asyncio.run(drive(port, token, bodies, args.clients, args.seconds))
        created = len(latencies)
        stored = count_tickets(url)
        raw_seconds = raw_ceiling(url, bodies, max(created, 1))
    rate = created / elapsed
    raw_rate = max(created, 1) / raw_seconds
    print(f"tierline intake benchmark: {label}; uvicorn, 1 process; {args.clients} clients for "
          f"{elapsed:.1f} s; "
          f"server log level {args.log_level}")
    print(f"  HTTP  POST /api/v1/tickets: {created} created ({stored} rows stored), {rate:.1f} tickets/s, "
          f"p50 {pct(latencies, 50) * 1000:.1f} ms, p99 {pct(latencies, 99) * 1000:.1f} ms, errors {errors}")
    print(f"  raw   one executemany of {max(created, 1)} ticket rows (SQLAlchemy Core): {raw_seconds:.3f} s, "
          f"{raw_rate:,.0f} rows/s")
    print(f"  ratio raw ceiling / HTTP: {raw_rate / rate if rate else float('inf'):.0f}x "
          f"(HTTP intake reaches {100 * rate / raw_rate:.2f}% of the raw insert rate)")
    return 0 if errors == 0 and stored == created else 1


if __name__ == "__main__":
    sys.exit(main())
