"""The transactional outbox: a message is written in the same transaction as the change that causes it.

Delivery (email, Slack, webhooks, a broker) belongs to the notification domain; it claims undelivered rows
in order and marks them delivered. Nothing here sends anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, Session, mapped_column

from tierline.platform import clock
from tierline.platform.audit import jsonable
from tierline.platform.db import Base, BigId, JSONType, UTCDateTime


class OutboxMessage(Base):
    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_undelivered", "delivered_at", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    payload: Mapped[dict] = mapped_column(JSONType, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


def publish(session: Session, topic: str, payload: dict[str, Any]) -> OutboxMessage:
    msg = OutboxMessage(topic=topic, payload=jsonable(payload), created_at=clock.now(), attempts=0)
    session.add(msg)
    return msg


def insert_many(connection: Connection, messages: Iterable[tuple[str, dict[str, Any]]]) -> None:
    """Write messages with one INSERT through Core, for a flow that computed them before its write."""
    rows = new_rows(messages)
    if rows:
        connection.execute(_INSERT, rows)


def new_rows(messages: Iterable[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    """The outbox rows of `messages`, for a flow that inserts them among others (platform.insert_batch)."""
    now = clock.now()
    return [{"topic": topic, "payload": jsonable(payload), "created_at": now, "attempts": 0}
            for topic, payload in messages]


_INSERT = OutboxMessage.__table__.insert()
