"""The audit trail's two tables: the events, and the one row naming the chain's head."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from tierline.platform.db import Base, BigId, JSONType, UTCDateTime

GENESIS_HASH = "0" * 64  # the prev_hash of the first event
HEAD_ROW = 1  # the id of audit_chain_head's one row


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_entity", "entity_type", "entity_id"),
        Index("ix_audit_events_actor_time", "actor_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True, nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False, index=True)
    actor_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    actor_label: Mapped[str] = mapped_column(String(320), nullable=False)
    action: Mapped[str] = mapped_column(String(100), nullable=False)
    entity_type: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(64), nullable=False)
    changes: Mapped[dict] = mapped_column(JSONType, nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # Which definition `hash` follows (audit/hashing.py). The default is 1 because every row written before the
    # column existed, and any writer that predates it, hashed by version 1; the chain writes 2 explicitly.
    hash_version: Mapped[int] = mapped_column(SmallInteger, nullable=False, server_default=text("1"))


class AuditChainHead(Base):
    """The last event of the chain as the writers left it: one row, moved in the same transaction as the events.

    A chain alone cannot show that its newest events were deleted: what remains still links up. The head
    can: verify compares it with the last event it walked. (Whoever can rewrite both rows can hide it; export
    the head elsewhere to close that.) It is also what writers lock: appends queue on this row."""

    __tablename__ = "audit_chain_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
