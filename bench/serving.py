"""Servers under test as subprocesses: `tierline serve`, and the bench's own apps served the same way; the CPU
time of a process tree, read from /proc.

Each server runs in its own session (process group), so a Ctrl-C in the terminal reaches the bench, not the
server, and the bench stops the whole group itself (uvicorn's supervisor and its workers) on every way out.
Where util-linux's `setpriv` exists, each server also gets a parent-death signal (SIGTERM), so it stops should
the bench be killed outright.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from support import BENCH, SRC

_CLK_TCK = os.sysconf("SC_CLK_TCK")
_SETPRIV = shutil.which("setpriv")


def _die_with_parent(command: list[str]) -> list[str]:
    """`command` under `setpriv --pdeathsig TERM` when it exists (no preexec_fn: the bench has threads)."""
    return [_SETPRIV, "--pdeathsig", "TERM", "--", *command] if _SETPRIV else command


def tierline_command() -> list[str]:
    """The `tierline` console script of this virtualenv (beside its python), else the one on PATH."""
    beside = Path(sys.executable).parent / "tierline"
    found = str(beside) if beside.exists() else shutil.which("tierline")
    return [found] if found else [sys.executable, "-c", "from tierline.cli import app; app()"]


@dataclass
class Server:
    """A running server: its process (the group leader) and where it listens."""

    proc: subprocess.Popen
    port: int
    label: str
    log_path: Path

    def cpu_seconds(self) -> float:
        """User + system CPU of the server's process tree so far (the supervisor and its workers)."""
        return tree_cpu_seconds(self.proc.pid)


@contextmanager
def serve(*, label: str, command: list[str], url: str, port: int, log_level: str, log_path: Path,
          health_path: str, startup_seconds: float = 90.0) -> Iterator[Server]:
    """Start `command` (which must listen on 127.0.0.1:`port`) against the database `url`, wait until
    `health_path` answers 200, and stop the process group on exit."""
    env = dict(os.environ, TIERLINE_DATABASE_URL=url, TIERLINE_LOG_LEVEL=log_level,
               PYTHONPATH=os.pathsep.join(p for p in (str(SRC), str(BENCH), os.environ.get("PYTHONPATH"))
                                          if p))
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(_die_with_parent(command), env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    server = Server(proc, port, label, log_path)
    try:
        deadline = time.monotonic() + startup_seconds
        while not _healthy(port, health_path):
            if proc.poll() is not None:
                raise RuntimeError(f"{label} exited ({proc.returncode}); the end of {log_path}:\n"
                                   + log_path.read_text(errors="replace")[-3000:])
            if time.monotonic() > deadline:
                raise RuntimeError(f"{label} did not answer {health_path} within {startup_seconds:.0f} s; "
                                   f"see {log_path}")
            time.sleep(0.2)
        yield server
    finally:
        stop(proc)


def stop(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM to the server's process group (uvicorn shuts down gracefully), SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    try:  # the group: workers outliving their supervisor too
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if proc.poll() is None:
        proc.wait()


def _healthy(port: int, path: str) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
    try:
        conn.request("GET", path)
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


# -- CPU time from /proc -------------------------------------------------------------------------------------

def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, user + system CPU seconds) of a live process, or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2:].split()  # after "pid (comm) ": state ppid ... utime stime
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _CLK_TCK


def cpu_seconds(pids: set[int] | list[int]) -> dict[int, float]:
    """CPU seconds so far of each live process among `pids`."""
    out = {}
    for pid in pids:
        found = _stat(pid)
        if found is not None:
            out[pid] = found[1]
    return out


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of `root` and its live descendants (children that exited are in its cutime only once
    reaped, and a running server's workers do not exit)."""
    parents: dict[int, int] = {}
    spent: dict[int, float] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            found = _stat(int(entry.name))
            if found is not None:
                parents[int(entry.name)], spent[int(entry.name)] = found
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return sum(spent.get(pid, 0.0) for pid in tree)


def machine_busy_seconds() -> tuple[float, float]:
    """(busy CPU seconds over all cores, elapsed core-seconds) since boot, from /proc/stat's first line."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    total = sum(fields[:8])  # user nice system idle iowait irq softirq steal (guest is inside user)
    return (total - idle) / _CLK_TCK, total / _CLK_TCK
