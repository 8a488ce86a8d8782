"""Agents' open work kept by triggers (agent_workloads), and the one-statement claim of an assignee: the rows
always equal a recount from the tickets, the claim orders and checks capacity as documented, and under
concurrency it re-checks the row it locked and looks again when the room it saw was taken."""

from __future__ import annotations

import importlib.util

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update

from tests.tickets.workload_helpers import in_thread, insert_ticket, joined, recounted, wait_until_blocked
from tests.triage.assignment_helpers import make_queue
from tierline.platform import clock
from tierline.platform.db import Database, core_connection
from tierline.platform.migrate import MIGRATIONS
from tierline.tickets import state_machine as sm
from tierline.tickets import workloads
from tierline.tickets.models import PRIORITIES, STATUSES, QueueCursor, Ticket
from tierline.tickets.reads import open_work
from tierline.tickets.workloads import AgentWorkload, Claimant
from tierline.triage.assignment import PRIORITY_WEIGHTS


def _users(factory, n: int) -> list[int]:
    return [factory.user(roles=["agent_l1"]).id for _ in range(n)]


def _cursor(conn, queue_id: int) -> int | None:
    return conn.execute(select(QueueCursor.last_user_id).where(QueueCursor.queue_id == queue_id)).scalar_one()


# -- the rows ---------------------------------------------------------------------------------------------

def test_every_user_has_a_workload_row_from_the_start(db, factory):
    a, b = _users(factory, 2)
    with db.engine.connect() as conn:
        assert workloads.stored(conn) == {a: (0, 0), b: (0, 0)}


def test_the_rows_count_exactly_the_open_statuses_weighted_as_assignment_weighs(db, factory):
    """The triggers spell the open statuses and the weights in SQL; here they meet sm.UNSOLVED and
    triage.assignment.PRIORITY_WEIGHTS."""
    (agent,) = _users(factory, 1)
    with db.engine.begin() as conn:
        for status in STATUSES:
            for priority in PRIORITIES:
                insert_ticket(conn, assignee_id=agent, status=status, priority=priority)
        open_tickets = len(sm.UNSOLVED) * len(PRIORITIES)
        load = len(sm.UNSOLVED) * sum(PRIORITY_WEIGHTS[p] for p in PRIORITIES)
        assert workloads.stored(conn)[agent] == (open_tickets, load) == recounted(conn, [agent])[agent]
    assert set(PRIORITY_WEIGHTS) == set(PRIORITIES)


def test_open_work_reads_the_rows_of_the_users_asked_for(db, factory):
    a, b = _users(factory, 2)
    with db.engine.begin() as conn:
        insert_ticket(conn, assignee_id=a, priority="P1")
        insert_ticket(conn, assignee_id=a, priority="P4", status="pending_customer")
        insert_ticket(conn, assignee_id=b, priority="P2", status="solved")
    with db.session(write=False) as session:
        assert open_work(session, user_ids=[a, b]) == {a: (2, 5), b: (0, 0)}
        assert open_work(session, user_ids=[]) == {}


_STATUS = st.sampled_from(STATUSES)
_PRIORITY = st.sampled_from(PRIORITIES)
_WHO = st.integers(0, 3)  # one of three users, or 3: nobody
_WHICH = st.integers(0, 1000)  # a ticket, modulo how many there are
_OPS = st.lists(st.one_of(
    st.tuples(st.just("insert"), _WHO, _STATUS, _PRIORITY),
    st.tuples(st.just("status"), _WHICH, _STATUS),
    st.tuples(st.just("priority"), _WHICH, _PRIORITY),
    st.tuples(st.just("assign"), _WHICH, _WHO),
    st.tuples(st.just("everything"), _WHICH, _WHO, _STATUS, _PRIORITY),
    st.tuples(st.just("move_all"), _WHO, _WHO),
    st.tuples(st.just("delete"), _WHICH),
), max_size=30)


@pytest.fixture
def three(factory) -> list[int]:
    """Three users, made once per test (hypothesis runs every example with the same fixture values)."""
    return _users(factory, 3)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=_OPS)
