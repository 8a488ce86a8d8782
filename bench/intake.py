"""Intake benchmark (issue 9, section 2): tickets/s through `tierline serve` in an outage burst and in a mixed
load, the door's toll, statements and lock waits per intake, each target beside ceilings measured in the same
run.

    python bench/intake.py                                         # SQLite, one process
    python bench/intake.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python bench/intake.py --database-url sqlite --database-url postgresql+psycopg://...   # both, one report
    python bench/intake.py --database-url postgresql+psycopg://... --scenario burst --workers 2 --seconds 5 \
        --demo-tickets 300 --skip-door --skip-ceilings                                   # one quick figure

Setup (not timed). A scratch database with the demo organisation loaded the way `tierline demo` does it
(--demo-tickets, default the full demo issue 9 measured), cached between runs (bench/demo_cache.py says how
and the output says what was loaded and when), plus an admin API token. Every measured run starts from a fresh
copy of that demo, so no run inherits the tickets of the one before.

1. Intake over HTTP. `tierline serve --workers N` (PostgreSQL: --workers 1 and 2; SQLite: one process, which
   also runs the embedded job worker) with log level WARNING on a free port; --clients keep-alive connections
   (bench/load_client.py: raw asyncio streams, not httpx, so the generator leaves the cores to the server)
   POST /api/v1/tickets without an Idempotency-Key for --seconds, after a short warm-up.
   - `burst`: issue 9's outage: one subject and description (a connection-pool outage carrying DB-1017, which
     the demo's rules route to the database team) from the demo customer with the highest ARR, the requesters
     cycling through 1,000 addresses at its domain that are new to Tierline.
   - `mixed`: inbound bodies from the demo corpus (subject, description, requester, channel) across the
     demo's customers.
   Per run: tickets/s, p50/p99/max latency, errors (any status but 201), rows stored against 201s, CPU
   (server, PostgreSQL backends, the generator itself), and on PostgreSQL the backends' states sampled from
   pg_stat_activity every 100 ms (bench/pg_activity.py): the share of in-transaction time waiting on locks,
   on which lock and statement, held by whom; pg_stat_statements' count per ticket when the server loads it.
2. The door, per server shape, for --door-seconds: authenticated GET /api/v1/queues?limit=1 and GET
   /api/v1/health on `tierline serve`, a trivial authenticated POST on Tierline's app with one extra route
   (bench/noop_app.py), and a bare FastAPI sync route (bench/bare_app.py), the latter two served by
   bench/serve_app.py with `tierline serve`'s uvicorn settings and worker count.
3. In-process, on a fresh copy (bench/intake_flow.py): statements per intake by part of the request's
   transaction (a before_cursor_execute counter), committed intakes one after another with Python time per
   phase if the flow exposes it, the triage pipeline alone (dry run), raw executemany of ticket rows.
4. Every target of the issue beside its figure, met or missed, and the ceilings; --json FILE writes it all.

It stops its servers and drops its scratch databases on every way out, Ctrl-C included. Exit status 1 when a
run stored a different number of tickets than it got 201s for; missed targets do not fail it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bare_app
import demo_cache
import intake_flow
import noop_app
import pg_activity
import serving
from load_client import LoadResult, request_bytes, run_load, warm
from support import ROOT, admin_token, count_tickets, free_port, pct, raw_ceiling, ticket_bodies

SCENARIOS = ("burst", "mixed")
TICKETS = "/api/v1/tickets"
QUEUES = "/api/v1/queues?limit=1"
HEALTH = "/api/v1/health"
BURST_REQUESTERS = 1000
MIXED_BODIES = 1000
INBOUND = ("subject", "description", "requester_email", "channel")  # what an email or a web form brings

# The outage: the demo's "Connection Pooling" incident, as a customer's engineers write it when all is down.
BURST_SUBJECT = "Production down: too many connections (DB-1017)"
BURST_DESCRIPTION = (
    "Our production API has been returning 500s since 14:05 CET. Every app server logs this:\n\n"
    "psycopg.OperationalError: connection to server at \"pg-7f3a9c.eu-west.db.internal\" (10.20.3.14), port "
    "5432 failed: FATAL:  remaining connection slots are reserved for non-replication superuser connections\n"
    "  error code: DB-1017 too many client connections\n"
    "  request id: req_4f1c9a02b7e3d815\n\n"
    "We did not change the pool size and nothing was deployed today. About 2,300 users are affected and "
    "every checkout fails. This is a full outage for us, please call back asap."
)

# Issue 9, section 2.
TARGET_PG_RATE, TARGET_SQLITE_RATE, TARGET_P99_MS = 300.0, 250.0, 150.0
TARGET_STATEMENTS, TARGET_LOCK_SHARE, TARGET_DOOR = 12.0, 0.05, 1 / 3
PG_TARGET_WORKERS = 2


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ms(seconds: float) -> float:
    return seconds * 1e3


# -- the scenarios -------------------------------------------------------------------------------------------

@dataclass
class Load:
    """The bodies a scenario posts, and what to say about them."""

    name: str
    bodies: list[dict]
    warmup: list[dict]
    about: str


def burst_customer(url: str) -> dict[str, Any]:
    """The demo customer with the highest ARR that has an email domain: its name, plan, ARR and domain, and
    the contacts it already has there (the burst's requesters must be new)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text(
                "SELECT c.id, c.name, c.plan, c.arr_cents, d.domain FROM customers c "
                "JOIN customer_email_domains d ON d.customer_id = c.id "
                "ORDER BY c.arr_cents DESC, c.id, d.id LIMIT 1")).mappings().first()
            if row is None:
                raise SystemExit("the loaded demo has no customer with an email domain: "
                                 "use more --demo-customers")
            known = set(conn.execute(text("SELECT email FROM contacts WHERE email LIKE :d"),
                                     {"d": f"%@{row['domain']}"}).scalars())
    finally:
        engine.dispose()
    return {**row, "known": known}


