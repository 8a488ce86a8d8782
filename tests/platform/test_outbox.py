"""The transactional outbox: a message exists exactly when the change that caused it committed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tierline.platform import audit, clock, outbox
from tierline.platform.audit import AuditEvent
from tierline.platform.outbox import OutboxMessage
from tests.helpers import SYSTEM


def test_a_message_published_with_a_committed_change_is_kept(db, factory):
    with db.unit_of_work() as session:
        audit.record(session, SYSTEM, "ticket.create", entity_type="tickets", entity_id="1", changes={})
        outbox.publish(session, "ticket.created", {"key": "T-1", "at": clock.now()})
    with db.session(write=False) as session:
        (msg,) = session.scalars(select(OutboxMessage))
    assert msg.topic == "ticket.created"
    assert msg.payload == {"key": "T-1", "at": audit.iso(clock.now())}
    assert msg.delivered_at is None and msg.attempts == 0 and msg.created_at == clock.now()
    assert factory.count(AuditEvent) == 1


def test_a_message_published_in_a_rolled_back_transaction_disappears_with_it(db, factory):
    with pytest.raises(RuntimeError):
        with db.unit_of_work() as session:
            audit.record(session, SYSTEM, "ticket.create", entity_type="tickets", entity_id="1", changes={})
            outbox.publish(session, "ticket.created", {"key": "T-1"})
            session.flush()
            raise RuntimeError("the change failed")
    assert factory.count(OutboxMessage) == 0
    assert factory.count(AuditEvent) == 0


def test_messages_keep_their_publication_order(db):
    with db.unit_of_work() as session:
        for n in range(5):
            outbox.publish(session, "n", {"n": n})
    with db.session(write=False) as session:
        payloads = [m.payload["n"] for m in session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert payloads == list(range(5))
