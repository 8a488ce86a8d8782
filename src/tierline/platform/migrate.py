"""`tierline migrate`: Alembic upgrade to head, then the one-time secret key."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from tierline.platform import app_settings
from tierline.platform.db import Database

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


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
