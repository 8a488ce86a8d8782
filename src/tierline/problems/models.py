"""The problems domain's tables: problems, the tickets linked to them, and one lock row per signature."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

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
        CheckConstraint("ticket_count >= 0 AND customer_count >= 0 AND arr_exposure_cents >= 0",
                        name="counts_non_negative"),
        # Exactly one problem per signature that is not closed (intake also serialises on problem_signatures;
        # this index makes a second one impossible, not merely unlikely).
        Index("uq_problems_signature_active", "signature", unique=True,
              sqlite_where=text("status <> 'closed'"), postgresql_where=text("status <> 'closed'")),
        # The list's orders (largest first, the id breaking ties).
        Index("ix_problems_arr_exposure", "arr_exposure_cents", "id"),
        Index("ix_problems_customer_count", "customer_count", "id"),
        Index("ix_problems_ticket_count", "ticket_count", "id"),
        Index("ix_problems_last_seen", "last_seen", "id"),
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
    ticket_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    customer_count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The affected customers' ARR in integer cents (as customers keep it), each customer counted once, at the
    # ARR known when their first ticket was linked.
    arr_exposure_cents: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    # The highest impact score among the linked tickets: the worst-hit customer sets the urgency.
    impact_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)

    @property
    def key(self) -> str:
        return f"{KEY_PREFIX}{self.id}"

    @property
    def arr_exposure(self) -> float:
        return self.arr_exposure_cents / 100


def parse_key(key: str) -> int | None:
    """`PRB-5` -> 5; anything else -> None."""
    match = _KEY.match(key.strip())
    return int(match.group(1)) if match else None


class ProblemTicket(Base):
    """A ticket linked to a problem. A ticket links to at most one problem; links are never edited."""

    __tablename__ = "problem_tickets"
    __table_args__ = (Index("ix_problem_tickets_problem", "problem_id", "ticket_id"),)

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
