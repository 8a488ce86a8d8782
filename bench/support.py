"""What the benchmarks share: a scratch database, realistic ticket bodies, percentiles."""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


@contextmanager
def scratch_database(url: str | None) -> Iterator[tuple[str, str]]:
    """(url, label) of an empty database that is removed on exit: a temporary SQLite file, or a scratch
    database created beside the one `url` names (PostgreSQL) and dropped afterwards."""
    if not url or url.startswith("sqlite"):
        tmp = tempfile.mkdtemp(prefix="tierline-bench-")
        try:
            yield f"sqlite:///{tmp}/bench.db", "SQLite (temporary file, WAL)"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    base = make_url(url)
    name = f"{base.database or 'tierline'}_scratch_{os.getpid()}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        probe = create_engine(base.set(database=name))
        with probe.connect() as conn:
            version = conn.execute(text("SHOW server_version")).scalar_one()
        probe.dispose()
        yield base.set(database=name).render_as_string(hide_password=False), f"PostgreSQL {version} ({name})"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def ticket_bodies(n: int = 400, seed: int = 99) -> list[dict]:
    """Realistic request bodies from the demo corpus (subjects, descriptions with traces, error codes)."""
    from tierline.demo.generator import generate

    plan = generate(seed=seed, customers=20, tickets=n, now=datetime(2026, 1, 1, tzinfo=UTC))
    return [{"subject": t.subject, "description": t.description, "requester_email": t.requester_email,
             "type": t.type, "priority": t.priority, "channel": t.channel, "feature_area": t.feature_area,
             "error_code": t.error_code, "tags": t.tags, "urgency": t.urgency} for t in plan.tickets]


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=1000, method="inclusive")[max(0, int(q * 1000) - 1)]