def test_the_triggers_keep_every_row_equal_to_a_recount_from_the_tickets(db, three, ops):
    users = three
    who = [*users, None]
    with db.engine.connect() as conn:
        example = conn.begin_nested()  # each example starts from no tickets
        ids: list[int] = []
        for op, *args in ops:
            if op == "insert":
                ids.append(insert_ticket(conn, assignee_id=who[args[0]], status=args[1], priority=args[2]))
                continue
            if op == "move_all":  # one statement changing many rows
                source = Ticket.assignee_id.is_(None) if who[args[0]] is None else (
                    Ticket.assignee_id == who[args[0]])
                conn.execute(update(Ticket).where(source).values(assignee_id=who[args[1]]))
                continue
            if not ids:
                continue
            ticket_id = ids[args[0] % len(ids)]
            row = Ticket.id == ticket_id
            if op == "status":
                conn.execute(update(Ticket).where(row).values(status=args[1]))
            elif op == "priority":
                conn.execute(update(Ticket).where(row).values(priority=args[1]))
            elif op == "assign":
                conn.execute(update(Ticket).where(row).values(assignee_id=who[args[1]]))
            elif op == "everything":
                conn.execute(update(Ticket).where(row).values(assignee_id=who[args[1]], status=args[2],
                                                              priority=args[3]))
            else:
                conn.execute(delete(Ticket).where(row))
                ids.remove(ticket_id)
        stored = workloads.stored(conn)
        assert {uid: stored[uid] for uid in users} == recounted(conn, users)
        assert workloads.recount(conn) == 0
        example.rollback()


def test_recount_repairs_rows_the_triggers_never_saw(db, factory):
    a, b = _users(factory, 2)
    with db.engine.begin() as conn:
        insert_ticket(conn, assignee_id=a, priority="P1")
        conn.execute(update(AgentWorkload).where(AgentWorkload.user_id == a).values(open_tickets=7))
        conn.execute(delete(AgentWorkload).where(AgentWorkload.user_id == b))
        assert workloads.recount(conn) == 2
        assert workloads.stored(conn) == {a: (1, 4), b: (0, 0)}


def test_a_new_queue_comes_with_its_cursor(db, admin):
    queue = make_queue(admin, "L1 general")
    with db.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(QueueCursor)
                            .where(QueueCursor.queue_id == queue["id"])).scalar_one() == 1
        assert _cursor(conn, queue["id"]) is None


# -- the migration's backfill ------------------------------------------------------------------------------

