"""Intake in-process: the one place the bench calls the intake flow, the statements an intake issues, Python
time per phase, and the triage pipeline alone (a ceiling).

Issue 9 moves the flow from `tierline.tickets.intake` to `tierline.flows.intake` and may change its signature.
`flow_module` and `intake_request` are the only code here that knows where it lives and how the route calls
it (tickets/api.py, `create_ticket`); when that changes, change them and nothing else.
"""

from __future__ import annotations

import importlib
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from support import pct

FLOW_MODULES = ("tierline.flows.intake", "tierline.tickets.intake")


# -- the flow, as POST /api/v1/tickets calls it --------------------------------------------------------------

def flow_module() -> Any:
    """The intake flow's module: where issue 9 puts it, else where it was."""
    for name in FLOW_MODULES:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name not in (name, name.rpartition(".")[0]):
                raise  # the module exists but something it imports does not: a real error
    raise ModuleNotFoundError(f"no intake flow in {', '.join(FLOW_MODULES)}")


def intake_request(db: Any, token: str, data: Any, mark: Any = lambda part: None) -> dict[str, Any]:
    """What POST /api/v1/tickets does, in-process and in its order (tickets/api.py `create_ticket`): the
    caller authenticated and the intake planned on a read session, the read session closed, the short write on
    the write session, COMMIT, the signature's count after it (`settle`: a second short write only at a new
    problem's threshold), then the answer built from what the write had in hand. `mark(part)` is called as
    each part begins (auth, flow, commit, settle, response), for the statement counter."""
    intake = flow_module()
    reads, writes = db.session(write=False), db.session(write=True)
    try:
        mark("auth")
        actor = authenticate(reads, token)
        mark("flow")
        planned = intake.plan(reads, actor=actor, data=data)
        reads.close()
        written = intake.write(writes, planned)
        mark("commit")
        writes.commit()
        mark("settle")
        if intake.settle(reads, writes, written):  # the signature reached its problem's threshold (rare)
            writes.commit()
        mark("response")
        return intake.detail(written)
    finally:
        reads.close()
        writes.close()


def authenticate(session: Any, token: str) -> Any:
    """The door's part of the request: the bearer token to an actor."""
    from tierline.platform.auth import service as auth_service

    return auth_service.authenticate_token(session, token)


# -- statements per intake -----------------------------------------------------------------------------------

PARTS = ("auth", "flow", "response", "commit", "settle")
_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)", re.IGNORECASE)
_CALL = re.compile(r"^\s*SELECT\s+(\w+)\s*\(", re.IGNORECASE)  # SELECT pg_advisory_xact_lock(...)


@dataclass
class Statements:
    """Statements per intake by part of the request's transaction, and by table (first table named)."""

    intakes: int = 0
    parts: Counter = field(default_factory=Counter)
    tables: Counter = field(default_factory=Counter)  # (part, table) -> statements

    def per(self, part: str) -> float:
        return self.parts[part] / self.intakes if self.intakes else float("nan")

    @property
    def intake(self) -> float:
        """What POST /api/v1/tickets issues beyond the door: the flow, the commit's own, the signature's count
        after it, the response."""
        return self.per("flow") + self.per("response") + self.per("commit") + self.per("settle")

    @property
    def total(self) -> float:
        return self.intake + self.per("auth")

    def top(self, part: str, k: int = 8) -> str:
        """The tables `part` names most, as 'name n.n' per intake."""
        mine = Counter({table: n for (p, table), n in self.tables.items() if p == part})
        return ", ".join(f"{name} {n / self.intakes:.1f}" for name, n in mine.most_common(k))

    def as_json(self) -> dict[str, Any]:
        return {"intakes": self.intakes, "per_intake": {p: round(self.per(p), 2) for p in PARTS},
                "intake": round(self.intake, 2), "with_auth": round(self.total, 2),
                "tables": {p: {t: round(n / self.intakes, 2)
                               for (q, t), n in self.tables.most_common() if q == p} for p in PARTS}}


def count_statements(db: Any, token: str, datas: list[Any]) -> Statements:
    """Each of `datas` through one request in-process (`intake_request`), the statements counted per part with
    a `before_cursor_execute` listener. Transaction control (BEGIN, COMMIT) is not counted; the audit chain's
    statements, sent by the commit, count under "commit"."""
    out = Statements()
    part = ["auth"]

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip()[:5].upper() == "BEGIN":
            return
        out.parts[part[0]] += 1
        m = _TABLE.search(statement)
        call = None if m else _CALL.match(statement)
        name = m.group(1) if m else f"{call.group(1)}()" if call else statement.split(None, 1)[0].lower()
        out.tables[(part[0], name)] += 1

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        for data in datas:
            intake_request(db, token, data, mark=lambda name: part.__setitem__(0, name))
            out.intakes += 1
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return out


