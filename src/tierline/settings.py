"""All configuration, read from TIERLINE_* environment variables.

The secret key is deliberately not defaulted here: when TIERLINE_SECRET_KEY is unset, `tierline migrate`
generates one and keeps it in the database, so every process that shares the database signs alike.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIERLINE_", extra="ignore")

    database_url: str = "sqlite:///./tierline.db"
    secret_key: str | None = None
    base_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    log_json: bool = True

    # Serving. Sync routes and the dependencies that do I/O run in a threadpool of http_threads threads per
    # process: with the GIL more threads only add contention; they are there to overlap waits on the database.
    # Four keep both cores busy; more let more transactions into the write path at once, each then waiting
    # longer for the GIL while it holds a shared row (bench/intake.py, outage burst, 2 workers: lock waits
    # 10% of busy time with 4 threads, 24% with 8, 53% with 16). Requests beyond them queue before any lock.
    # A request holds its PostgreSQL connections (up to two: its write session and a read session beside it)
    # from its first statement to its end, across those hops, waiting for a thread with them in hand: the pool
    # covers the requests in flight (two each for 16 of them), not the threads, and may open db_max_overflow
    # more in a burst. Per `serve` process at most db_pool_size + db_max_overflow connections:
    # keep workers times that under the server's max_connections.
    http_threads: int = Field(default=4, ge=1)
    db_pool_size: int = Field(default=32, ge=1)
    db_max_overflow: int = Field(default=8, ge=0)

    # The largest request body a route accepts unless it declares its own (platform/input_guard.py): a larger
    # one is a 413 before it is read.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)

    session_cookie_name: str = "tierline_session"
    csrf_cookie_name: str = "tierline_csrf"
    session_max_age_hours: int = 12
    # The session cookie is Secure when this is on or base_url is https.
    cookie_secure: bool = False
    # Proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client: the login
    # throttle counts failures per client address, which is the socket's peer unless the peer is one of these.
    trusted_proxies: Annotated[list[str], NoDecode] = Field(default_factory=list)

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            for item in value:
                ipaddress.ip_network(str(item), strict=False)  # a ValueError names a bad entry
        return value

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure or self.base_url.lower().startswith("https://")

    # Tickets
    reopen_window_days: int = 7

    # Problems: a signature becomes a problem at >= N tickets from >= M distinct customers inside the window.
    problem_min_tickets: int = 5
    problem_min_customers: int = 3
    problem_window_days: int = 7

    # Classifier: a prediction at least this confident fills an empty field; below it, a suggestion.
    classifier_threshold: float = Field(default=0.6, ge=0.0, le=1.0)

    # Workers
    worker_poll_seconds: float = 1.0
    worker_lock_seconds: int = 300
    embedded_worker: bool = True


@lru_cache
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