def new_requesters(domain: str, n: int, known: set[str], tag: str = "") -> list[str]:
    """n plausible addresses at `domain` that Tierline does not know (first.last, a number when taken)."""
    from tierline.demo import names

    out: list[str] = []
    seen = set(known)
    i = 0
    while len(out) < n:
        first = names.FIRST_NAMES[i % len(names.FIRST_NAMES)]
        last = names.LAST_NAMES[(i // len(names.FIRST_NAMES) + 7 * i) % len(names.LAST_NAMES)]
        local = f"{first}.{last}".lower().replace(" ", "") + tag
        email, k = f"{local}@{domain}", 1
        while email in seen:
            k += 1
            email = f"{local}{k}@{domain}"
        seen.add(email)
        out.append(email)
        i += 1
    return out


def burst_load(customer: dict[str, Any]) -> Load:
    requesters = new_requesters(customer["domain"], BURST_REQUESTERS, customer["known"])
    warm = new_requesters(customer["domain"], 64, customer["known"] | set(requesters), tag=".warmup")

    def body(email: str) -> dict:
        return {"subject": BURST_SUBJECT, "description": BURST_DESCRIPTION, "requester_email": email,
                "channel": "email"}

    about = (f"one subject and description (DB-1017, a connection-pool outage) from {customer['name']} "
             f"({customer['domain']}, {customer['plan']}, ARR ${customer['arr_cents'] / 100:,.0f}), "
             f"{BURST_REQUESTERS:,} requesters new to Tierline cycling")
    return Load("burst", [body(e) for e in requesters], [body(e) for e in warm], about)


def mixed_load(spec: demo_cache.DemoSpec) -> tuple[Load, list[dict]]:
    """Inbound bodies from the demo corpus, with the loaded demo's seed and customers (so its requesters are
    the demo customers' people); also the full bodies (for the raw insert ceiling)."""
    full = ticket_bodies(MIXED_BODIES + 64, seed=spec.seed, customers=spec.customers)
    inbound = [{k: b[k] for k in INBOUND} for b in full]
    domains = {b["requester_email"].rpartition("@")[2] for b in inbound[:MIXED_BODIES]}
    about = (f"{MIXED_BODIES:,} inbound demo-corpus bodies ({', '.join(INBOUND)}) from requesters at "
             f"{len(domains)} domains")
    return Load("mixed", inbound[:MIXED_BODIES], inbound[MIXED_BODIES:], about), full


# -- what the machine allows ----------------------------------------------------------------------------------

def cpu_per_ticket(run: Measured) -> dict[str, float]:
    """Milliseconds of CPU per ticket answered, by who spent it (server, PostgreSQL, the generator and the
    sampler: everything the run itself made the machine do), and their total."""
    if not run.rate:
        return {}
    per = {k: 1e3 * run.cpu[k] / run.rate for k in ("server", "postgresql", "generator", "sampler")
           if k in run.cpu}
    per["total"] = sum(per.values())
    return per


def cpu_bound_rate(run: Measured) -> float:
    """The rate the machine's cores allow at the run's own CPU per ticket: the ceiling a rate that keeps every
    core busy has reached. A rate well below it, with cores idle, is held back by waiting instead."""
    per = cpu_per_ticket(run)
    return 1e3 * run.cpu.get("machine_cores", 0) / per["total"] if per and per["total"] else float("nan")


# -- one server, one load ------------------------------------------------------------------------------------

@dataclass
class Measured:
    """One load against one server shape, with what the machine and the database did meanwhile."""

    what: str
    workers: int
    load: LoadResult
    cpu: dict[str, float] = field(default_factory=dict)  # cores busy on average
    activity: pg_activity.Activity | None = None
    stored: int | None = None
    statements: tuple[int, list] | None = None  # pg_stat_statements: (calls, top) over the window
    log_tail: str = ""  # the server's last traceback, when it answered 5xx

    @property
    def rate(self) -> float:
        return self.load.rate

    def latency(self, q: float) -> float:
        return ms(pct(self.load.ok_latencies, q)) if self.load.ok_latencies else float("nan")

    @property
    def max_ms(self) -> float:
        return ms(max(self.load.ok_latencies)) if self.load.ok_latencies else float("nan")

    def as_json(self) -> dict[str, Any]:
        r = self.load
        out: dict[str, Any] = {
            "what": self.what, "workers": self.workers, "clients": r.clients, "seconds": r.seconds,
            "elapsed_s": round(r.elapsed, 3), "ok": r.ok, "per_s": round(r.rate, 1),
            "p50_ms": round(self.latency(50), 2), "p99_ms": round(self.latency(99), 2),
            "max_ms": round(self.max_ms, 2), "errors": r.errors,
            "statuses": {str(k): v for k, v in r.statuses.items()}, "error_samples": r.error_samples,
            "generator_cpu_s": round(r.cpu_seconds, 3),
            "generator_cpu_us_per_request": round(1e6 * r.cpu_seconds / max(r.requests, 1), 1),
            "cpu_cores_busy": {k: round(v, 3) for k, v in self.cpu.items()}}
        if self.stored is not None:
            out["stored"] = self.stored
        if self.activity is not None:
            out["pg_stat_activity"] = self.activity.as_json()
        if self.statements is not None:
            calls, top = self.statements
            out["pg_stat_statements"] = {"calls": calls, "per_ok": round(calls / max(r.ok, 1), 2),
                                         "top": [{"calls": c, "query": q} for c, q in top]}
        return out


def measure(server: serving.Server, *, what: str, workers: int, requests: list[bytes], warmup: list[bytes],
            clients: int, seconds: float, ok_status: int, url: str | None = None, pg: bool = False,
            stats: bool = False) -> Measured:
    """Run one load against `server`; with `url`, count the tickets stored; with `pg`, sample the backends."""
    sampler = pg_activity.ActivitySampler(url) if pg and url else None
    if sampler is not None:
        sampler.__enter__()
    try:
        # Warm-up first, apart: `stored` counts from after it.
        if warmup:
            warm(server.port, warmup, clients=clients)
        before = count_tickets(url) if url else None
        if stats:
            try:
                pg_activity.statements_reset(url)
            except Exception as exc:  # noqa: BLE001 - counted in-process anyway; say why not here
                log(f"   pg_stat_statements: not usable ({exc})")
                stats = False
        backends = sampler.backends() if sampler is not None else set()
        pg_cpu0 = serving.cpu_seconds(backends)
        server_cpu0 = server.cpu_seconds()
        busy0, total0 = serving.machine_busy_seconds()
        if sampler is not None:
            sampler.begin()
        t0 = time.perf_counter()
        result = run_load(server.port, requests, clients=clients, seconds=seconds, ok_status=ok_status)
        wall = time.perf_counter() - t0
        if sampler is not None:
            sampler.end()
        busy1, total1 = serving.machine_busy_seconds()
        server_cpu = server.cpu_seconds() - server_cpu0
        pg_cpu = None
        if sampler is not None:
            seen = backends | sampler.activity.pids
            after = serving.cpu_seconds(seen)
            pg_cpu = sum(after.values()) - sum(v for pid, v in pg_cpu0.items() if pid in after)
        statements = pg_activity.statements_counted(url) if stats else None
        stored = count_tickets(url) - before if url else None
    finally:
        if sampler is not None:
            sampler.__exit__(None, None, None)
    cores = (total1 - total0) / wall if wall else 1.0
    cpu = {"server": server_cpu / wall, "generator": result.cpu_seconds / wall,
           "machine": (busy1 - busy0) / wall, "machine_cores": cores}
    if pg_cpu is not None:
        cpu["postgresql"] = pg_cpu / wall
        cpu["sampler"] = sampler.activity.cpu_seconds / wall
    ours = sum(v for k, v in cpu.items() if k not in ("machine", "machine_cores"))
    cpu["other"] = max(0.0, cpu["machine"] - ours)
    return Measured(what, workers, result, cpu, sampler.activity if sampler else None, stored, statements)


def server_error(log_path: Path, lines: int = 14) -> str:
    """The end of the last traceback in a server's log (why it answered 5xx), indented."""
    text = log_path.read_text(errors="replace").splitlines()
    starts = [i for i, line in enumerate(text) if "Traceback" in line]
    chunk = text[starts[-1]:] if starts else text
    return "\n".join(f"      | {line[:160]}" for line in chunk[-lines:])


# -- per database --------------------------------------------------------------------------------------------

@dataclass
class Report:
    """Everything measured on one database, for the targets and the JSON."""

    kind: str  # postgresql | sqlite
    label: str
    demo: str
    loads: dict[str, str] = field(default_factory=dict)
    runs: list[Measured] = field(default_factory=list)
    door: list[Measured] = field(default_factory=list)
    in_process: dict[str, Any] = field(default_factory=dict)
    ceilings: dict[str, Any] = field(default_factory=dict)
    targets: list[dict[str, Any]] = field(default_factory=list)

    def run(self, scenario: str, workers: int) -> Measured | None:
        return next((r for r in self.runs if r.what == scenario and r.workers == workers), None)

    def door_of(self, what: str, workers: int) -> Measured | None:
        return next((r for r in self.door if r.what == what and r.workers == workers), None)


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args, self.tmp = args, tmp
        self.spec = demo_cache.DemoSpec(customers=args.demo_customers, tickets=args.demo_tickets,
                                        seed=args.demo_seed)

    def tierline(self, url: str, workers: int) -> Any:
        port = free_port()
        command = serving.tierline_command() + ["serve", "--host", "127.0.0.1", "--port", str(port),
                                                 "--workers", str(workers)]
        return serving.serve(label=f"tierline serve --workers {workers}", command=command, url=url,
                             port=port, log_level=self.args.log_level, log_path=self.tmp / "server.log",
                             health_path=HEALTH)

    def app(self, module: Any, url: str, workers: int, health: str) -> Any:
        port = free_port()
        name = module.__name__
        command = [sys.executable, str(ROOT / "bench" / "serve_app.py"), f"{name}:create_app", "--port",
                   str(port), "--workers", str(workers)]
        return serving.serve(label=f"{name} --workers {workers}", command=command, url=url, port=port,
                             log_level=self.args.log_level, log_path=self.tmp / f"{name}.log",
                             health_path=health)

    def database(self, url: str | None) -> Report:
        args = self.args
        pg = bool(url) and not url.startswith("sqlite")
        demo = demo_cache.open_demo(url, self.spec, cache=not args.no_demo_cache, refresh=args.refresh_demo,
                                    cache_dir=args.cache_dir, log=log)
        try:
            report = Report("postgresql" if pg else "sqlite", demo.label, demo.demo)
            print(f"\n== {demo.label}", flush=True)
            print(f"   demo: {demo.demo}")
            first = demo.fresh()
            burst = burst_load(burst_customer(first))
            mixed, full = mixed_load(self.spec)
            loads = {"burst": burst, "mixed": mixed}
            report.loads = {name: loads[name].about for name in args.scenario}
            for name in args.scenario:
                print(f"   {name}: {loads[name].about}")
            stats_reason = pg_activity.statements_unavailable(first) if pg else "SQLite"
            workers_list = args.workers if pg else [1]
            print(f"   each run: a fresh copy of the demo, `tierline serve --workers N` (log level "
                  f"{args.log_level}), {args.clients} clients for {args.seconds:g} s after a warm-up of "
                  f"{2 * args.clients} requests"
                  + ("" if pg else "; SQLite serves with one process (and runs the embedded job worker)"))
            current = (first, admin_token(first))
            if args.scenario:
                self.print_run_header()
            for workers in workers_list:
                for name in args.scenario:
                    load = loads[name]
                    url_n = demo.fresh()
                    token = admin_token(url_n)
                    current = (url_n, token)
                    with self.tierline(url_n, workers) as server:
                        host = f"127.0.0.1:{server.port}"
                        requests = [request_bytes("POST", TICKETS, host=host, token=token, body=b)
                                    for b in load.bodies]
                        warmup = [request_bytes("POST", TICKETS, host=host, token=token, body=b)
                                  for b in load.warmup[:2 * args.clients]]
                        run = measure(server, what=name, workers=workers, requests=requests, warmup=warmup,
                                      clients=args.clients, seconds=args.seconds, ok_status=201, url=url_n,
                                      pg=pg, stats=stats_reason is None)
                    report.runs.append(run)
                    self.print_run(run)
                    if any(str(k).startswith("5") for k in run.load.statuses):
                        print(server_error(server.log_path))
            if pg and len(workers_list) > 1 and args.scenario:
                self.print_ratios(report, workers_list)
            if pg and report.runs:
                self.print_activity(report)
            if report.runs:
                self.print_cpu(report)
                if pg:
                    self.print_statements_http(report, stats_reason)
            if not args.skip_door:
                for workers in workers_list:
                    report.door += self.door(current, workers, burst)
                self.print_door(report, workers_list)
            if not args.skip_ceilings:
                self.in_process(report, demo.fresh(), burst, mixed, full)
            self.targets(report, workers_list)
            return report
        finally:
            demo.close()

    # -- 2. the door ----------------------------------------------------------------------------------------

    def door(self, current: tuple[str, str], workers: int, burst: Load) -> list[Measured]:
        args = self.args
        url, token = current
        out = []

        def go(server: serving.Server, what: str, method: str, path: str, *, auth: bool, ok: int,
               body: Any = None) -> None:
            req = request_bytes(method, path, host=f"127.0.0.1:{server.port}", token=token if auth else None,
                                body=body)
            run = measure(server, what=what, workers=workers, requests=[req],
                          warmup=[req] * (2 * args.clients), clients=args.clients, seconds=args.door_seconds,
                          ok_status=ok)
            if any(str(k).startswith("5") for k in run.load.statuses):
                run.log_tail = server_error(server.log_path)
            out.append(run)

        with self.tierline(url, workers) as server:
            go(server, "queues", "GET", QUEUES, auth=True, ok=200)
            go(server, "health", "GET", HEALTH, auth=False, ok=200)
        with self.app(noop_app, url, workers, HEALTH) as server:
            go(server, "noop", "POST", noop_app.PATH, auth=True, ok=201, body=burst.bodies[0])
        with self.app(bare_app, url, workers, bare_app.PATH) as server:
            go(server, "bare", "GET", bare_app.PATH, auth=False, ok=200)
        return out

    # -- 3. in-process --------------------------------------------------------------------------------------

    def in_process(self, report: Report, url: str, burst: Load, mixed: Load, full: list[dict]) -> None:
        """Part 3. A piece that fails (the flow moved under the bench, a column it does not fill) is reported
        as not measured, with the error, and the others still run."""
        from tierline.platform.db import Database
        from tierline.tickets.schemas import TicketCreate

        args = self.args
        token = admin_token(url)
        n = args.intakes
        customer_domain = burst.bodies[0]["requester_email"].rpartition("@")[2]
        used = {b["requester_email"] for b in burst.bodies + burst.warmup}
        fresh_requesters = new_requesters(customer_domain, 3 * n + 20, used, tag=".inproc")
        burst_datas = [TicketCreate(**{**burst.bodies[0], "requester_email": e}) for e in fresh_requesters]
        mixed_datas = [TicketCreate(**b) for b in mixed.bodies]
        kind = "PostgreSQL" if report.kind == "postgresql" else "SQLite"
        counted: dict[str, intake_flow.Statements] = {}
        timing = triage = None
        errors: dict[str, str] = {}
        db = Database(url)
        try:
            try:
                intake_flow.time_intakes(db, token, burst_datas[:20])  # warm: rules, models, caches
                counted = {"burst": intake_flow.count_statements(db, token, burst_datas[20:20 + n]),
                           "mixed": intake_flow.count_statements(db, token, mixed_datas[:n])}
                timing = intake_flow.time_intakes(db, token, burst_datas[20 + n:20 + 3 * n])
            except Exception as exc:  # noqa: BLE001 - the flow moved under the bench: say so, go on
                errors["intake"] = f"{type(exc).__name__}: {exc}"
            try:
                triage = intake_flow.triage_ceiling(db, mixed_datas, args.ceiling_seconds)
            except Exception as exc:  # noqa: BLE001 - as above
                errors["triage"] = f"{type(exc).__name__}: {exc}"
        finally:
            db.dispose()
        created = max([r.load.ok for r in report.runs] + [1000])
        try:
            raw_s = raw_ceiling(url, full, created)
            raw = {"rows": created, "seconds": round(raw_s, 4), "rows_per_s": round(created / raw_s)}
        except Exception as exc:  # noqa: BLE001 - a new NOT NULL column the bench does not fill, say
            errors["raw"] = f"{type(exc).__name__}: {exc}"
            raw = None
        noop = {r.workers: r.rate for r in report.door if r.what == "noop"}
        report.in_process = {"statements": {k: v.as_json() for k, v in counted.items()},
                             "committed_intakes": timing.as_json() if timing else None, "errors": errors}
        report.ceilings = {"triage_pipeline": triage, "raw_executemany": raw,
                           "trivial_authenticated_post_per_s": {str(w): round(r, 1) for w, r in noop.items()}}

        print(f"\n   in-process, one thread, a fresh copy of the demo (bench/intake_flow.py calls "
              f"{intake_flow.FLOW_MODULES[0]} or, before issue 9, {intake_flow.FLOW_MODULES[1]}):")
        if "intake" in errors:
            print(f"   statements and time per intake: not measured ({errors['intake'][:300]})")
        else:
            print(f"   statements per request's transaction on {kind} (BEGIN/COMMIT not counted), {n} "
                  f"intakes each, through {intake_flow.flow_module().__name__}.create_ticket:")
        for name, st in counted.items():
            print(f"      {name:<6} intake {st.intake:5.1f} = flow {st.per('flow'):.1f} + response "
                  f"{st.per('response'):.1f} + commit {st.per('commit'):.1f}; with the door's auth "
                  f"{st.total:.1f}")
            for part in intake_flow.PARTS:
                if st.parts[part]:
                    print(f"             {part + ':':<9} {st.top(part)}")
        if timing is not None:
            print(f"   committed intakes one after another (burst body, new requesters): {timing.intakes} in "
                  f"{timing.elapsed:.1f} s, {timing.rate:.1f}/s, p50 {ms(pct(timing.latencies, 50)):.1f} ms, "
                  f"p99 {ms(pct(timing.latencies, 99)):.1f} ms")
            if timing.phases is None:
                print(f"   phases: not exposed ({intake_flow.flow_module().__name__} has no PHASES list)")
            else:
                total = sum(timing.phases.values()) or 1.0
                print("   phases, mean per intake: " + ", ".join(
                    f"{k} {ms(v):.2f} ms ({100 * v / total:.0f}%)" for k, v in timing.phases.items()))
        if triage is None:
            print(f"   ceiling, triage pipeline: not measured ({errors['triage'][:300]})")
        else:
            print(f"   ceiling, triage pipeline alone (dry run, mixed bodies, one thread): "
                  f"{triage['per_s']:,.0f} tickets/s, p50 {triage['p50_ms']:.2f} ms, "
                  f"p99 {triage['p99_ms']:.2f} ms")
        if raw is None:
            print(f"   ceiling, raw executemany: not measured ({errors['raw'][:300]})")
        else:
            print(f"   ceiling, raw executemany of {created:,} ticket rows (SQLAlchemy Core, one "
                  f"transaction): {raw['rows_per_s']:,} rows/s")

    # -- printing -------------------------------------------------------------------------------------------

    @staticmethod
    def print_run_header() -> None:
        print(f"\n   {'POST /api/v1/tickets':<22}{'workers':>8}{'tickets/s':>11}{'p50 ms':>9}{'p99 ms':>9}"
              f"{'max ms':>9}{'errors':>8}   stored / 201s")

    @staticmethod
    def print_run(run: Measured) -> None:
        r = run.load
        check = "" if run.stored == r.ok else "  MISMATCH"
        print(f"   {run.what:<22}{run.workers:>8}{r.rate:>11.1f}{run.latency(50):>9.0f}"
              f"{run.latency(99):>9.0f}{run.max_ms:>9.0f}{r.errors:>8}   {run.stored:,} / {r.ok:,}{check}",
              flush=True)
        for status, samples in r.error_samples.items():
            print(f"      {r.statuses[status]} × {status}: {samples[0][:200]!r}")

    @staticmethod
    def print_ratios(report: Report, workers_list: list[int]) -> None:
        lo, hi = min(workers_list), max(workers_list)
        parts = []
        for name in SCENARIOS:
            a, b = report.run(name, lo), report.run(name, hi)
            if a and b and a.rate:
                parts.append(f"{name} {b.rate / a.rate:.2f}x")
        if parts:
            print(f"   ratio {hi} workers / {lo} worker{'s' if lo > 1 else ''}: " + ", ".join(parts))

    @staticmethod
    def print_activity(report: Report) -> None:
        print("\n   backends' time (pg_stat_activity every ~100 ms; lock share = samples waiting on a Lock / "
              "samples in a transaction or statement):")
        for run in report.runs:
            a = run.activity
            if a is None:
                continue
            if a.error:
                print(f"   {run.what}, {run.workers} w: sampling broke off: {a.error}")
            if not a.samples:
                continue
            states = ", ".join(f"{label} {100 * n / a.samples:.1f}%" for label, n in a.states.most_common())
            print(f"   {run.what}, {run.workers} w: lock waits {100 * a.lock_share:.1f}% of busy time; "
                  f"{a.rounds} rounds, {a.samples} samples of {len(a.pids)} backends: {states}")
            if a.lock_samples:
                for (wait, relation, statement), n in a.lock_waits.most_common(3):
                    print(f"      {100 * n / a.lock_samples:3.0f}% of lock waits: {wait} on {relation}: "
                          f"{statement[:90]}")
                blockers = ", ".join(f"{s} {100 * k / max(sum(a.blockers.values()), 1):.0f}%"
                                     for s, k in a.blockers.most_common(3))
                print(f"      the blocking backends were: {blockers or '?'}")
            if a.holding:
                statement, n = a.holding.most_common(1)[0]
                print(f"      idle in transaction most often after: {statement}")

    @staticmethod
    def print_cpu(report: Report) -> None:
        print("\n   CPU, cores busy on average over each run (server = its process tree; generator = this "
              "bench's client thread; other = the rest of the machine, e.g. other work running meanwhile):")
        for run in report.runs:
            c, r = run.cpu, run.load
            pg = f", PostgreSQL {c['postgresql']:.2f}" if "postgresql" in c else ""
            print(f"   {run.what}, {run.workers} w: server {c['server']:.2f}{pg}, generator "
                  f"{c['generator']:.3f} ({1e6 * r.cpu_seconds / max(r.requests, 1):.0f} µs per request), "
                  f"other {c['other']:.2f}; machine {c['machine']:.2f} of {c['machine_cores']:.0f}")
            per = cpu_per_ticket(run)
            if per:
                parts = ", ".join(f"{k} {v:.1f}" for k, v in per.items() if k != "total")
                print(f"      CPU per ticket: {per['total']:.1f} ms ({parts}); {c['machine_cores']:.0f} cores "
                      f"at that cost give at most {cpu_bound_rate(run):,.0f} tickets/s")

    @staticmethod
    def print_statements_http(report: Report, reason: str | None) -> None:
        if reason is not None:
            print(f"   pg_stat_statements: {reason}; statements per intake are counted in-process below")
            return
        for run in report.runs:
            if run.statements is not None:
                calls, top = run.statements
                print(f"   pg_stat_statements, {run.what}, {run.workers} w: "
                      f"{calls / max(run.load.ok, 1):.1f} statements per 201 (all of the server's, "
                      "BEGIN/COMMIT included); most: "
                      + "; ".join(f"{c / max(run.load.ok, 1):.1f} {q[:60]}" for c, q in top[:4]))

    def print_door(self, report: Report, workers_list: list[int]) -> None:
        names = {"queues": f"GET {QUEUES} (token)", "health": f"GET {HEALTH}",
                 "noop": "POST trivial, token (noop_app)", "bare": "GET / bare FastAPI sync route"}
        title = f"the door ({self.args.clients} clients, {self.args.door_seconds:g} s)"
        print(f"\n   {title:<42}"
              f"{'workers':>8}{'req/s':>9}{'p50 ms':>8}{'p99 ms':>8}{'errors':>8}{'/ bare':>8}")
        for workers in workers_list:
            bare = report.door_of("bare", workers)
            for what in ("queues", "health", "noop", "bare"):
                run = report.door_of(what, workers)
                if run is None:
                    continue
                ratio = run.rate / bare.rate if bare and bare.rate else float("nan")
                print(f"   {names[what]:<42}{workers:>8}{run.rate:>9,.0f}{run.latency(50):>8.1f}"
                      f"{run.latency(99):>8.1f}{run.load.errors:>8}{ratio:>8.2f}")
                for status, samples in run.load.error_samples.items():
                    print(f"      {run.load.statuses[status]} × {status}: {samples[0][:200]!r}")
                if run.log_tail:
                    print(run.log_tail)
        gen = max((r.cpu["generator"] for r in report.door), default=0.0)
        print(f"   (the generator used at most {gen:.2f} of a core in these runs)")

    # -- 4. targets -----------------------------------------------------------------------------------------

    def targets(self, report: Report, workers_list: list[int]) -> None:
        pg = report.kind == "postgresql"
        out = report.targets

        def add(name: str, goal: str, figure: str, met: bool | str | None) -> None:
            result = (met if isinstance(met, str) else "not measured" if met is None
                      else "met" if met else "missed")
            out.append({"target": name, "goal": goal, "figure": figure, "result": result})

        rate_goal = TARGET_PG_RATE if pg else TARGET_SQLITE_RATE
        shape = PG_TARGET_WORKERS if pg else 1
        where = f"PostgreSQL, {shape} workers" if pg else "SQLite, one process"
        for name in SCENARIOS:
            run = report.run(name, shape)
            goal = (f">= {rate_goal:.0f} tickets/s, p99 <= {TARGET_P99_MS:.0f} ms"
                    + (", no errors" if pg else ""))
            if run is None:
                add(f"{where}, {name}", goal, "-", None)
                continue
            met = (run.rate >= rate_goal and run.latency(99) <= TARGET_P99_MS
                   and (run.load.errors == 0 or not pg))
            add(f"{where}, {name}", goal, f"{run.rate:.1f}/s, p99 {run.latency(99):,.0f} ms, "
                f"{run.load.errors} errors", met)
            per = cpu_per_ticket(run)
            if per:
                add(f"{where}, {name}: the cores' ceiling", "(reported)",
                    f"{cpu_bound_rate(run):,.0f}/s at {per['total']:.1f} ms CPU per ticket, "
                    f"{run.cpu['machine']:.2f} of {run.cpu['machine_cores']:.0f} cores busy", "info")
            if pg:
                a = run.activity
                add(f"{where}, {name}: lock waits", f"< {100 * TARGET_LOCK_SHARE:.0f}% of busy time",
                    f"{100 * a.lock_share:.1f}%" if a and a.samples else "-",
                    (a.lock_share < TARGET_LOCK_SHARE) if a and a.samples else None)
        if pg:
            for name in SCENARIOS:
                lo, hi = report.run(name, 1), report.run(name, PG_TARGET_WORKERS)
                if lo and hi and lo.rate:
                    add(f"{where}, {name}: 2 workers / 1", "(reported)", f"{hi.rate / lo.rate:.2f}x "
                        f"({lo.rate:.1f}/s with 1)", "info")
        for workers in (workers_list if report.door else []):
            queues, bare = report.door_of("queues", workers), report.door_of("bare", workers)
            if queues and bare and bare.rate:
                ratio = queues.rate / bare.rate
                add(f"door, {workers} worker{'s' if workers > 1 else ''}: GET queues / bare route",
                    ">= 0.33", f"{ratio:.2f} ({queues.rate:,.0f} / {bare.rate:,.0f} req/s)",
                    ratio >= TARGET_DOOR)
        st = report.in_process.get("statements")
        if st:
            for name, figures in st.items():
                add(f"statements per intake, {name}",
                    f"<= {TARGET_STATEMENTS:.0f}" if pg else "(a PostgreSQL goal)",
                    f"{figures['intake']:.1f} (+{figures['per_intake']['auth']:.1f} auth)",
                    figures["intake"] <= TARGET_STATEMENTS if pg else "info")
        print(f"\n   targets ({where}):")
        for t in out:
            print(f"   {t['result']:>12}  {t['target']:<52} {t['goal']:<40} {t['figure']}")
        c = report.ceilings
        if c:
            noop = ", ".join(f"{v:,.0f}/s with {w} worker{'s' if w != '1' else ''}"
                             for w, v in c["trivial_authenticated_post_per_s"].items())
            tri, raw = c["triage_pipeline"], c["raw_executemany"]
            tri_s = (f"{tri['per_s']:,.0f} tickets/s per thread (p50 {tri['p50_ms']:.2f} ms)"
                     if tri else "not measured")
            raw_s = f"{raw['rows_per_s']:,} rows/s" if raw else "not measured"
            print(f"   ceilings (same run): trivial authenticated POST {noop or 'not measured'}; triage "
                  f"pipeline {tri_s}; raw executemany {raw_s}")


# -- the command ---------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--database-url", action="append", default=None,
                   help="postgresql+psycopg://... (a scratch database is made beside it) or 'sqlite' (a "
                        "temporary file); repeat to run several; default: sqlite")
    p.add_argument("--scenario", default="burst,mixed", help="comma-separated: burst, mixed (or '' for none)")
    p.add_argument("--workers", default="1,2",
                   help="PostgreSQL server shapes, comma-separated (SQLite: always 1)")
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--seconds", type=float, default=20.0, help="each intake run")
    p.add_argument("--door-seconds", type=float, default=10.0, help="each door run")
    p.add_argument("--skip-door", action="store_true",
                   help="no door runs (GET queues, health, trivial POST, bare)")
    p.add_argument("--skip-ceilings", action="store_true",
                   help="no in-process part (statements, phases, triage, raw insert)")
    p.add_argument("--intakes", type=int, default=100,
                   help="in-process intakes per count (statements, timing)")
    p.add_argument("--ceiling-seconds", type=float, default=5.0, help="the triage pipeline's timed loop")
    p.add_argument("--demo-tickets", type=int, default=2400,
                   help="`tierline demo --tickets` (default: the full demo, as issue 9 measured)")
    p.add_argument("--demo-customers", type=int, default=150)
    p.add_argument("--demo-seed", type=int, default=42)
    p.add_argument("--no-demo-cache", action="store_true", help="load the demo for this run only")
    p.add_argument("--refresh-demo", action="store_true", help="reload the cached demo")
    p.add_argument("--clear-demo-cache", action="store_true",
                   help="drop every cached demo (on the servers --database-url names, and the files), "
                        "then exit")
    p.add_argument("--cache-dir", type=Path, default=demo_cache.default_cache_dir())
    p.add_argument("--log-level", default="WARNING", help="the servers' log level")
    p.add_argument("--json", type=Path, default=None, metavar="FILE", help="write every figure to FILE")
    args = p.parse_args(argv)
    args.database_url = args.database_url or ["sqlite"]
    args.scenario = [s for s in args.scenario.split(",") if s]
    try:
        args.workers = sorted({int(w) for w in args.workers.split(",") if w})
    except ValueError:
        p.error("--workers takes comma-separated numbers, e.g. 1,2")
    if set(args.scenario) - set(SCENARIOS):
        p.error(f"--scenario: one or more of {', '.join(SCENARIOS)}")
    if not args.workers or min(args.workers) < 1 or args.clients < 1 or args.seconds <= 0 \
            or args.door_seconds <= 0 or args.intakes < 1 or args.demo_tickets < 0 or args.demo_customers < 1:
        p.error("needs --workers >= 1, --clients >= 1, --seconds > 0, --door-seconds > 0, --intakes >= 1, "
                "--demo-tickets >= 0, --demo-customers >= 1")
    return args


def _terminate(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through every cleanup, as Ctrl-C does


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.clear_demo_cache:
        for dropped in demo_cache.clear_caches(args.database_url, args.cache_dir):
            print(f"dropped {dropped}")
        return 0
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    from tierline.platform.observability import configure_logging

    configure_logging("WARNING", json=False)  # the loader's and the models' INFO lines are not the report
    started = datetime.now(UTC)  # bench code: the wall-clock time of the report
    print(f"tierline intake benchmark (issue 9, section 2), {started:%Y-%m-%d %H:%M} UTC; "
          f"{demo_cache.source_state()}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; "
          f"{args.clients} clients, {args.seconds:g} s per intake run, {args.door_seconds:g} s per door run")
    reports: list[Report] = []
    rc = 0
    try:
        with tempfile.TemporaryDirectory(prefix="tierline-bench-logs-") as tmp:
            bench = Bench(args, Path(tmp))
            for url in args.database_url:
                report = bench.database(None if url == "sqlite" else url)
                reports.append(report)
                if any(r.stored != r.load.ok for r in report.runs):
                    rc = 1
    except KeyboardInterrupt:
        print("\ninterrupted: servers stopped, scratch databases dropped", file=sys.stderr)
        return 130
    finally:
        if args.json is not None and reports:
            args.json.write_text(json.dumps(to_json(args, started, reports), indent=1, default=str))
            print(f"\nfigures written to {args.json}")
    return rc


def to_json(args: argparse.Namespace, started: datetime, reports: list[Report]) -> dict[str, Any]:
    return {
        "meta": {"started_at": started.isoformat(timespec="seconds"), "source": demo_cache.source_state(),
                 "cores": os.cpu_count(), "clients": args.clients, "seconds": args.seconds,
                 "door_seconds": args.door_seconds, "scenarios": args.scenario, "workers": args.workers,
                 "demo": {"customers": args.demo_customers, "tickets": args.demo_tickets,
                          "seed": args.demo_seed}},
        "databases": [{"database": r.kind, "label": r.label, "demo": r.demo, "loads": r.loads,
                       "runs": [m.as_json() for m in r.runs], "door": [m.as_json() for m in r.door],
                       "in_process": r.in_process, "ceilings": r.ceilings, "targets": r.targets}
                      for r in reports],
    }


if __name__ == "__main__":
    sys.exit(main())
