"""Console page speed (issue 13, section 4): the first page of a queue holding --tickets open tickets, rendered
server-side, against the target of 300 ms on PostgreSQL.

    python bench/console_queue.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    python bench/console_queue.py                                    # SQLite, a temporary file
    python bench/console_queue.py --tickets 2000 --runs 20           # a quick figure

Setup (not timed): a scratch database, migrated; an SLA policy, one L1 queue, a customer, an admin who logs in
through the console; --tickets tickets through the real intake (triage, SLA clocks, search documents), all in
that queue and left open. Timed: GET /queues?view=queue&queue=<id> (50 rows sorted by SLA due, the page with
its sidebar and filters), in-process through FastAPI's TestClient with the admin's session cookie, --runs
times after 3 warm-up requests; the figure is the time from sending the request to having the whole HTML, so
it includes the test client's own small share. Also timed: the same page with a full-text search and a
priority filter, and a ticket's page.
"""

from __future__ import annotations

import argparse
import time

from support import percentile, scratch_database, ticket_bodies

from fastapi.testclient import TestClient

from tierline.app import create_app
from tierline.flows import intake
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.actor import Actor
from tierline.platform.db import Database
from tierline.platform.migrate import upgrade
from tierline.settings import Settings
from tierline.sla import policies
from tierline.sla.schemas import PolicyCreate
from tierline.tickets import queues
from tierline.tickets.schemas import TicketCreate

TARGET_MS = 300.0
ACTOR = Actor.system("bench")
EMAIL, PASSWORD = "bench-admin@tierline.example", "bench password 1234"


def _setup(database: Database, tickets: int) -> int:
    with database.unit_of_work() as s:
        auth_service.create_user(s, actor=ACTOR, email=EMAIL, name="Bench Admin", roles=["admin"],
                                 password=PASSWORD)
        queue = queues.create(s, actor=ACTOR, name="L1 general", tier="L1")
        targets = [{"metric": "first_response", "priority": p, "minutes": m}
                   for p, m in (("P1", 60), ("P2", 240), ("P3", 480), ("P4", 1440))]
        policies.create_policy(s, actor=ACTOR, values=PolicyCreate(name="Standard", targets=targets).model_dump())
        queue_id = queue.id
    bodies = ticket_bodies(400)
    started = time.perf_counter()
    done = 0
    while done < tickets:
        with database.unit_of_work() as s:
            for _ in range(min(200, tickets - done)):
                body = {**bodies[done % len(bodies)], "queue_id": queue_id, "tier": "L1"}
                intake.create_ticket(s, actor=ACTOR, data=TicketCreate(**body))
                done += 1
        print(f"\r  {done:,} tickets ({time.perf_counter() - started:.0f} s)", end="", flush=True)
    print()
    return queue_id


def _timed(client: TestClient, url: str, runs: int) -> list[float]:
    for _ in range(3):
        assert client.get(url).status_code == 200
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        r = client.get(url)
        out.append((time.perf_counter() - start) * 1000)
        assert r.status_code == 200, r.text[:300]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    with scratch_database(args.database_url) as (url, label):
        database = Database(url)
        upgrade(database)
        print(f"{label}: {args.tickets:,} open tickets in one queue (setup, not timed)")
        queue_id = _setup(database, args.tickets)
        app = create_app(database, Settings(database_url=url, log_level="WARNING", embedded_worker=False),
                         embedded_worker=False)
        with TestClient(app) as client:
            r = client.post("/login", data={"email": EMAIL, "password": PASSWORD}, follow_redirects=False)
            assert r.status_code == 303, r.text
            first = client.get(f"/queues?view=queue&queue={queue_id}").text
            key = first.split('<td class="key"><a href="/tickets/', 1)[1].split('"', 1)[0]
            pages = {
                "queue, first page (50 rows by SLA due)": f"/queues?view=queue&queue={queue_id}",
                "queue, P1 and P2 with a full-text search": f"/queues?view=queue&queue={queue_id}&priority=P1"
                                                            "&priority=P2&q=timeout",
                "a ticket's page": f"/tickets/{key}",
            }
            print(f"server-side time to the whole HTML, {args.runs} runs each (target {TARGET_MS:.0f} ms for "
                  "the queue's first page on PostgreSQL):")
            for name, url_ in pages.items():
                ms = _timed(client, url_, args.runs)
                print(f"  {name:<45} p50 {percentile(ms, .5):7.1f} ms   p95 {percentile(ms, .95):7.1f} ms   "
                      f"max {max(ms):7.1f} ms")
        database.dispose()


if __name__ == "__main__":
    main()
