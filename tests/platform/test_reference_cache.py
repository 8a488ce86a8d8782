"""The reference cache: a copy is served until its tables change, whoever changes them, and never after."""

from __future__ import annotations

import importlib.util
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select, text

from tierline.customers import service as customers_service
from tierline.customers.models import Customer
from tierline.platform import reference_cache
from tierline.platform.auth.actor import Actor

SYSTEM = Actor.system("test")
MIGRATION = Path(reference_cache.__file__).parent.parent / "migrations" / "versions" / "0013_reference_revisions.py"


class Counting:
    """A build function that counts its calls and reads the customers' names."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, session):  # noqa: ANN001, ANN204
        self.calls += 1
        return sorted(session.scalars(select(Customer.name)))


def _read(db, build, groups="customers", key="test.customers"):  # noqa: ANN001, ANN202
    session = db.session(write=False)
    try:
        return reference_cache.cached(session, groups, key, build)
    finally:
        session.close()


def _customer(db, name: str, arr: str = "1000") -> int:  # noqa: ANN001
    with db.unit_of_work() as session:
        return customers_service.create(session, actor=SYSTEM, name=name, external_id=name.lower(),
                                        arr=Decimal(arr)).id


def _triggered_tables(db) -> set[str]:  # noqa: ANN001
    with db.engine.connect() as conn:
        if db.is_sqlite:
            rows = conn.execute(text("SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' "
                                     "AND name LIKE 'trg_%_revision%'"))
        else:
            rows = conn.execute(text("SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                                     "WHERE NOT t.tgisinternal AND t.tgname LIKE 'trg_%_revision%'"))
        return {name for (name,) in rows}


def test_every_tracked_table_has_its_triggers_and_the_migration_names_the_same_groups(db):
    spec = importlib.util.spec_from_file_location("migration_0013", MIGRATION)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    later = importlib.util.spec_from_file_location("migration_0020", MIGRATION.with_name("0020_sla_reference_group.py"))
    sla = importlib.util.module_from_spec(later)
    later.loader.exec_module(sla)
    assert {**migration.GROUPS, sla.GROUP: sla.TABLES} == reference_cache.GROUPS
    assert migration.USER_COLUMNS == reference_cache.USER_COLUMNS
    assert _triggered_tables(db) == {t for tables in reference_cache.GROUPS.values() for t in tables}


def test_a_copy_is_served_until_its_tables_change_through_the_service(db):
    build = Counting()
    _customer(db, "Acme")
    assert _read(db, build) == ["Acme"]
    assert _read(db, build) == ["Acme"] and build.calls == 1
    _customer(db, "Globex")
    assert _read(db, build) == ["Acme", "Globex"] and build.calls == 2


def test_a_change_written_behind_the_services_back_is_seen_too(db):
    build = Counting()
    acme = _customer(db, "Acme")
    assert _read(db, build) == ["Acme"]
    with db.engine.begin() as conn:  # as psql or another process would
        conn.execute(text("UPDATE customers SET name = 'Acme Corp' WHERE id = :id"), {"id": acme})
    assert _read(db, build) == ["Acme Corp"]
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM customers"))
    assert _read(db, build) == [] and build.calls == 3


def test_changes_to_other_tables_keep_the_copy(db, factory):
    build = Counting()
    _customer(db, "Acme")
    _read(db, build)
    factory.user(roles=["agent_l1"])  # the people group changes, customers do not
    assert _read(db, build) == ["Acme"] and build.calls == 1


def test_only_the_users_columns_a_copy_reads_renew_the_people_group(db, factory):
    user = factory.user(roles=["agent_l1"])
    calls = []

    def roster(session):  # noqa: ANN001, ANN202
        calls.append(1)
        return "roster"

    _read(db, roster, "people", "test.people")
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE users SET name = 'Renamed', timezone = 'Europe/Paris' WHERE id = :id"),
                     {"id": user.id})
    _read(db, roster, "people", "test.people")
    assert len(calls) == 1
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE users SET active = :no WHERE id = :id"), {"id": user.id, "no": False})
    _read(db, roster, "people", "test.people")
    assert len(calls) == 2


def test_a_copy_built_inside_a_rolled_back_transaction_is_never_served_afterwards(db):
    build = Counting()
    _customer(db, "Acme")
    assert _read(db, build) == ["Acme"]
    session = db.session()
    try:
        customers_service.create(session, actor=SYSTEM, name="Ghost", external_id="ghost", arr=Decimal("5"))  # flushed, not committed
        assert reference_cache.cached(session, "customers", "test.customers", build) == ["Acme", "Ghost"]
        session.rollback()
    finally:
        session.close()
    assert _read(db, build) == ["Acme"]


def test_a_transaction_sees_its_own_flushed_changes(db):
    build = Counting()
    _customer(db, "Acme")
    with db.unit_of_work() as session:
        assert reference_cache.cached(session, "customers", "test.customers", build) == ["Acme"]
        customers_service.create(session, actor=SYSTEM, name="Initech", external_id="initech", arr=Decimal("5"))
        assert reference_cache.cached(session, "customers", "test.customers", build) == ["Acme", "Initech"]


def test_requesters_and_arr_percentiles_follow_changes_made_elsewhere(db):
    acme = _customer(db, "Acme", arr="100")
    big = _customer(db, "Big", arr="900")
    with db.unit_of_work() as session:
        assert customers_service.resolve_requester_id(session, actor=SYSTEM, email="ann@acme.test") is None
        assert customers_service.profile(session, customer_id=acme).arr_percentile == 0.25
    with db.unit_of_work() as session:
        customers_service.create_contact(session, actor=SYSTEM, customer_id=acme, email="ann@acme.test")
        customers_service.update(session, actor=SYSTEM, customer_id=big, arr=Decimal("50"))
    with db.unit_of_work() as session:
        assert customers_service.resolve_requester_id(session, actor=SYSTEM, email="Ann@Acme.test") == acme
        assert customers_service.profile(session, customer_id=acme).arr_percentile == 0.75
