"""Migration 0025 on a database with problems: the stored figures go, and going back down gives the columns
back filled from the links (and PostgreSQL its link function); links and the one-live-problem index survive
SQLite's rebuild of the table both ways."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, column, select, table, text

from tests.test_migrations import _alembic, scratch  # noqa: F401  (scratch: a fixture, each database kind)
from tierline.customers import service as customers_service
from tierline.flows import intake
from tierline.platform.auth.actor import Actor
from tierline.platform.db import Database, UTCDateTime
from tierline.platform.migrate import upgrade
from tierline.problems import service
from tierline.problems.schemas import ProblemQuery
from tierline.tickets.schemas import TicketCreate

ACTOR = Actor.system("test")
BEFORE = "0024_problem_link_function"
FIGURES = ("ticket_count", "customer_count", "arr_exposure_cents", "impact_score", "first_seen", "last_seen")
_STORED = table("problems", column("id", BigInteger), column("ticket_count", Integer),
                column("customer_count", Integer), column("arr_exposure_cents", BigInteger),
                column("impact_score", Integer), column("first_seen", UTCDateTime()),
                column("last_seen", UTCDateTime()))


def _tickets(db: Database, customer_ids: list[int], first: int) -> None:
    with db.unit_of_work() as s:
        for n, customer_id in enumerate(customer_ids, start=first):
            intake.create_ticket(s, actor=ACTOR, data=TicketCreate(
                subject="Replica lag", description="The read replica is far behind the primary.",
                requester_email=f"dba{n}@example.org", customer_id=customer_id, error_code="DB-1042"))


def _read(db: Database) -> list[tuple]:
    with db.session(write=False) as s:
        found, _ = service.list_(s, query=ProblemQuery(status=None))
        return [(p.id, *(getattr(p, name) for name in FIGURES)) for p in found]


def _count(db: Database, sql: str) -> int:
    with db.engine.connect() as conn:
        return conn.execute(text(sql)).scalar()


def _one_live_problem_index_is_partial(db: Database) -> bool:
    sql = ("SELECT sql FROM sqlite_master WHERE name = 'uq_problems_signature_active'"
           if db.engine.dialect.name == "sqlite" else
           "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_problems_signature_active'")
    with db.engine.connect() as conn:
        return "<> 'closed'" in conn.execute(text(sql)).scalar().replace("::text", "")


def test_the_figures_go_and_come_back_filled_from_the_links(scratch):  # noqa: F811
    upgrade(scratch)
    with scratch.unit_of_work() as s:
        customers = [customers_service.create(s, actor=ACTOR, name=f"Customer {i}", external_id=f"c{i}",
                                              plan="business", arr=arr)
                     for i, arr in enumerate((12_000, 48_000, 150_000))]
        s.flush()
        ids = [c.id for c in customers]
    _tickets(scratch, [ids[0], ids[1], ids[2], ids[0], ids[1], ids[2], None], first=0)
    [read] = _read(scratch)
    assert read[1:4] == (7, 3, 21_000_000)
    links = _count(scratch, "SELECT count(*) FROM problem_tickets")
    assert links == 7

    _alembic(scratch, "downgrade", BEFORE)
    with scratch.engine.connect() as conn:
        assert [tuple(r) for r in conn.execute(select(_STORED))] == [read]
    assert _count(scratch, "SELECT count(*) FROM problem_tickets") == links
    assert _count(scratch, "SELECT count(*) FROM problem_signatures WHERE problem_id IS NOT NULL") == 1
    assert _one_live_problem_index_is_partial(scratch)
    if scratch.engine.dialect.name == "postgresql":
        assert _count(scratch, "SELECT count(*) FROM pg_proc WHERE proname = 'tierline_problem_link'") == 1

    _alembic(scratch, "upgrade", "head")
    assert _read(scratch) == [read]
    assert _count(scratch, "SELECT count(*) FROM problem_tickets") == links
    assert _one_live_problem_index_is_partial(scratch)
    if scratch.engine.dialect.name == "postgresql":
        assert _count(scratch, "SELECT count(*) FROM pg_proc WHERE proname = 'tierline_problem_link'") == 0
    _tickets(scratch, [ids[2]], first=7)  # the live problem is fed as before
    assert _read(scratch)[0][1:4] == (8, 3, 21_000_000)
