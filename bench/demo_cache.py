"""Scratch databases holding the demo organisation, each a fresh copy of one loaded demo (cached between
runs).

Loading the demo the way `tierline demo` does (`tierline.demo.command.load`: the organisation, the tickets'
simulated history, the timers that fell due, the trained classifiers) takes about four minutes on PostgreSQL
for the default 2,400 tickets. So it is loaded once into a cache and every measured run starts from a copy:

- PostgreSQL: the cache is a database on the same server, `tierline_bench_demo_<key>`, and each copy is
  `CREATE DATABASE <scratch> TEMPLATE <cache>` (a file-level copy, seconds). The scratch database is named
  after the one --database-url names and is dropped at the end, also on Ctrl-C.
- SQLite: the cache is a file in ~/.cache/tierline-bench (or $XDG_CACHE_HOME); each copy is a file copy in a
  temporary folder that is removed at the end.

The key is the demo's parameters (customers, tickets, seed) with a hash of the migration scripts and of the
demo package's source: a new or edited migration, or a changed demo, loads afresh. Code elsewhere (intake,
triage) does not change the key, so a cached demo may have been loaded by older code; the bench prints when
and at which commit it was loaded. `--refresh-demo` reloads, `--no-demo-cache` loads into a scratch copy used
only for this run, `--clear-demo-cache` drops every cached demo.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from support import ROOT, SRC

CACHE_PREFIX = "tierline_bench_demo_"


@dataclass(frozen=True)
class DemoSpec:
    """The parameters of `tierline demo` (its defaults are what issue 9 measured)."""

    customers: int = 150
    tickets: int = 2400
    seed: int = 42

    def describe(self) -> str:
        return f"demo seed {self.seed}: {self.customers:,} customers, {self.tickets:,} tickets"


def _digest(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def cache_key(kind: str, spec: DemoSpec) -> str:
    tierline = SRC / "tierline"
    parts = {"kind": kind, **asdict(spec),
             "migrations": _digest(list((tierline / "migrations" / "versions").glob("*.py"))),
             "demo": _digest(list((tierline / "demo").glob("*.py")))}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:12]


def source_state() -> str:
    """Which code loads the demo: the commit, and whether src/ had uncommitted changes."""
    if SRC != (ROOT / "src").resolve():
        return f"source {SRC}"
    try:
        commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", "src"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "source: not a git checkout"
    return f"commit {commit}" + (" with uncommitted changes in src/" if dirty else "")


def load_demo(url: str, spec: DemoSpec, log: Any) -> dict[str, Any]:
    """Migrate `url` and load the demo into it as `tierline demo` does; returns what was loaded."""
    from tierline.demo.command import load
    from tierline.platform.db import Database
    from tierline.platform.migrate import upgrade

    started = time.perf_counter()  # a duration for the report
    shown: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:  # a line per quarter of each stage
        quarter = 4 * done // max(total, 1)
        if quarter and shown.get(stage) != quarter:
            shown[stage] = quarter
            log(f"      {stage}: {done:,}/{total:,} ({time.perf_counter() - started:.0f} s)")

    db = Database(url)
    try:
        upgrade(db)
        result = load(db, customers=spec.customers, tickets=spec.tickets, seed=spec.seed, progress=progress)
    finally:
        db.dispose()
    models = [f"{m.target} v{m.version}" if m.version is not None else f"{m.target}: not trained"
              for m in result.classifiers]
    return {**asdict(spec), "counts": result.counts, "models": models,
            "seconds": round(time.perf_counter() - started, 1),
            # wall-clock stamp of the cache, bench code (the application reads time from platform.clock)
            "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"), "source": source_state()}


def describe_loaded(meta: dict[str, Any], how: str) -> str:
    c = meta.get("counts", {})
    return (f"{DemoSpec(meta['customers'], meta['tickets'], meta['seed']).describe()} "
            f"({c.get('tickets', '?'):,} tickets, {c.get('customers', '?'):,} customers, "
            f"{c.get('contacts', '?'):,} contacts, {c.get('users', '?'):,} users, "
            f"{c.get('queues', '?')} queues; classifiers {', '.join(meta.get('models', [])) or 'none'}); "
            f"{how}, loaded {meta.get('loaded_at')} in {meta.get('seconds')} s at {meta.get('source')}")


class PostgresDemo:
    """Fresh copies of the cached demo in a scratch database beside the one `url` names."""

    def __init__(self, url: str, spec: DemoSpec, *, cache: bool, refresh: bool, log: Any) -> None:
        self.base = make_url(url)
        self.spec, self.log = spec, log
        self.admin = create_engine(self.base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        self.scratch = f"{self.base.database or 'tierline'}_bench_{os.getpid()}"
        self.key = cache_key("postgresql", spec)
        self.template = f"{CACHE_PREFIX}{self.key}" if cache else f"{self.scratch}_demo"
        self.own_template = not cache  # dropped at close
        self.copies = 0
        with self.admin.connect() as conn:
            self.version = conn.execute(text("SHOW server_version")).scalar_one()
        self.label = f"PostgreSQL {self.version} (scratch database {self.scratch})"
        try:
            self.demo = self._ensure(refresh)
        except BaseException:
            self.close()
            raise

    def url_of(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def _exists(self, conn: Any, name: str) -> bool:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        return found is not None

    def _drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def _ensure(self, refresh: bool) -> str:
        with self.admin.connect() as conn:
            if refresh and not self.own_template:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)'))
            if not self.own_template and self._exists(conn, self.template):
                comment = conn.execute(text(
                    "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :n"),
                    {"n": self.template}).scalar_one()
                return describe_loaded(json.loads(comment), f"cached database {self.template} reused")
        loading = self.template if self.own_template else f"{self.template}_loading_{os.getpid()}"
        self.log(f"   loading the {self.spec.describe()} into {loading} (as `tierline demo` does; about "
                 "4 min on PostgreSQL for 2,400 tickets)"
                 + ("" if self.own_template else "; cached for later runs"))
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{loading}"'))
        try:
            meta = load_demo(self.url_of(loading), self.spec, self.log)
            with self.admin.connect() as conn:
                conn.execute(text(f'COMMENT ON DATABASE "{loading}" IS ' + "'"
                                  + json.dumps(meta).replace("'", "''") + "'"))
                if not self.own_template:
                    if self._exists(conn, self.template):  # another bench cached it meanwhile
                        conn.execute(text(f'DROP DATABASE "{loading}" WITH (FORCE)'))
                    else:
                        conn.execute(text(f'ALTER DATABASE "{loading}" RENAME TO "{self.template}"'))
        except BaseException:
            if not self.own_template:
                self._drop(loading)
            raise
        how = "loaded for this run only" if self.own_template else f"loaded now and cached as {self.template}"
        return describe_loaded(meta, how)

    def fresh(self) -> str:
        """The url of a new copy of the demo in the scratch database (the previous copy dropped)."""
        self._drop(self.scratch)
        for attempt in range(60):
            try:
                with self.admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{self.scratch}" TEMPLATE "{self.template}"'))
                break
            except Exception as exc:  # another bench copying the same cache: it takes a moment
                if "being accessed by other users" not in str(exc) or attempt == 59:
                    raise
                time.sleep(0.5)
        self.copies += 1
        return self.url_of(self.scratch)

    def close(self) -> None:
        try:
            self._drop(self.scratch)
            if self.own_template:
                self._drop(self.template)
        finally:
            self.admin.dispose()


class SqliteDemo:
    """Fresh copies of the cached demo file in a temporary folder."""

    def __init__(self, spec: DemoSpec, *, cache: bool, refresh: bool, cache_dir: Path, log: Any) -> None:
        self.spec, self.log = spec, log
        self.tmp = Path(tempfile.mkdtemp(prefix="tierline-bench-"))
        self.label = "SQLite (temporary file, WAL)"
        self.copies = 0
        self.current: Path | None = None
        try:
            key = cache_key("sqlite", spec)
            if cache:
                cache_dir.mkdir(parents=True, exist_ok=True)
                self.master = cache_dir / f"demo-{key}.sqlite"
            else:
                self.master = self.tmp / "demo.sqlite"
            meta_path = self.master.with_suffix(".json")
            if refresh:
                self.master.unlink(missing_ok=True)
            if cache and self.master.exists() and meta_path.exists():
                self.demo = describe_loaded(json.loads(meta_path.read_text()),
                                            f"cached file {self.master} reused")
                return
            loading = self.tmp / "loading.sqlite"
            log(f"   loading the {spec.describe()} into a SQLite file (as `tierline demo` does)"
                + (f"; cached as {self.master}" if cache else ""))
            meta = load_demo(f"sqlite:///{loading}", spec, log)
            _checkpoint(loading)
            staged = self.master.with_name(self.master.name + f".{os.getpid()}.tmp")
            shutil.copyfile(loading, staged)
            os.replace(staged, self.master)
            meta_path.write_text(json.dumps(meta, indent=1))
            loading.unlink()
            self.demo = describe_loaded(meta, f"loaded now and cached as {self.master}" if cache
                                        else "loaded for this run only")
        except BaseException:
            self.close()
            raise

    def fresh(self) -> str:
        if self.current is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(str(self.current) + suffix).unlink(missing_ok=True)
        self.copies += 1
        self.current = self.tmp / f"bench-{self.copies}.sqlite"
        shutil.copyfile(self.master, self.current)
        return f"sqlite:///{self.current}"

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the main file, so that copying the one file copies the whole database."""
    import sqlite3

    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode=DELETE")
    finally:
        conn.close()


def open_demo(url: str | None, spec: DemoSpec, *, cache: bool, refresh: bool, cache_dir: Path,
              log: Any) -> PostgresDemo | SqliteDemo:
    if url and not url.startswith("sqlite"):
        return PostgresDemo(url, spec, cache=cache, refresh=refresh, log=log)
    return SqliteDemo(spec, cache=cache, refresh=refresh, cache_dir=cache_dir, log=log)


def default_cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tierline-bench"


def clear_caches(urls: list[str], cache_dir: Path) -> list[str]:
    """Drop every cached demo: the cache databases on each PostgreSQL server named, the files in cache_dir."""
    dropped = []
    for url in urls:
        if url.startswith("sqlite"):
            continue
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                names = conn.execute(text("SELECT datname FROM pg_database WHERE starts_with(datname, :p)"),
                                     {"p": CACHE_PREFIX}).scalars().all()
                for name in names:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    dropped.append(f"database {name}")
        finally:
            admin.dispose()
    if cache_dir.exists():
        for path in sorted(cache_dir.glob("demo-*")):
            path.unlink()
            dropped.append(str(path))
    return dropped
