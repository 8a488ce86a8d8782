"""Recurrence: a signature seen often enough, from enough customers, inside the window becomes a problem."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import SYSTEM
from tests.problems.conftest import ARR, World, links, outbox, problems, record, row_counts, save_ticket
from tierline.platform import clock
from tierline.platform.audit import AuditEvent
from tierline.problems import service
from tierline.problems.models import FIXED, OPEN


def _audit_actions(db, action: str) -> int:  # noqa: ANN001
    from sqlalchemy import func, select

    with db.session(write=False) as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)) or 0


def _audit_events(db, action: str) -> list[AuditEvent]:  # noqa: ANN001
    from sqlalchemy import select

    with db.session(write=False) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def _wave(world: World, customers: list[int], **fields) -> list[tuple[int, dict | None]]:  # noqa: ANN003
    return [record(world.db, customer_id=world.customer_ids[c], component_id=world.component_id, **fields)
            for c in customers]


def test_it_creates_a_problem_when_a_signature_reaches_n_tickets_from_m_customers(world):
    answers = _wave(world, [0, 1, 0, 1, 2], impact=30)
    assert [a for _, a in answers[:4]] == [None] * 4
    first_ticket = answers[0][0]
    result = answers[4][1]
    assert result["created"] is True and result["linked"] is True and result["reopened"] is False
    [problem] = problems(world.db)
    assert result["problem_key"] == problem.key == f"PRB-{problem.id}"
    assert problem.signature == f"DB-1042|c:{world.component_id}"
    assert problem.title == "DB-1042: Replica lag"
    assert (problem.status, problem.ticket_count, problem.customer_count) == (OPEN, 5, 3)
    assert problem.arr_exposure == ARR[0] + ARR[1] + ARR[2]
    assert problem.owner_team_id == world.team_id and problem.component_id == world.component_id
    assert problem.first_seen == problem.last_seen == clock.now()
    assert {link.ticket_id for link in links(world.db)} == {t for t, _ in answers}
    assert min(link.ticket_id for link in links(world.db)) == first_ticket
    [escalation] = outbox(world.db, "problem.escalated")
    assert escalation["team_id"] == world.team_id and escalation["key"] == problem.key
    assert escalation["reason"] == "threshold" and escalation["customer_count"] == 3
    assert _audit_actions(world.db, "problems.create") == 1
    assert _audit_actions(world.db, "problems.link_ticket") == 5


def test_the_impact_score_of_a_problem_is_the_highest_of_its_tickets(world):
    for c, impact in zip([0, 1, 2, 0, 1, 2], [10, 80, None, 35, 20, 95]):
        record(world.db, customer_id=world.customer_ids[c], impact=impact)
    [problem] = problems(world.db)
    assert problem.impact_score == 95


def test_it_waits_for_enough_distinct_customers(world):
    answers = _wave(world, [0, 1, 0, 1, 0, 1, 0])
    assert all(a is None for _, a in answers) and problems(world.db) == []
    _, result = record(world.db, customer_id=world.customer_ids[2], component_id=world.component_id)
    assert result["created"] and result["ticket_count"] == 8 and result["customer_count"] == 3


def test_tickets_from_no_known_customer_count_as_tickets_but_not_as_customers(world):
    _wave(world, [0, 1])
    for _ in range(4):
        record(world.db, customer_id=None, component_id=world.component_id)
    assert problems(world.db) == []
    _, result = record(world.db, customer_id=world.customer_ids[2], component_id=world.component_id)
    assert result["created"] and (result["ticket_count"], result["customer_count"]) == (7, 3)


def test_tickets_outside_the_window_do_not_count(world):
    start = clock.now()
    _wave(world, [0, 1])
    clock.advance(timedelta(days=7, seconds=1))
    answers = _wave(world, [2, 3, 4, 0])
    assert all(a is None for _, a in answers)  # 6 tickets, but only 4 inside the window
    _, result = record(world.db, customer_id=world.customer_ids[1], component_id=world.component_id)
    assert result["created"] and result["ticket_count"] == 5  # the two old ones stay out
    assert problems(world.db)[0].first_seen > start


def test_the_component_is_part_of_the_signature(world):
    _wave(world, [0, 1])
    for c in [2, 3, 4]:
        record(world.db, customer_id=world.customer_ids[c], component_id=world.child_component_id)
    assert problems(world.db) == []


def test_later_tickets_link_to_the_open_problem_and_update_its_figures(world):
    _wave(world, [0, 1, 2, 0, 1])
    clock.advance(timedelta(hours=3))
    ticket_id, result = record(world.db, customer_id=world.customer_ids[3], component_id=world.component_id,
                               impact=88, customer_arr=ARR[3])
    assert result["created"] is False and result["linked"] is True
    assert (result["ticket_count"], result["customer_count"]) == (6, 4)
    assert type(result["arr_exposure"]) is float and result["arr_exposure"] == sum(ARR[:4])  # JSON, as before
    _, again = record(world.db, customer_id=world.customer_ids[3], component_id=world.component_id)
    [problem] = problems(world.db)
    assert (problem.ticket_count, problem.customer_count) == (7, 4)  # the same customer again: counted once
    assert problem.arr_exposure == sum(ARR[:4])
    assert problem.impact_score == 88 and problem.last_seen == clock.now()
    assert ticket_id in {link.ticket_id for link in links(world.db, problem.id)}
    assert len(outbox(world.db, "problem.escalated")) == 1  # escalated once, when it was created
    # A link changes nothing on the problem's row (its figures are read from the links): its one event is the
    # link's own.
    assert {(e.entity_type, e.action) for e in _audit_events(world.db, "problems.link_ticket")} == {
        ("problem_tickets", "problems.link_ticket")}
    assert len(_audit_events(world.db, "problems.link_ticket")) == 7


def test_a_ticket_links_to_at_most_one_problem_however_often_it_is_recorded(world):
    answers = _wave(world, [0, 1, 2, 3, 4])
    before = row_counts(world.db)
    with world.db.unit_of_work() as s:
        from tierline.tickets.models import Ticket

        ticket = s.get(Ticket, answers[0][0])
        again = service.record_ticket(s, actor=SYSTEM, ticket=ticket, customer_arr=None)
    assert again["problem_key"] == answers[4][1]["problem_key"]
    assert again["linked"] is False and again["created"] is False
    assert row_counts(world.db) == before


def _fix(world: World, key: str) -> None:
    with world.db.unit_of_work() as s:
        service.update(s, actor=SYSTEM, key=key, changes={"public_summary": "Fixed."})
        for status in ("investigating", "known_error", "fixed"):
            service.update(s, actor=SYSTEM, key=key, changes={"status": status})


def test_a_recurrence_after_fixed_reopens_the_problem_as_a_regression(world):
    answers = _wave(world, [0, 1, 2, 3, 4])
    key = answers[4][1]["problem_key"]
    _fix(world, key)
    clock.advance(timedelta(days=30))
    _, result = record(world.db, customer_id=world.customer_ids[0], component_id=world.component_id)
    assert result["reopened"] is True and result["regression"] is True and result["status"] == OPEN
    [problem] = problems(world.db)
    assert problem.status == OPEN and problem.regression is True and problem.fixed_at is None
    assert problem.ticket_count == 6
    [reopening] = _audit_events(world.db, "problems.regression")
    assert (reopening.entity_type, reopening.entity_id) == ("problems", str(problem.id))
    assert set(reopening.changes) == {"status", "regression", "fixed_at"}
    assert reopening.changes["status"] == ["fixed", "open"] and reopening.changes["regression"] == [False, True]
    assert reopening.changes["fixed_at"][1] is None
    escalations = outbox(world.db, "problem.escalated")
    assert [e["reason"] for e in escalations] == ["threshold", "regression"]
    assert escalations[1]["regression"] is True and escalations[1]["team_id"] == world.team_id
    assert (escalations[1]["ticket_count"], escalations[1]["impact_score"]) == (6, 40)


def test_an_older_ticket_recorded_after_the_fix_links_without_reopening(world):
    answers = _wave(world, [0, 1, 2, 3, 4])
    with world.db.unit_of_work() as s:  # a ticket saved before the fix, recorded after it (an update)
        late = save_ticket(s, customer_id=world.customer_ids[0], component_id=world.component_id,
                           error_code="DB-9999")
        late_id = late.id
    clock.advance(timedelta(hours=1))
    _fix(world, answers[4][1]["problem_key"])
    with world.db.unit_of_work() as s:
        from tierline.tickets.models import Ticket

        late = s.get(Ticket, late_id)
        late.signature = problems(world.db)[0].signature
        result = service.record_ticket(s, actor=SYSTEM, ticket=late, customer_arr=None)
    assert result["linked"] is True and result["reopened"] is False
    assert problems(world.db)[0].status == FIXED


def test_a_closed_problem_stays_closed_and_the_next_wave_makes_a_new_problem(world):
    answers = _wave(world, [0, 1, 2, 3, 4])
    key = answers[4][1]["problem_key"]
    _fix(world, key)
    with world.db.unit_of_work() as s:
        service.update(s, actor=SYSTEM, key=key, changes={"status": "closed"})
    clock.advance(timedelta(days=1))
    wave = _wave(world, [0, 1, 2, 0, 1])
    assert [a is None for _, a in wave] == [True] * 4 + [False]
    old, new = problems(world.db)
    assert old.status == "closed" and old.ticket_count == 5
    assert new.status == OPEN and new.ticket_count == 5 and new.signature == old.signature
    assert {link.ticket_id for link in links(world.db, new.id)} == {t for t, _ in wave}


def test_tickets_without_any_content_never_make_a_problem(world):
    for c in [0, 1, 2, 3, 4, 0]:
        _, result = record(world.db, customer_id=world.customer_ids[c], error_code=None, subject="Help!!",
                           description="Please, thanks.")
        assert result is None
    assert row_counts(world.db)["ProblemSignature"] == 0


def test_a_fingerprint_signature_makes_a_problem_titled_by_the_first_subject(world):
    subjects = ["CSV export times out", "csv export timing out!!", "CSV exports timed out",
                "CSV Export times out", "csv export time-out"]
    for c, subject in enumerate(subjects):
        _, result = record(world.db, customer_id=world.customer_ids[c], error_code=None, subject=subject,
                           description=f"Report {c} fails after {30 + c} seconds.")
    [problem] = problems(world.db)
    assert problem.signature.startswith("fp:") and problem.signature.endswith("|c:-")
    assert problem.title == "CSV export times out" and problem.owner_team_id is None
    assert result["created"]


def test_the_owner_team_is_the_nearest_ancestors_when_the_component_has_none(world):
    for c in [0, 1, 2, 3, 4]:
        record(world.db, customer_id=world.customer_ids[c], component_id=world.child_component_id)
    [problem] = problems(world.db)
    assert problem.component_id == world.child_component_id and problem.owner_team_id == world.team_id


def test_the_thresholds_and_window_come_from_settings(world, thresholds):
    thresholds(tickets=2, customers=2, days=1)
    _, first = record(world.db, customer_id=world.customer_ids[0])
    _, second = record(world.db, customer_id=world.customer_ids[1])
    assert first is None and second["created"] and second["ticket_count"] == 2


def test_a_dry_run_says_what_would_happen_and_writes_nothing(world):
    _wave(world, [0, 1, 2, 0])
    before = row_counts(world.db)
    with world.db.unit_of_work() as s:
        unsaved = save_ticket(s, customer_id=world.customer_ids[3], component_id=world.component_id,
                              save=False)
        preview = service.record_ticket(s, actor=SYSTEM, ticket=unsaved, customer_arr=ARR[3], dry_run=True)
    assert preview["created"] is True and preview["dry_run"] is True and preview["problem_key"] is None
    assert (preview["ticket_count"], preview["customer_count"]) == (5, 4)
    assert preview["arr_exposure"] == sum(ARR[:4])
    assert row_counts(world.db) == before
    _wave(world, [3])
    before = row_counts(world.db)
    with world.db.unit_of_work() as s:
        unsaved = save_ticket(s, customer_id=world.customer_ids[4], component_id=world.component_id,
                              save=False)
        preview = service.record_ticket(s, actor=SYSTEM, ticket=unsaved, customer_arr=None, dry_run=True)
    assert preview["linked"] is True and preview["created"] is False
    assert preview["problem_key"] == problems(world.db)[0].key
    assert (preview["ticket_count"], preview["customer_count"]) == (6, 5)  # as it would be once linked
    assert preview["arr_exposure"] == sum(ARR)
    assert row_counts(world.db) == before


def test_a_dry_run_below_the_threshold_answers_none(world):
    _wave(world, [0, 1])
    with world.db.unit_of_work() as s:
        unsaved = save_ticket(s, customer_id=world.customer_ids[2], save=False)
        assert service.record_ticket(s, actor=SYSTEM, ticket=unsaved, customer_arr=None, dry_run=True) is None


# Tickets arriving over time, each (hours since the previous one, customer index): the problem appears at
# the first ticket where the window holds >= N tickets from >= M customers, and every ticket from then on
# is linked to it.
_FRESH = itertools.count()
_ARRIVALS = st.lists(st.tuples(st.integers(min_value=0, max_value=60), st.integers(min_value=0, max_value=4)),
                     min_size=1, max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(arrivals=_ARRIVALS, code=st.integers(min_value=1000, max_value=9999))
def test_the_problem_appears_exactly_when_the_window_first_holds_enough_tickets_and_customers(
        world, arrivals, code):
    error_code = f"PRP-{code}-{next(_FRESH)}"  # a fresh signature: earlier examples' tickets stay in the world
    seen: list[tuple] = []  # (time, customer) of the tickets before the problem
    created_at = None
    linked = 0
    for i, (hours, c) in enumerate(arrivals):
        clock.advance(timedelta(hours=hours))
        _, result = record(world.db, customer_id=world.customer_ids[c], error_code=error_code)
        if created_at is None:
            seen.append((clock.now(), c))
            window = [(t, cc) for t, cc in seen if t >= clock.now() - timedelta(days=7)]
            if len(window) >= 5 and len({cc for _, cc in window}) >= 3:
                created_at, linked = i, len(window)
                assert result["created"] is True and result["ticket_count"] == linked
            else:
                assert result is None
        else:
            linked += 1
            assert result["created"] is False and result["ticket_count"] == linked
    mine = [p for p in problems(world.db) if p.signature.startswith(error_code + "|")]
    assert len(mine) == (0 if created_at is None else 1)
