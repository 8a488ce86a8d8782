"""SLA benchmark: business-time maths per second, and how late breaches fire with a worker under load.

    python bench/sla.py [--tickets 10000] [--spread 30] [--database-url postgresql+psycopg://...]

Part 1 builds random business calendars (zones with DST, half-hour DST, odd offsets; split shifts, overnight
intervals, holidays), warms them, then times `add_business_minutes` and `business_minutes_between` on
random starts and targets up to five business days, one core. The ceiling beside it is the same number of
plain calendar-time additions (`start + timedelta`), the least any due-date computation can cost.

Part 2 migrates a scratch database, creates an SLA policy and N open tickets through the real intake, of
which `--breaching` have first-response targets falling due over `--spread` seconds (the rest tomorrow),
starts `tierline worker` as a separate process, and measures for every breach the delay from its due instant
to the moment the worker recorded it (p50, p99, max). The ceiling beside it is the worker's poll interval.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

from support import ROOT, percentile, scratch_database, ticket_bodies

from tierline.platform import clock
from tierline.platform.auth.actor import Actor
from tierline.platform.db import Database
from tierline.platform.migrate import upgrade
from tierline.sla.business_time import BusinessCalendar, add_business_minutes, business_minutes_between

ZONES = ["Europe/Berlin", "America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kathmandu",
         "America/Sao_Paulo", "Asia/Tokyo", "UTC"]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def random_calendar(rnd: random.Random) -> BusinessCalendar:
    shape = rnd.choice(["office", "split", "overnight", "24/7", "follow_the_sun"])
    if shape == "24/7":
        hours: object = "24/7"
    elif shape == "office":
        hours = {d: [["09:00", "17:00"]] for d in DAYS[:5]}
    elif shape == "split":
        hours = {d: [["08:30", "12:00"], ["13:00", "17:30"]] for d in DAYS[:5]}
    elif shape == "overnight":
        hours = {d: [["22:00", "06:00"]] for d in DAYS[:5]}
    else:
        hours = {d: [["00:00", "24:00"]] for d in DAYS[:5]}
    holidays = [f"2026-{m:02d}-{d:02d}" for m, d in ((1, 1), (5, 1), (12, 24), (12, 25), (12, 31))]
    return BusinessCalendar.from_dict({"timezone": rnd.choice(ZONES), "hours": hours, "holidays": holidays})


def maths(n_calendars: int, calls: int, seed: int) -> None:
    rnd = random.Random(seed)
    calendars = [random_calendar(rnd) for _ in range(n_calendars)]
    base = datetime(2026, 1, 1, tzinfo=UTC)
    cases = [(rnd.choice(calendars), base + timedelta(seconds=rnd.uniform(0, 360 * 86400)),
              rnd.uniform(1, 5 * 8 * 60)) for _ in range(calls)]
    for cal, start, minutes in cases[:2000]:  # warm: tables are built once per calendar, not counted
        add_business_minutes(cal, start, minutes)
        business_minutes_between(cal, start, start + timedelta(days=30))

    def timed(fn) -> tuple[float, list[float]]:  # noqa: ANN001
        lat = []
        t0 = time.perf_counter()  # perf timers measure durations; they are not the application clock
        for cal, start, minutes in cases:
            s = time.perf_counter()
            fn(cal, start, minutes)
            lat.append(time.perf_counter() - s)
        return calls / (time.perf_counter() - t0), lat

    add_rate, add_lat = timed(add_business_minutes)
    between_rate, between_lat = timed(lambda c, s, m: business_minutes_between(c, s, s + timedelta(minutes=m * 3)))
    ceiling_rate, _ = timed(lambda c, s, m: s + timedelta(minutes=m))
    print(f"business-time maths: {n_calendars} random calendars, {calls:,} calls each, one core")
    print(f"  add_business_minutes      {add_rate:>12,.0f} /s   p50 {percentile(add_lat, .5) * 1e6:6.2f} µs"
          f"   p99 {percentile(add_lat, .99) * 1e6:6.2f} µs")
    print(f"  business_minutes_between  {between_rate:>12,.0f} /s   p50 {percentile(between_lat, .5) * 1e6:6.2f} µs"
          f"   p99 {percentile(between_lat, .99) * 1e6:6.2f} µs")
    print(f"  ceiling: start+timedelta  {ceiling_rate:>12,.0f} /s   (add is {add_rate / ceiling_rate:.1%} of it)")


def breaches(url: str, label: str, tickets: int, breaching: int, spread: float, poll: float) -> None:
    from tierline.sla import policies
    from tierline.sla.models import SlaEvent
    from tierline.flows import intake
    from tierline.tickets.schemas import TicketCreate
    from sqlalchemy import func, select

    db = Database(url)
    upgrade(db)
    actor = Actor.system("bench")
    target_minutes = 1.0
    with db.unit_of_work() as session:
        policies.create_policy(session, actor=actor, values={
            "name": "Bench", "description": "", "position": 0, "active": True, "match": {}, "calendar_id": None,
            "targets": [{"metric": "first_response", "priority": p, "minutes": target_minutes,
                         "business_hours": False} for p in ("P1", "P2", "P3", "P4")],
            "warning_percent": 99, "pause_statuses": ["pending_customer", "on_hold"], "on_breach": {}})
    bodies = ticket_bodies(400)

    def create(first: int, count: int, due_of) -> None:  # noqa: ANN001
        for start in range(first, first + count, 500):
            with db.unit_of_work() as session:
                for i in range(start, min(first + count, start + 500)):
                    clock.freeze(due_of(i) - timedelta(minutes=target_minutes))
                    body = dict(bodies[i % len(bodies)])
                    body["requester_email"] = f"bench{i}@example.org"
                    intake.create_ticket(session, actor=actor, data=TicketCreate(**body))
            clock.unfreeze()

    # The open tickets that do not breach during the run: their targets fall due tomorrow.
    background = tickets - breaching
    t0 = time.perf_counter()
    tomorrow = datetime.now(UTC) + timedelta(days=1)  # bench harness, not application code
    create(0, background, lambda i: tomorrow)
    rate = background / (time.perf_counter() - t0) if background else 50.0
    # The breaching ones fall due over `spread` seconds, starting once they are all created.
    head_start = breaching / rate * 1.5 + 10
    due_base = datetime.now(UTC) + timedelta(seconds=head_start)
    create(background, breaching, lambda i: due_base + timedelta(
        seconds=spread * (i - background) / max(1, breaching - 1)))
    created_s = time.perf_counter() - t0
    print(f"\nbreach timers on {label}: {tickets:,} open tickets ({breaching:,} falling due over {spread:.0f} s) "
          f"created in {created_s:.1f} s ({tickets / created_s:,.0f}/s through intake)")
    if datetime.now(UTC) > due_base:
        print("  warning: creating took longer than the head start; the first breaches start late")
    env = dict(os.environ, TIERLINE_DATABASE_URL=url, TIERLINE_LOG_LEVEL="WARNING",
               PYTHONPATH=str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", ""))
    worker = subprocess.Popen([sys.executable, "-m", "tierline.cli", "worker", "--poll", str(poll)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + head_start + spread + max(120.0, breaching / 20)
        while time.monotonic() < deadline:
            with db.session(write=False) as session:
                done = session.scalar(select(func.count(SlaEvent.id)).where(SlaEvent.kind == "breach")) or 0
            if done >= breaching:
                break
            time.sleep(1)
    finally:
        worker.send_signal(signal.SIGINT)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
    with db.session(write=False) as session:
        rows = session.execute(select(SlaEvent.at, SlaEvent.created_at).where(SlaEvent.kind == "breach")).all()
    delays = [(created - due).total_seconds() for due, created in rows]
    print(f"  breaches recorded {len(delays):,} of {breaching:,}")
    if delays:
        print(f"  delay due -> recorded: p50 {percentile(delays, .5) * 1000:,.0f} ms   "
              f"p99 {percentile(delays, .99) * 1000:,.0f} ms   max {max(delays) * 1000:,.0f} ms")
    print(f"  ceiling: the worker polls every {poll * 1000:.0f} ms when idle (a due job waits up to that long)")
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calendars", type=int, default=50)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--breaching", type=int, default=2_000, help="how many of them fall due during the run")
    parser.add_argument("--spread", type=float, default=30.0, help="seconds over which those targets fall due")
    parser.add_argument("--poll", type=float, default=0.2, help="the worker's idle poll interval, seconds")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-maths", action="store_true")
    args = parser.parse_args()
    if not args.skip_maths:
        maths(args.calendars, args.calls, args.seed)
    if args.tickets > 0:
        with scratch_database(args.database_url) as (url, label):
            breaches(url, label, args.tickets, min(args.breaching, args.tickets), args.spread, args.poll)


if __name__ == "__main__":
    main()
