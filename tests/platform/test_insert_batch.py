"""platform.insert_batch: rows for several tables in one statement (PostgreSQL) or one per table (SQLite) are
stored as plain INSERTs store them, and their RETURNING rows come back in the rows' order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, select

from tierline.customers import service as customers_service
from tierline.customers.models import Contact
from tierline.platform.auth.actor import Actor
from tierline.platform.insert_batch import Rows, insert_rows
from tierline.platform.outbox import OutboxMessage

SYSTEM = Actor.system("test")
_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**53), max_value=2**53) | _TEXT
    | st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),  # jsonb keeps a number's decimal text
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_TEXT, children, max_size=3),
    max_leaves=8)
_WHEN = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1),
                     timezones=st.sampled_from([UTC, timezone(timedelta(hours=5, minutes=30)),
                                                timezone(timedelta(hours=-8))]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(st.tuples(_TEXT.filter(bool), st.dictionaries(_TEXT, _JSON, max_size=3), _WHEN),
                         min_size=1, max_size=4))
def test_rows_are_stored_as_given_and_their_ids_come_back_in_order(db, messages) -> None:
    rows = [{"topic": topic, "payload": payload, "created_at": at, "attempts": 0} for topic, payload, at in messages]
    with db.unit_of_work() as session:
        statements = []
        connection = session.connection()
        event.listen(connection, "before_cursor_execute", lambda *args: statements.append(args[2]))
        (ids,) = insert_rows(connection, [Rows(OutboxMessage.__table__, rows, returning=("id", "topic"))])
        assert [topic for _, topic in ids] == [row["topic"] for row in rows]
        assert len(statements) == 1 or db.is_sqlite  # SQLite: no round trips to save
        stored = {m.id: m for m in session.scalars(select(OutboxMessage).where(
            OutboxMessage.id.in_([i for i, _ in ids])))}
        for (message_id, _), row in zip(ids, rows, strict=True):
            got = stored[message_id]
            assert (got.topic, got.created_at) == (row["topic"], row["created_at"])
            assert got.payload == row["payload"]
        session.rollback()


def test_several_tables_go_in_one_statement_on_postgresql_and_existing_rows_are_skipped(db) -> None:
    with db.unit_of_work() as session:
        customer = customers_service.create(session, actor=SYSTEM, name="Batch", external_id="batch")
        session.flush()
        at = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
        contact = {"customer_id": customer.id, "email": "old@batch.test", "name": "", "created_at": at,
                   "updated_at": at}
        connection = session.connection()
        insert_rows(connection, [Rows(Contact.__table__, [contact], skip_existing=("email",))])
        statements = []
        event.listen(connection, "before_cursor_execute", lambda *args: statements.append(args[2]))
        again, new, messages = insert_rows(connection, [
            Rows(Contact.__table__, [contact], returning=("id",), skip_existing=("email",)),
            Rows(Contact.__table__, [{**contact, "email": "new@batch.test"}],
                 returning=("id",), skip_existing=("email",)),
            Rows(OutboxMessage.__table__, [{"topic": "t", "payload": {}, "created_at": at, "attempts": 0}]),
        ])
        assert again == [] and len(new) == 1 and messages == []
        assert len(statements) == 1 or db.is_sqlite
        emails = session.scalars(select(Contact.email).where(Contact.customer_id == customer.id)).all()
        assert sorted(emails) == ["new@batch.test", "old@batch.test"]
        assert insert_rows(connection, [Rows(OutboxMessage.__table__, [])]) == [[]]
        session.rollback()
