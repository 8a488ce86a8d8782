"""Shared fixtures: a real database (SQLite by default, PostgreSQL when TIERLINE_TEST_DATABASE_URL is set),
migrated once per run with Alembic, emptied between tests; a frozen clock; HTTP through FastAPI's client."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tierline.app import create_app
from tierline.platform import clock
from tierline.platform.db import Database, set_database
from tierline.platform.migrate import upgrade
from tierline.settings import Settings
from tests.helpers import Api, Factory

FROZEN_AT = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
KEEP_TABLES = {"alembic_version", "app_settings", "reference_revisions"}


def _test_url(tmp_root: Path) -> str:
    url = os.environ.get("TIERLINE_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_root / 'test.db'}"


def _reset_postgres_schema(url: str) -> None:
    db = Database(url)
    with db.engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    db.dispose()


@pytest.fixture(scope="session")
def database() -> Iterator[Database]:
    with tempfile.TemporaryDirectory(prefix="tierline-test-") as tmp:
        url = _test_url(Path(tmp))
        if url.startswith("postgresql"):
            _reset_postgres_schema(url)
        db = Database(url)
        upgrade(db)
        set_database(db)
        yield db
        set_database(None)
        db.dispose()


def _table_names(db: Database) -> list[str]:
    from tierline.models import metadata

    return [t.name for t in reversed(metadata.sorted_tables) if t.name not in KEEP_TABLES]


@pytest.fixture
def db(database: Database) -> Iterator[Database]:
    """The database, emptied after each test (only the secret key and schema version survive)."""
    yield database
    tables = _table_names(database)
    with database.engine.begin() as conn:
        if database.is_sqlite:
            for name in tables:
                conn.execute(text(f'DELETE FROM "{name}"'))
            conn.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence(conn) else None
        else:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in tables) + " RESTART IDENTITY CASCADE"))


def _has_sqlite_sequence(conn) -> bool:  # noqa: ANN001
    return conn.execute(text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() is not None


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[datetime]:
    clock.freeze(FROZEN_AT)
    yield FROZEN_AT
    clock.unfreeze()


@pytest.fixture
def settings() -> Settings:
    return Settings(log_json=True, log_level="WARNING", embedded_worker=False)


@pytest.fixture
def app(db: Database, settings: Settings):  # noqa: ANN201
    return create_app(db, settings, embedded_worker=False)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # noqa: ANN001
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def factory(db: Database) -> Factory:
    return Factory(db)


@pytest.fixture
def admin(factory: Factory, client: TestClient) -> Api:
    """An API client authenticated as an admin."""
    return factory.api(client, roles=["admin"], email="admin@example.com")


@pytest.fixture
def agent(factory: Factory, client: TestClient) -> Api:
    """An API client authenticated as an L1 agent."""
    return factory.api(client, roles=["agent_l1"], email="agent@example.com")
