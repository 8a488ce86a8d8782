"""Alembic migrations are the only source of the schema: they must build exactly what the models describe,
on both databases, and come down and go up again cleanly.

Each test migrates its own scratch database (a SQLite file, or a sibling PostgreSQL database), never the
session's test database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import make_url

from tierline.models import metadata
from tierline.platform.db import Database
from tierline.platform.migrate import alembic_config, include_object, upgrade

PG_URL = os.environ.get("TIERLINE_TEST_DATABASE_URL", "")
# SQLite cannot reflect expression-based indexes, so autogenerate skips comparing them there (not on PostgreSQL).
pytestmark = pytest.mark.filterwarnings("ignore:.*expression-based index")


@contextmanager
def _scratch_postgres(url: str) -> Iterator[str]:
    """A sibling database of the test database, dropped afterwards."""
    base = make_url(url)
    name = f"{base.database}_migrations"
    admin = Database(url)
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database of each kind, created for this test alone."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'migrations.db'}")
        yield db
        db.dispose()
        return
    if not PG_URL.startswith("postgresql"):
        pytest.skip("TIERLINE_TEST_DATABASE_URL does not name a PostgreSQL database")
    with _scratch_postgres(PG_URL) as url:
        db = Database(url)
        try:
            yield db
        finally:
            db.dispose()


def _differences(db: Database) -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": include_object, "compare_type": True})
        return compare_metadata(context, metadata)


def _alembic(db: Database, action: str, revision: str) -> None:
    cfg = alembic_config(db.url)
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def _tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())


def test_the_migrations_form_one_unbranched_chain():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, f"several heads: {script.get_heads()}"
    assert len(script.get_bases()) == 1, f"several bases: {script.get_bases()}"
    revisions = list(script.walk_revisions())
    for rev in revisions:
        assert not isinstance(rev.down_revision, (tuple, list)), f"{rev.revision} merges branches"
    assert revisions[-1].revision == "0001_platform"


def test_upgrading_an_empty_database_to_head_builds_exactly_the_models(scratch):
    upgrade(scratch)
    assert _differences(scratch) == []
    assert {t.name for t in metadata.sorted_tables} <= _tables(scratch)


def test_downgrading_to_base_removes_everything_and_upgrading_again_works(scratch):
    upgrade(scratch)
    _alembic(scratch, "downgrade", "base")
    assert _tables(scratch) <= {"alembic_version"}
    upgrade(scratch)
    assert _differences(scratch) == []


def test_upgrading_twice_is_a_no_op_that_keeps_the_secret_key(scratch):
    from tierline.platform import app_settings

    upgrade(scratch)
    with scratch.session(write=False) as session:
        first = app_settings.get(session, app_settings.SECRET_KEY)
    upgrade(scratch)
    with scratch.session(write=False) as session:
        assert app_settings.get(session, app_settings.SECRET_KEY) == first
    assert first and len(first) >= 32
