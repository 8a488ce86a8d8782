"""After a bulk load (the demo), the database is tidied as autovacuum would leave it: dead row versions reclaimed
and the planner's statistics taken, so the first requests do not plan for empty tables."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tierline.platform import clock

ROWS = 300


@pytest.mark.committing
def test_after_a_bulk_load_the_planner_knows_the_rows_and_no_dead_versions_remain(db):
    with db.unit_of_work() as session:
        session.execute(text("INSERT INTO app_settings (key, value, created_at) VALUES (:k, 'x', :at)"),
                        [{"k": f"bulk-{i}", "at": clock.now()} for i in range(ROWS)])
    for round_ in range(3):  # a history settled by updating the same rows again
        with db.unit_of_work() as session:
            session.execute(text("UPDATE app_settings SET value = :v WHERE key LIKE 'bulk-%'"), {"v": str(round_)})
    db.after_bulk_load()
    with db.engine.connect() as connection:
        rows = connection.execute(text("SELECT count(*) FROM app_settings")).scalar()
        assert rows >= ROWS
        if db.is_sqlite:
            stat = connection.execute(text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'app_settings'")).scalar()
            assert stat is not None and int(stat.split()[0]) == rows
            return
        estimated = connection.execute(text(
            "SELECT reltuples FROM pg_class WHERE relname = 'app_settings'")).scalar()
        assert estimated == rows
        vacuumed = connection.execute(text(
            "SELECT last_vacuum IS NOT NULL AND last_analyze IS NOT NULL FROM pg_stat_user_tables "
            "WHERE relname = 'app_settings'")).scalar()
        assert vacuumed


def test_inside_a_transaction_only_the_statistics_are_taken(db):
    """A connection already in a transaction (here the test's own, joined) cannot VACUUM: ANALYZE alone runs."""
    db.after_bulk_load()
