"""create_app(): what the application sets up for itself when it starts."""

from __future__ import annotations

import anyio.to_thread
from fastapi.testclient import TestClient

from tierline.app import create_app
from tierline.settings import Settings


def test_the_threadpool_has_the_configured_number_of_threads(db):
    app = create_app(db, Settings(log_level="WARNING", embedded_worker=False, http_threads=7), embedded_worker=False)
    with TestClient(app) as client:
        size = client.portal.call(lambda: anyio.to_thread.current_default_thread_limiter().total_tokens)
        assert client.get("/api/v1/health").status_code == 200
    assert size == 7
