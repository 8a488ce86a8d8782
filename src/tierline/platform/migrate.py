"""`tierline migrate`: Alembic upgrade to head, then the one-time secret key."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from tierline.platform import app_settings
from tierline.platform.db import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

# Objects the migrations create by hand and the models do not describe (the full-text index). Alembic's env.py
# and the test comparing models to migrations both use this filter.
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


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(database: Database, revision: str = "head") -> None:
    cfg = alembic_config(database.url)
    with database.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    with database.unit_of_work() as session:
        app_settings.ensure_secret_key(session)
