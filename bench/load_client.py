"""A lean HTTP/1.1 load generator on asyncio streams, so that the clients take little of the CPU the server
needs.

httpx costs about a millisecond of CPU per request; at hundreds of requests a second on a 2-core machine that
is a good share of a core taken from the server being measured. Here every request is built once, up front, as
the exact bytes to send (request line, headers, Content-Length body); a client writes them on its keep-alive
connection and reads the status line, the headers and the body (by Content-Length, chunked, or up to the
close). Nothing is parsed beyond what finding the end of the response needs. The generator's own CPU time
(`time.thread_time` of the event loop's thread) is measured so that the reader can judge what it took.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

HEAD_END = b"\r\n\r\n"
ERROR_SAMPLES = 3  # response bodies kept per failing status, to say why


def request_bytes(method: str, path: str, *, host: str, token: str | None = None,
                  body: Any = None) -> bytes:
    """The bytes of one request: JSON body (if any) with a Content-Length, keep-alive (HTTP/1.1's default)."""
    payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept: application/json",
             "User-Agent: tierline-bench"]
    if token is not None:
        lines.append(f"Authorization: Bearer {token}")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


@dataclass
class LoadResult:
    """What N clients saw over the measured window (warm-up excluded)."""

    clients: int
    seconds: float  # the window asked for
    elapsed: float  # from the start to the last response (requests in flight at the deadline finish)
    ok_status: int
    ok_latencies: list[float] = field(default_factory=list)  # seconds, responses with ok_status
    statuses: Counter = field(default_factory=Counter)  # status code (or "connection", "timeout") -> count
    error_samples: dict[str, list[str]] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # the generator's own CPU time over the window (its thread)

    @property
    def ok(self) -> int:
        return len(self.ok_latencies)

    @property
    def errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status != self.ok_status)

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request, read its response; reconnect first if the last response closed the connection."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        reader = self.reader
        head = await reader.readuntil(HEAD_END)
        status = int(head[9:12])
        length, chunked, close = None, False, False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = b"close" in value.lower()
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
                if size == 0:
                    while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, up to the blank line
                        pass
                    break
                parts.append((await reader.readexactly(size + 2))[:-2])
            body = b"".join(parts)
        elif length is not None:
            body = await reader.readexactly(length) if length else b""
        else:
            body, close = await reader.read(), True
        if close:
            self.close()
        return status, body


async def _run(host: str, port: int, requests: Sequence[bytes], clients: int, seconds: float, ok_status: int,
               grace: float) -> LoadResult:
    result = LoadResult(clients=clients, seconds=seconds, elapsed=0.0, ok_status=ok_status)
    connections = [_Connection(host, port) for _ in range(clients)]
    n = len(requests)
    next_index = 0  # shared: the clients walk the request list together, in order (requesters cycle)

    def record_error(status: str, body: bytes) -> None:
        result.statuses[status] += 1
        samples = result.error_samples.setdefault(status, [])
        if len(samples) < ERROR_SAMPLES:
            samples.append(body[:300].decode(errors="replace"))

    async def client(conn: _Connection, deadline: float) -> None:
        nonlocal next_index
        ok_latencies, statuses = result.ok_latencies, result.statuses
        perf = time.perf_counter  # a duration clock for latencies, not the application's clock
        while perf() < deadline:
            request = requests[next_index % n]
            next_index += 1
            t0 = perf()
            try:
                status, body = await conn.exchange(request)
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
                conn.close()
                record_error("connection", repr(exc).encode())
                await asyncio.sleep(0.05)  # a refused connection must not spin
                continue
            if status == ok_status:
                ok_latencies.append(perf() - t0)
                statuses[status] += 1
            else:
                record_error(str(status), body)

    await asyncio.gather(*(c.open() for c in connections))
    cpu0 = time.thread_time()
    started = time.perf_counter()
    deadline = started + seconds
    tasks = [asyncio.create_task(client(c, deadline)) for c in connections]
    done, pending = await asyncio.wait(tasks, timeout=seconds + grace)
    for task in pending:  # a response that never came: counted, and its client stopped
        task.cancel()
        result.statuses["timeout"] += 1
    if pending:
        await asyncio.wait(pending)
    for task in done:
        task.result()  # a bug in the generator must not pass as a quiet run
    result.elapsed = time.perf_counter() - started
    result.cpu_seconds = time.thread_time() - cpu0
    for c in connections:
        c.close()
    return result


def run_load(port: int, requests: Sequence[bytes], *, clients: int, seconds: float, ok_status: int = 200,
             host: str = "127.0.0.1", grace: float = 120.0) -> LoadResult:
    """`clients` keep-alive connections send `requests` in turn (cycling) for `seconds`; the connections are
    opened before the clock starts. A response slower than `grace` seconds past the window counts as a
    timeout."""
    if not requests:
        raise ValueError("no requests to send")
    return asyncio.run(_run(host, port, requests, clients, seconds, ok_status, grace))


def warm(port: int, requests: Sequence[bytes], *, clients: int, host: str = "127.0.0.1") -> Counter:
    """Send `requests` once over `clients` connections, unmeasured (caches filled, every worker reached); the
    statuses seen."""

    async def go() -> Counter:
        statuses: Counter = Counter()

        async def client(k: int) -> None:
            conn = _Connection(host, port)
            try:
                for i in range(k, len(requests), clients):
                    try:
                        status, _ = await conn.exchange(requests[i])
                        statuses[status] += 1
                    except (OSError, asyncio.IncompleteReadError, ValueError):
                        conn.close()
                        statuses["connection"] += 1
            finally:
                conn.close()

        await asyncio.gather(*(client(k) for k in range(clients)))
        return statuses

    return asyncio.run(go())
