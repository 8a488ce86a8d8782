"""Configuration comes from TIERLINE_* environment variables; the secret key is never a hard-coded default."""

from __future__ import annotations

import pytest

from tierline.platform import app_settings
from tierline.settings import Settings, get_settings, reset_settings_cache


@pytest.fixture
def env(monkeypatch):  # noqa: ANN001, ANN201
    for name in ("TIERLINE_DATABASE_URL", "TIERLINE_SECRET_KEY", "TIERLINE_BASE_URL", "TIERLINE_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    reset_settings_cache()
    yield monkeypatch
    reset_settings_cache()


def test_settings_come_from_tierline_environment_variables(env):
    env.setenv("TIERLINE_DATABASE_URL", "postgresql+psycopg://tierline@db:5432/tierline")
    env.setenv("TIERLINE_SECRET_KEY", "s3cret-from-the-environment")
    env.setenv("TIERLINE_BASE_URL", "https://support.example.com")
    env.setenv("TIERLINE_LOG_LEVEL", "DEBUG")
    env.setenv("TIERLINE_EMBEDDED_WORKER", "false")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://tierline@db:5432/tierline"
    assert settings.secret_key == "s3cret-from-the-environment"
    assert settings.base_url == "https://support.example.com"
    assert settings.log_level == "DEBUG"
    assert settings.embedded_worker is False


def test_the_defaults_are_an_embedded_sqlite_database_and_no_secret_key(env):
    settings = Settings()
    assert settings.database_url == "sqlite:///./tierline.db"
    assert settings.secret_key is None
    assert settings.log_level == "INFO"


def test_get_settings_is_cached_until_reset(env):
    env.setenv("TIERLINE_BASE_URL", "https://one.example.com")
    assert get_settings().base_url == "https://one.example.com"
    env.setenv("TIERLINE_BASE_URL", "https://two.example.com")
    assert get_settings().base_url == "https://one.example.com"
    reset_settings_cache()
    assert get_settings().base_url == "https://two.example.com"


def test_without_a_configured_key_the_one_generated_at_migrate_is_shared(env, db):
    with db.session(write=False) as session:
        stored = app_settings.get(session, app_settings.SECRET_KEY)
        assert stored and len(stored) >= 32
        assert app_settings.secret_key(session) == stored


def test_a_configured_secret_key_wins_over_the_stored_one(env, db):
    env.setenv("TIERLINE_SECRET_KEY", "configured-key")
    reset_settings_cache()
    with db.session(write=False) as session:
        assert app_settings.secret_key(session) == "configured-key"
