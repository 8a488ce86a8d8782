"""Erlang C: how long work waits for a free server, and how many servers a waiting-time target needs.

The M/M/N queue: arrivals are Poisson, handle times exponential with mean `aht`, `servers` work in parallel
and a new arrival waits (first come, first served) only when all of them are busy. The offered load
`traffic` = arrival rate x mean handle time, in Erlangs (how many servers the work would keep busy).

- `erlang_b(N, A)`: the Erlang B blocking probability, by the recursion B(0) = 1,
  B(n) = A·B(n-1) / (n + A·B(n-1)). It needs no factorials or powers, so it neither overflows nor loses
  precision for thousands of servers.
- `erlang_c(N, A)`: Pw, the probability that an arrival waits at all, = N·B / (N - A·(1 - B)).
- `service_level(N, A, aht, t)` = P(wait <= t) = 1 - Pw·exp(-(N - A)·t / aht).
- `answer_time(N, A, aht, level)`: the smallest t with service_level >= level.
- `servers_needed(A, aht, level, t)`: the fewest servers meeting the level within t.

A queue with N <= A is unstable: the work arrives faster than it can be done, the queue grows without bound
and no waiting time is met by any share of arrivals in the long run. Then Pw is 1, the service level is 0
and `answer_time` answers None (there is no finite answer), explicitly rather than with a number that means
nothing. Times (`aht`, `t`) are in any one unit, minutes in Tierline.
"""

from __future__ import annotations

import math

MAX_SERVERS = 10_000_000


def _check_servers(servers: int) -> None:
    if isinstance(servers, bool) or not isinstance(servers, int):
        raise ValueError(f"servers must be a whole number, not {servers!r}")  # noqa: TRY004
    if not 0 <= servers <= MAX_SERVERS:
        raise ValueError(f"servers must be between 0 and {MAX_SERVERS}, not {servers}")


def _check_traffic(traffic: float) -> None:
    if isinstance(traffic, bool) or not isinstance(traffic, (int, float)) or not math.isfinite(traffic) \
            or traffic < 0:
        raise ValueError(f"traffic must be a finite number of Erlangs >= 0, not {traffic!r}")


def _check_positive(name: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, not {value!r}")


def _check_level(level: float) -> None:
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not 0 < level < 1:
        raise ValueError(f"the service level must lie strictly between 0 and 1, not {level!r}")


def _check_time(t: float) -> None:
    if isinstance(t, bool) or not isinstance(t, (int, float)) or math.isnan(t) or t < 0:
        raise ValueError(f"the answer time must be a number >= 0, not {t!r}")


def offered_load(rate_per_hour: float, aht_minutes: float) -> float:
    """Erlangs offered by `rate_per_hour` arrivals of mean handle time `aht_minutes`."""
    _check_traffic(rate_per_hour)
    _check_traffic(aht_minutes)
    return rate_per_hour * aht_minutes / 60.0


def is_stable(servers: int, traffic: float) -> bool:
    """Whether the queue reaches a steady state: more servers than offered Erlangs (N > A; with no servers
    at all nothing is ever answered, even with no work)."""
    _check_servers(servers)
    _check_traffic(traffic)
    return servers > traffic


def erlang_b(servers: int, traffic: float) -> float:
    """The probability that all `servers` are busy in a loss system (Erlang B), by the stable recursion."""
    _check_servers(servers)
    _check_traffic(traffic)
    b = 1.0
    for n in range(1, servers + 1):
        b = traffic * b / (n + traffic * b)
    return b


def erlang_c(servers: int, traffic: float) -> float:
    """Pw: the probability that an arrival has to wait (Erlang C); 1.0 for an unstable queue."""
    _check_servers(servers)
    _check_traffic(traffic)
    if traffic == 0:
        return 0.0 if servers > 0 else 1.0
    if servers <= traffic:
        return 1.0
    b = erlang_b(servers, traffic)
    return min(1.0, max(0.0, servers * b / (servers - traffic * (1.0 - b))))


def service_level(servers: int, traffic: float, aht: float, t: float, *, pw: float | None = None) -> float:
    """P(wait <= t) = 1 - Pw·exp(-(N - A)·t / aht); 0.0 for an unstable queue (N <= A). A caller asking for
    many t of one queue passes its `pw` (erlang_c(servers, traffic)) to spare the recursion each time."""
    _check_positive("aht", aht)
    _check_time(t)
    if not is_stable(servers, traffic):
        return 0.0
    pw = erlang_c(servers, traffic) if pw is None else pw
    if pw == 0.0:
        return 1.0
    return min(1.0, max(0.0, 1.0 - pw * math.exp(-(servers - traffic) * t / aht)))


def mean_wait(servers: int, traffic: float, aht: float) -> float | None:
    """The average wait over all arrivals, Pw·aht / (N - A); None for an unstable queue."""
    _check_positive("aht", aht)
    if not is_stable(servers, traffic):
        return None
    if traffic == 0:
        return 0.0
    return erlang_c(servers, traffic) * aht / (servers - traffic)


def answer_time(servers: int, traffic: float, aht: float, level: float) -> float | None:
    """The smallest t >= 0 with service_level(servers, traffic, aht, t) >= level.

    0.0 when the share that never waits (1 - Pw) already meets the level; None when the queue is unstable,
    since then no answer time is met by that share of arrivals.
    """
    _check_positive("aht", aht)
    _check_level(level)
    if not is_stable(servers, traffic):
        return None
    pw = erlang_c(servers, traffic)
    if pw <= 1.0 - level:
        return 0.0
    return aht * math.log(pw / (1.0 - level)) / (servers - traffic)


def servers_needed(traffic: float, aht: float, level: float, t: float) -> int:
    """The fewest servers N (at least 1) with service_level(N, traffic, aht, t) >= level.

    Walks N upwards from the first stable size, carrying the Erlang B recursion along, so the whole search
    costs one pass of the recursion.
    """
    _check_traffic(traffic)
    _check_positive("aht", aht)
    _check_level(level)
    _check_time(t)
    if traffic == 0:
        return 1
    if traffic >= MAX_SERVERS:
        raise ValueError(f"traffic of {traffic} Erlangs needs more than {MAX_SERVERS} servers")
    b, n = 1.0, 0
    while True:
        n += 1
        b = traffic * b / (n + traffic * b)
        if n <= traffic:
            continue
        pw = min(1.0, max(0.0, n * b / (n - traffic * (1.0 - b))))
        if 1.0 - pw * math.exp(-(n - traffic) * t / aht) >= level:
            return n
        if n >= MAX_SERVERS:
            raise ValueError(f"no staffing up to {MAX_SERVERS} servers meets the level")


# A server is an agent: a person on shift (capacity/shifts.py), as in a contact centre.
agents_needed = servers_needed
