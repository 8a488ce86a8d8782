"""Helpers for the problems tests: an engineering team owning a component, customers with known ARR, and
tickets saved the way intake saves them (with their impact score and signature), recorded by hand."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.helpers import SYSTEM
from tierline.components import service as components_service
from tierline.customers import service as customers_service
from tierline.people import teams as people_teams
from tierline.platform.auth.actor import Actor
from tierline.platform.db import Database
from tierline.platform.outbox import OutboxMessage
from tierline.problems import figures, service
from tierline.problems.models import Problem, ProblemSignature, ProblemTicket
from tierline.tickets.signature import signature_for
from tierline.settings import reset_settings_cache
from tierline.flows import intake
from tierline.tickets.models import Ticket
from tierline.tickets.schemas import TicketCreate

ARR = [12_000.0, 48_000.0, 150_000.0, 9_500.5, 720_000.0]
_emails = itertools.count(1)


@dataclass
class World:
    db: Database
    team_id: int
    component_id: int
    child_component_id: int  # under component_id, with no owner team of its own
    customer_ids: list[int]


@pytest.fixture
def world(db: Database) -> World:
    with db.unit_of_work() as s:
        team = people_teams.create_team(s, actor=SYSTEM, name="Database engineering", kind="engineering")
        s.flush()
        parent = components_service.create(s, actor=SYSTEM, name="Database", owner_team_id=team.id)
        s.flush()
        child = components_service.create(s, actor=SYSTEM, name="Replication", parent_id=parent.id)
        customers = [customers_service.create(s, actor=SYSTEM, name=f"Customer {i}", external_id=f"c{i}",
                                              plan="business", arr=arr) for i, arr in enumerate(ARR)]
        s.flush()
        return World(db=db, team_id=team.id, component_id=parent.id, child_component_id=child.id,
                     customer_ids=[c.id for c in customers])


def save_ticket(session: Session, *, customer_id: int | None, subject: str = "Replica lag",
                description: str = "The read replica is far behind the primary.",
                error_code: str | None = "DB-1042", component_id: int | None = None, impact: int | None = 40,
                save: bool = True) -> Ticket:
    """A ticket as intake leaves it before recurrence: saved, with its impact score and signature."""
    data = TicketCreate(subject=subject, description=description, customer_id=customer_id,
                        requester_email=f"requester{next(_emails)}@example.com", error_code=error_code,
                        component_id=component_id)
    ticket = intake.new_ticket(session, actor=SYSTEM, data=data)
    ticket.impact_score = impact
    ticket.signature = signature_for(error_code=error_code, subject=subject, description=description,
                                     component_id=component_id)
    if save:
        ticket.version = 1
        session.add(ticket)
        session.flush()
    return ticket


def record(db: Database, *, actor: Actor = SYSTEM, customer_arr: float | None = None,
           **fields: Any) -> tuple[int, dict | None]:
    """Save one ticket and record it, in one transaction; returns (ticket id, record_ticket's answer)."""
    with db.unit_of_work() as s:
        ticket = save_ticket(s, **fields)
        result = service.record_ticket(s, actor=actor, ticket=ticket, customer_arr=customer_arr)
        return ticket.id, result


def problems(db: Database) -> list[Problem]:
    """Every problem, oldest first, with its figures as the domain reads them."""
    with db.session(write=False) as s:
        stmt, _ = figures.load(select(Problem).order_by(Problem.id))
        return list(s.scalars(stmt))


def links(db: Database, problem_id: int | None = None) -> list[ProblemTicket]:
    with db.session(write=False) as s:
        stmt = select(ProblemTicket).order_by(ProblemTicket.ticket_id)
        if problem_id is not None:
            stmt = stmt.where(ProblemTicket.problem_id == problem_id)
        return list(s.scalars(stmt))


def outbox(db: Database, topic: str) -> list[dict]:
    with db.session(write=False) as s:
        return [m.payload for m in s.scalars(select(OutboxMessage).where(OutboxMessage.topic == topic)
                                             .order_by(OutboxMessage.id))]


def row_counts(db: Database) -> dict[str, int]:
    from tierline.platform.audit import AuditEvent

    with db.session(write=False) as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m)) or 0
                for m in (Problem, ProblemTicket, ProblemSignature, OutboxMessage, AuditEvent, Ticket)}


@pytest.fixture
def thresholds(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Set the recurrence thresholds for one test (settings come from the environment)."""

    def _set(*, tickets: int = 5, customers: int = 3, days: int = 7) -> None:
        monkeypatch.setenv("TIERLINE_PROBLEM_MIN_TICKETS", str(tickets))
        monkeypatch.setenv("TIERLINE_PROBLEM_MIN_CUSTOMERS", str(customers))
        monkeypatch.setenv("TIERLINE_PROBLEM_WINDOW_DAYS", str(days))
        reset_settings_cache()

    yield _set
    monkeypatch.undo()
    reset_settings_cache()