# -- time per intake, and per phase when the flow exposes its phases -----------------------------------------

@dataclass
class Timing:
    intakes: int
    elapsed: float
    latencies: list[float]
    phases: dict[str, float] | None  # phase -> mean seconds per intake; None: the flow does not expose them

    @property
    def rate(self) -> float:
        return self.intakes / self.elapsed if self.elapsed else 0.0

    def as_json(self) -> dict[str, Any]:
        return {"intakes": self.intakes, "per_s": round(self.rate, 1),
                "p50_ms": round(pct(self.latencies, 50) * 1e3, 2),
                "p99_ms": round(pct(self.latencies, 99) * 1e3, 2),
                "phases_ms": None if self.phases is None
                else {k: round(v * 1e3, 3) for k, v in self.phases.items()}}


def time_intakes(db: Any, token: str, datas: list[Any]) -> Timing:
    """Each of `datas` committed in its own request-shaped transaction, one after another (one thread).

    THE PHASE HOOK: if the flow's module has `PHASES` (a list to which each intake appends (name, seconds)
    while the module-level flag `TIMING` is true), it is switched on for this loop and the phases are averaged
    per intake. Without it the phases are reported as not exposed.
    """
    module = flow_module()
    exposes = isinstance(getattr(module, "PHASES", None), list)
    if exposes:
        module.PHASES.clear()
        module.TIMING = True
    latencies = []
    started = time.perf_counter()  # durations only; the application's time comes from its clock
    try:
        for data in datas:
            t0 = time.perf_counter()
            intake_request(db, token, data)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        phases = None
        if exposes:
            spent: dict[str, float] = {}
            for name, seconds in module.PHASES:
                spent[name] = spent.get(name, 0.0) + seconds
            phases = {name: total / len(datas) for name, total in spent.items()}
    finally:
        if exposes:
            module.TIMING = False
            module.PHASES.clear()
    return Timing(len(datas), elapsed, latencies, phases)


# -- the triage pipeline alone (a ceiling) -------------------------------------------------------------------

def triage_step(session: Any, actor: Any, data: Any) -> None:
    """One body through the triage pipeline as intake runs it, with `dry_run=True`: the ticket built and its
    requester resolved as the flow does (`resolve_customer` before issue 9, which may add a contact;
    `customers.service.resolve_requester`, which reads only, after), then `pipeline.triage`."""
    from tierline.triage import pipeline

    module = flow_module()
    ticket = module.new_ticket(session, actor=actor, data=data)
    if hasattr(module, "resolve_customer"):
        module.resolve_customer(session, actor=actor, ticket=ticket)
    elif ticket.customer_id is None:
        from tierline.customers import service as customers_service

        ticket.customer_id = customers_service.resolve_requester(
            session, email=ticket.requester_email).customer_id
    pipeline.triage(session, actor=actor, ticket=ticket, trigger="create",
                    caller_set=set(data.model_fields_set), dry_run=True)


def triage_ceiling(db: Any, datas: list[Any], seconds: float) -> dict[str, Any]:
    """The whole triage pipeline (signals, classifier, sentiment, impact, rules, assignment) on each body,
    each ticket in a transaction that is rolled back; one thread. As bench/triage.py part 2, which reads with
    a read session after creating the requesters as contacts; this one needs no setup (a write session, since
    the flow before issue 9 could add a contact)."""
    from tierline.platform.auth.actor import Actor

    actor = Actor.system("bench")
    session = db.session(write=True)

    def step(i: int) -> None:
        try:
            triage_step(session, actor, datas[i % len(datas)])
        finally:
            session.rollback()

    try:
        for i in range(min(len(datas), 50)):  # rules compiled, models unpickled, caches filled
            step(i)
        latencies = []
        started = time.perf_counter()
        deadline = started + seconds
        i = 0
        while (t0 := time.perf_counter()) < deadline:
            step(i)
            latencies.append(time.perf_counter() - t0)
            i += 1
        elapsed = time.perf_counter() - started
    finally:
        session.close()
    return {"tickets": i, "per_s": round(i / elapsed, 1), "p50_ms": round(pct(latencies, 50) * 1e3, 3),
            "p99_ms": round(pct(latencies, 99) * 1e3, 3)}
