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
import sys
import tempfile
from pathlib import Path

from support import (
    count_tickets,
    drive,
    free_port,
    pct,
    prepare,
    raw_ceiling,
    scratch_database,
    server,
    ticket_bodies,
)


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
