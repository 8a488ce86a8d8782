"""The problems domain's tables: problems, the tickets linked to them, and one lock row per signature.

A problem's figures (how many tickets and customers, the ARR exposed, the highest impact, first and last seen)
are not columns: they are taken from its links when it is read (figures.py)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, query_expression

from tierline.platform.db import Base, BigId, UTCDateTime
from tierline.tickets.models import ticket_fk

OPEN, INVESTIGATING, KNOWN_ERROR, FIXED, CLOSED = "open", "investigating", "known_error", "fixed", "closed"
STATUSES: tuple[str, ...] = (OPEN, INVESTIGATING, KNOWN_ERROR, FIXED, CLOSED)

KEY_PREFIX = "PRB-"
_KEY = re.compile(r"^PRB-([1-9][0-9]{0,17})$", re.IGNORECASE)


class Problem(Base):
    """A recurring issue: tickets sharing a signature from enough customers inside the window."""

    __tablename__ = "problems"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'investigating', 'known_error', 'fixed', 'closed')",
                        name="status"),
        # Exactly one problem per signature that is not closed (intake also serialises on problem_signatures;
        # this index makes a second one impossible, not merely unlikely).
        Index("uq_problems_signature_active", "signature", unique=True,
              sqlite_where=text("status <> 'closed'"), postgresql_where=text("status <> 'closed'")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    # What the problem's customers read when it is fixed: written for them, never built from a ticket.
    public_summary: Mapped[str | None] = mapped_column(Text, nullable=True)
    signature: Mapped[str] = mapped_column(String(200), nullable=False)
    component_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("components.id"), nullable=True,
                                                     index=True)
    owner_team_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("teams.id"), nullable=True,
                                                      index=True)
    status: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    # True once a ticket arrived after the problem was fixed and reopened it.
    regression: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, server_default=false())
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    # The figures, derived from the links whenever a problem is read (figures.py), never stored: a stored
    # figure is a row every intake of an outage would have to lock and move. None until a read loads them
    # (`figures.load`), which every read of the domain does.
    ticket_count: Mapped[int | None] = query_expression()
    customer_count: Mapped[int | None] = query_expression()
    # The affected customers' ARR in integer cents (as customers keep it), each customer once, as it is now.
    arr_exposure_cents: Mapped[int | None] = query_expression()
    # The highest impact score among the linked tickets: the worst-hit customer sets the urgency.
    impact_score: Mapped[int | None] = query_expression()
    first_seen: Mapped[datetime | None] = query_expression()
    last_seen: Mapped[datetime | None] = query_expression()

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX}{self.id}"

    @property
    def arr_exposure(self) -> float | None:
        return None if self.arr_exposure_cents is None else self.arr_exposure_cents / 100


def parse_key(key: str) -> int | None:
    """`PRB-5` -> 5; anything else -> None."""
    match = _KEY.match(key.strip())
    return int(match.group(1)) if match else None


class ProblemTicket(Base):
    """A ticket linked to a problem. A ticket links to at most one problem; links are never edited."""

    __tablename__ = "problem_tickets"
    __table_args__ = (
        Index("ix_problem_tickets_problem", "problem_id", "ticket_id"),
        # A problem's figures group its links by customer (figures.py), and a link asks whether its customer
        # is new to the problem.
        Index("ix_problem_tickets_problem_customer", "problem_id", "customer_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    problem_id: Mapped[int] = mapped_column(BigId, ForeignKey("problems.id"), nullable=False)
    ticket_id: Mapped[int] = mapped_column(BigId, ticket_fk(), nullable=False, unique=True)
    # The ticket's customer when it was linked: counts and lists of affected customers read this table only.
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customers.id"), nullable=True,
                                                    index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    @property
    def problem_key(self) -> str:
        return f"{KEY_PREFIX}{self.problem_id}"


class ProblemSignature(Base):
    """One row per signature: the row intake locks (upsert) before counting, so that two intakes of the same
    signature run one after the other, and the signature's current problem.

    Bookkeeping, like the ticket tag index: it is not audited (the problem and its links are).
    """

    __tablename__ = "problem_signatures"

    signature: Mapped[str] = mapped_column(String(200), primary_key=True)
    problem_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("problems.id"), nullable=True,
                                                   index=True)
    last_ticket_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
