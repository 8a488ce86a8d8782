"""Settings kept in the database, shared by every process: today the generated secret key."""

from __future__ import annotations

import secrets

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from tierline.platform import clock
from tierline.platform.db import Base, UTCDateTime
from tierline.settings import get_settings

SECRET_KEY = "secret_key"


class AppSetting(Base):
    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(UTCDateTime, nullable=False)


def get(session: Session, key: str) -> str | None:
    return session.scalar(select(AppSetting.value).where(AppSetting.key == key))


def ensure_secret_key(session: Session) -> str:
    """Generate the secret key once (at migrate) unless TIERLINE_SECRET_KEY is configured."""
    existing = get(session, SECRET_KEY)
    if existing:
        return existing
    value = secrets.token_urlsafe(48)
    session.add(AppSetting(key=SECRET_KEY, value=value, created_at=clock.now()))
    session.flush()
    return value


def secret_key(session: Session, configured: str | None = None) -> str:
    """The configured key (the app's settings, else TIERLINE_SECRET_KEY), else the one kept at migrate."""

    configured = configured or get_settings().secret_key
    if configured:
        return configured
    stored = get(session, SECRET_KEY)
    if not stored:
        raise RuntimeError("no secret key: run `tierline migrate` or set TIERLINE_SECRET_KEY")
    return stored
