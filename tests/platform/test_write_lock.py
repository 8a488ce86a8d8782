"""A write that waits its whole turn for SQLite's write lock is a 503 saying to send it again (nothing was
written), not a 500."""

from __future__ import annotations

import pytest

from tierline.platform import db as db_module


@pytest.mark.committing
def test_a_write_that_cannot_get_the_write_lock_in_time_is_a_503(db, admin, monkeypatch):
    if not db.is_sqlite:
        pytest.skip("PostgreSQL has no single write lock")
    monkeypatch.setattr(db_module, "WRITE_LOCK_WAIT_SECONDS", 0.2)
    holder = db.session(write=True)
    try:
        holder.connection()  # BEGIN IMMEDIATE: this session holds the write lock
        r = admin.post("/api/v1/teams", json={"name": "Blocked", "kind": "support"})
    finally:
        holder.rollback()
        holder.close()
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "send it again" in r.json()["detail"]
    assert admin.post("/api/v1/teams", json={"name": "Blocked", "kind": "support"}).status_code == 201
