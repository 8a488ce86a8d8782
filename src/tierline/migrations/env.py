"""Alembic environment. Migrations are the only source of the schema; the app never calls create_all."""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy import pool

from tierline.models import metadata
from tierline.platform.db import make_engine
from tierline.platform.migrate import include_object

config = context.config
# SQLite cannot reflect expression indexes (uq_components_sibling_name); the migration creates it by hand.
warnings.filterwarnings("ignore", message=".*expression-based index")


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url"), poolclass=pool.NullPool)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