def _revision_0017():
    path = MIGRATIONS / "versions" / "0017_agent_workloads.py"
    spec = importlib.util.spec_from_file_location("revision_0017", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migrations_backfill_gives_every_user_a_row_and_every_queue_a_cursor(db, admin, factory):
    """The backfill statements of revision 0017, run on today's schema with its rows and cursors taken away
    (upgrading a whole scratch database is test_migrations' work)."""
    a, b, c = _users(factory, 3)
    q1, q2 = (make_queue(admin, name)["id"] for name in ("L1 one", "L1 two"))
    revision = _revision_0017()
    with db.engine.connect() as conn:
        example = conn.begin_nested()
        for assignee, status, priority in ((a, "open", "P1"), (a, "pending_customer", "P3"),
                                           (a, "solved", "P1"), (b, "new", "P4"), (None, "open", "P2")):
            insert_ticket(conn, assignee_id=assignee, status=status, priority=priority)
        conn.execute(update(QueueCursor).where(QueueCursor.queue_id == q1).values(last_user_id=b))
        conn.execute(delete(QueueCursor).where(QueueCursor.queue_id == q2))
        conn.execute(delete(AgentWorkload))
        conn.execute(text(revision.BACKFILL))
        conn.execute(text(revision.CURSORS))
        stored = workloads.stored(conn)
        assert (stored[a], stored[b], stored[c]) == ((2, 6), (1, 1), (0, 0))
        assert stored == workloads.counted(conn)
        cursors = dict(conn.execute(select(QueueCursor.queue_id, QueueCursor.last_user_id)).all())
        assert cursors == {q1: b, q2: None}
        example.rollback()


# -- the claim, one at a time ------------------------------------------------------------------------------

def _claim(db: Database, queue_id: int, strategy: str, candidates: list[Claimant]) -> int | None:
    with db.unit_of_work() as session:
        return workloads.claim(core_connection(session), queue_id=queue_id, strategy=strategy,
                               candidates=candidates, now=clock.now())


_ROWS = st.lists(st.tuples(st.integers(0, 4), st.integers(-2, 0), st.lists(_PRIORITY, max_size=4)),
                 min_size=4, max_size=4)  # per agent: capacity, rank, the priorities of their open tickets


@pytest.fixture
def desk(admin, factory) -> tuple[list[int], int]:
    return _users(factory, 4), make_queue(admin, "L1 general")["id"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=_ROWS, strategy=st.sampled_from(["round_robin", "least_loaded", "skills"]),
       cursor=st.integers(0, 4), chosen=st.lists(st.booleans(), min_size=4, max_size=4))
def test_a_claim_picks_what_the_strategy_says_among_those_with_room(db, desk, rows, strategy, cursor, chosen):
    """For random open work, capacities, ranks and cursors: the statement's pick is the documented order's
    first candidate with room, and the cursor moves to it (or stays when nobody has room)."""
    users, queue_id = desk
    with db.engine.connect() as conn:
        example = conn.begin_nested()
        last = users[cursor - 1] if cursor else None
        conn.execute(update(QueueCursor).where(QueueCursor.queue_id == queue_id).values(last_user_id=last))
        candidates = []
        for uid, (capacity, rank, held), pick in zip(users, rows, chosen, strict=True):
            for priority in held:
                insert_ticket(conn, assignee_id=uid, priority=priority)
            if pick:
                candidates.append(Claimant(user_id=uid, capacity=capacity, rank=rank))
        work = recounted(conn, users)
        room = [c for c in candidates if work[c.user_id][0] < c.capacity]
        if strategy == "round_robin":
            ordered = sorted(room, key=lambda c: (last is not None and c.user_id <= last, c.user_id))
        elif strategy == "least_loaded":
            ordered = sorted(room, key=lambda c: (work[c.user_id][1], c.user_id))
        else:
            ordered = sorted(room, key=lambda c: (c.rank, work[c.user_id][1], c.user_id))
        expected = ordered[0].user_id if ordered else None
        got = workloads.claim(conn, queue_id=queue_id, strategy=strategy, candidates=candidates,
                              now=clock.now())
        assert got == expected
        assert _cursor(conn, queue_id) == (expected if expected is not None else last)
        example.rollback()


def test_a_claim_with_nobody_to_pick_leaves_the_cursor_where_it_was(db, admin, factory):
    a, b = _users(factory, 2)
    queue_id = make_queue(admin, "L1 general")["id"]
    assert _claim(db, queue_id, "round_robin", [Claimant(a, 1)]) == a
    with db.engine.begin() as conn:
        insert_ticket(conn, assignee_id=a)
    assert _claim(db, queue_id, "least_loaded", [Claimant(a, 1), Claimant(b, 0)]) is None
    assert _claim(db, queue_id, "least_loaded", []) is None
    with db.engine.connect() as conn:
        assert _cursor(conn, queue_id) == a


def test_a_claim_whose_transaction_rolls_back_leaves_nothing_behind(db, admin, factory):
    a, b = _users(factory, 2)
    queue_id = make_queue(admin, "L1 general")["id"]
    with pytest.raises(RuntimeError), db.unit_of_work() as session:
        conn = core_connection(session)
        assert workloads.claim(conn, queue_id=queue_id, strategy="round_robin",
                               candidates=[Claimant(a, 5), Claimant(b, 5)], now=clock.now()) == a
        insert_ticket(conn, assignee_id=a, queue_id=queue_id)
        raise RuntimeError("the intake failed after its claim")
    with db.engine.connect() as conn:
        assert _cursor(conn, queue_id) is None
        stored = workloads.stored(conn)
        assert (stored[a], stored[b]) == ((0, 0), (0, 0))
    assert _claim(db, queue_id, "round_robin", [Claimant(a, 5), Claimant(b, 5)]) == a


def test_a_claim_makes_the_cursor_of_a_queue_that_has_none(db, admin, factory):
    (a,) = _users(factory, 1)
    queue_id = make_queue(admin, "L1 general")["id"]
    with db.engine.begin() as conn:
        conn.execute(delete(QueueCursor).where(QueueCursor.queue_id == queue_id))
    assert _claim(db, queue_id, "round_robin", [Claimant(a, 1)]) == a
    with db.engine.connect() as conn:
        assert _cursor(conn, queue_id) == a


def test_a_claim_finds_an_agent_whose_workload_row_is_missing(db, admin, factory):
    a, b = _users(factory, 2)
    queue_id = make_queue(admin, "L1 general")["id"]
    with db.engine.begin() as conn:
        conn.execute(delete(AgentWorkload).where(AgentWorkload.user_id.in_([a, b])))
    assert _claim(db, queue_id, "least_loaded", [Claimant(b, 1)]) == b


def test_a_claim_refuses_an_unknown_strategy(db):
    with db.engine.connect() as conn, pytest.raises(ValueError, match="strategy"):
        workloads.claim(conn, queue_id=1, strategy="random", candidates=[Claimant(1, 1)], now=clock.now())


# -- the claim under concurrency (real commits, several connections) ---------------------------------------

def _holding(db: Database, queue_id: int, strategy: str, candidates: list[Claimant], *,
             also: list[tuple[int, str]] = ()):
    """A write transaction that claimed (and saved its ticket, and made the changes in `also`: ticket id and
    its new status), left open for the test to commit."""
    session = db.session()
    conn = core_connection(session)
    user_id = workloads.claim(conn, queue_id=queue_id, strategy=strategy, candidates=candidates,
                              now=clock.now())
    insert_ticket(conn, assignee_id=user_id, queue_id=queue_id)
    for ticket_id, status in also:
        conn.execute(update(Ticket).where(Ticket.id == ticket_id).values(status=status))
    return session, user_id


def _claim_and_save(db: Database, queue_id: int, strategy: str, candidates: list[Claimant]) -> int | None:
    with db.unit_of_work() as session:
        conn = core_connection(session)
        user_id = workloads.claim(conn, queue_id=queue_id, strategy=strategy, candidates=candidates,
                                  now=clock.now())
        insert_ticket(conn, assignee_id=user_id, queue_id=queue_id)
        return user_id


@pytest.mark.committing
def test_a_claim_that_waited_on_a_row_re_checks_capacity_on_it_and_takes_the_next(db, admin, factory):
    """EvalPlanQual, verified: the second claim (another queue) waits on the first's locked row; when the
    first commits, that row is full, so ORDER BY ... LIMIT 1 FOR NO KEY UPDATE skips it for the next."""
    a, b = _users(factory, 2)
    q1, q2 = (make_queue(admin, name)["id"] for name in ("L1 one", "L1 two"))
    first, picked = _holding(db, q1, "least_loaded", [Claimant(a, 1)])
    assert picked == a
    thread, box = in_thread(lambda: _claim_and_save(db, q2, "least_loaded", [Claimant(a, 1), Claimant(b, 1)]))
    try:
        wait_until_blocked(db)
    finally:
        first.commit()
        first.close()
    assert joined(thread, box) == b
    with db.engine.connect() as conn:
        assert workloads.stored(conn)[a] == (1, 2) and workloads.stored(conn)[b] == (1, 2)


@pytest.mark.committing
def test_a_claim_looks_again_when_the_room_it_saw_was_taken_and_another_freed(db, admin, factory):
    """The second claim saw room only at a; while it waited, a filled up and b's ticket was solved. Its
    statement, on the old snapshot, finds nobody; the claim runs it again and finds b."""
    a, b = _users(factory, 2)
    q1, q2 = (make_queue(admin, name)["id"] for name in ("L1 one", "L1 two"))
    with db.engine.begin() as conn:
        held = insert_ticket(conn, assignee_id=b)
    first, picked = _holding(db, q1, "least_loaded", [Claimant(a, 1)], also=[(held, "solved")])
    assert picked == a
    thread, box = in_thread(lambda: _claim_and_save(db, q2, "least_loaded", [Claimant(a, 1), Claimant(b, 1)]))
    try:
        wait_until_blocked(db)
    finally:
        first.commit()
        first.close()
    assert joined(thread, box) == b


@pytest.mark.committing
def test_a_claim_that_waited_for_the_cursor_orders_by_the_loads_committed_meanwhile(db, admin, factory):
    """Same queue: the second claim waits for the cursor. Its snapshot predates the first claim's ticket, so
    it must not order by it: it runs again after the lock and picks the now lighter agent."""
    a, b = _users(factory, 2)
    queue_id = make_queue(admin, "L1 general")["id"]
    first, picked = _holding(db, queue_id, "least_loaded", [Claimant(a, 5), Claimant(b, 5)])
    assert picked == a
    thread, box = in_thread(lambda: _claim_and_save(db, queue_id, "least_loaded",
                                                    [Claimant(a, 5), Claimant(b, 5)]))
    try:
        wait_until_blocked(db)
    finally:
        first.commit()
        first.close()
    assert joined(thread, box) == b
