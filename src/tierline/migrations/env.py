"""Alembic environment. Migrations are the only source of the schema; the app never calls create_all."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from tierline.models import metadata
from tierline.platform.db import make_engine

config = context.config

# Objects the migrations create by hand and the models do not describe (the full-text index).
_HAND_MADE = {"search_fts", "search_fts_data", "search_fts_idx", "search_fts_docsize", "search_fts_config",
              "search_fts_content"}


def include_object(obj, name, type_, reflected, compare_to):  # noqa: ANN001
    if type_ == "table" and name in _HAND_MADE:
        return False
    if type_ == "column" and name == "tsv" and getattr(obj, "table", None) is not None \
            and obj.table.name == "search_documents":
        return False
    if type_ == "index" and name == "ix_search_documents_tsv":
        return False
    return True


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
