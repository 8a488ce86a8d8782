"""Assignment: which agent takes a ticket from its queue, and which queue a tier's work lands in by default.

Who may take a ticket from a queue (every strategy):
- an active user whose agent profile is available;
- of the queue's tier: their tier (the highest agent role, `rbac.tier_for`) equals the queue's tier. SMEs also
  take L3 work: a user holding the `sme` role is eligible for L3 queues whatever their agent tier (an SME with
  no agent role has no tier and is eligible for L3 queues only);
- in the queue's team, when the queue has one (the demo's "L2 Database & Data" queue is worked by the database
  team, not by every L2 agent);
- under capacity: fewer open tickets (new, open, pending_customer, on_hold) than max_open_tickets;
- holding every required skill: the queue's required_skills plus the ticket component's required_skills.

Strategies, among the eligible agents:
- round_robin: the first agent after the queue's cursor (the user id it assigned last) in user-id order,
  wrapping around: fair over time, and agents who come back (available again, under capacity) rejoin the turn.
- least_loaded: the lowest weighted load, ties to the lowest user id. Load weighs each open ticket by its
  priority with `PRIORITY_WEIGHTS` (P1=4, P2=3, P3=2, P4=1): one P1 on a desk weighs as much as two P3s.
- skills: the most matching skills beyond the required ones (the agent's skills found among the ticket's tags,
  feature area, error-code family, and its component's and ancestors' names and required skills), then the
  least weighted load, then the lowest user id.

Concurrency: every real (not dry-run) assignment first locks the queue's cursor row (`SELECT ... FOR UPDATE`
on PostgreSQL; SQLite writers are serialised by BEGIN IMMEDIATE already), so intakes into one queue take
turns: the second reads the cursor and the loads the first committed. The lock lasts until the intake's commit.
A dry run (explain) reads the cursor without locking it and never moves it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.people import service as people_service
from tierline.platform import clock, rbac
from tierline.platform.db import core_connection
from tierline.platform.errors import NotFound
from tierline.tickets import queues
from tierline.tickets import service as tickets_service
from tierline.tickets.models import QueueCursor
from tierline.tickets.queues import QueueInfo
from tierline.triage.types import AssignmentResult, Draft

PRIORITY_WEIGHTS: dict[str, int] = {"P1": 4, "P2": 3, "P3": 2, "P4": 1}
SME_TIER = "L3"  # the tier SMEs may take work from, beside their own agent tier
MAX_REASON = 200  # tickets.waiting_reason holds the reason when nobody fits


@dataclass
class Candidate:
    user_id: int
    skills: set[str]
    max_open_tickets: int
    open_tickets: int = 0
    load: int = 0  # open tickets weighted by priority
    matching: list[str] = field(default_factory=list)  # skills beyond the required that fit this ticket


# -- who may take the ticket ------------------------------------------------------------------------------

def _people(session: Session, queue: QueueInfo) -> list[tuple[people_service.Agent, int, int]]:
    """The users who could work this queue, each with (open tickets, weighted load), before availability,
    capacity and skills are weighed: the queue's team's members, or (no team) everyone holding the tier's agent
    role (or `sme`, for L3).

    Who they are comes from the per-process roster (people.service.roster); only their open work is read, in
    one grouped query: this runs at every intake."""
    roster = people_service.roster(session)
    if queue.team_id is not None:
        agents = [roster.agents[uid] for uid in roster.members.get(queue.team_id, ()) if uid in roster.agents]
    else:
        roles = [role for role, t in rbac.AGENT_TIERS.items() if t == queue.tier]
        agents = roster.holding(roles + (["sme"] if queue.tier == SME_TIER else []))
    work = tickets_service.open_work(session, user_ids=[a.id for a in agents], weights=PRIORITY_WEIGHTS)
    return [(a, *work.get(a.id, (0, 0))) for a in agents]


def fits_tier(roles: tuple[str, ...] | list[str], tier: str | None, queue_tier: str) -> bool:
    return tier == queue_tier or (queue_tier == SME_TIER and "sme" in roles)


def required_skills(session: Session, *, queue: QueueInfo, component_id: int | None) -> set[str]:
    needed = {s.strip().lower() for s in queue.required_skills}
    if component_id is not None:
        try:
            component = components_service.info(session, component_id=component_id)
        except NotFound:
            return needed
        needed |= {s.strip().lower() for s in component.required_skills}
    return needed


def _wanted_skills(session: Session, draft: Draft) -> set[str]:
    """Words of this ticket an agent's skills can match beyond the required ones (the skills strategy)."""
    wanted = {t.lower() for t in draft.tags}
    if draft.feature_area:
        wanted.add(draft.feature_area.strip().lower())
    if draft.error_code:
        wanted.add(draft.error_code.split("-")[0].strip().lower())
    if draft.component_id is not None:
        try:
            chain = [components_service.info(session, component_id=cid)
                     for cid in components_service.lineage(session, component_id=draft.component_id)]
        except NotFound:
            chain = []
        for component in chain:
            wanted.add(component.name.strip().lower())
            wanted |= {s.strip().lower() for s in component.required_skills}
    return wanted


def eligible(session: Session, *, queue: QueueInfo, draft: Draft) -> tuple[list[Candidate], int, Counter]:
    """The eligible agents (user-id order), how many people were looked at, and why the others were not."""
    needed = required_skills(session, queue=queue, component_id=draft.component_id)
    people = _people(session, queue)
    excluded: Counter = Counter()
    out: list[Candidate] = []
    for person, open_tickets, load in people:
        if not fits_tier(person.roles, person.tier, queue.tier):
            excluded["not " + queue.tier] += 1
        elif not person.active:
            excluded["inactive"] += 1
        elif not person.available:
            excluded["unavailable"] += 1
        elif not needed <= person.skills:
            excluded["missing skills"] += 1
        elif open_tickets >= person.max_open_tickets:
            excluded["at capacity"] += 1
        else:
            out.append(Candidate(user_id=person.id, skills=set(person.skills),
                                 max_open_tickets=person.max_open_tickets, open_tickets=open_tickets, load=load))
    if needed and excluded["missing skills"]:
        excluded[f"missing skills ({', '.join(sorted(needed))})"] = excluded.pop("missing skills")
    return out, len(people), excluded


# -- the queue's cursor -------------------------------------------------------------------------------------

def _cursor_select(queue_id: int, *, lock: bool):  # noqa: ANN202
    stmt = (select(QueueCursor).where(QueueCursor.queue_id == queue_id)
            .execution_options(populate_existing=True))
    return stmt.with_for_update() if lock else stmt


_PEEK = select(QueueCursor.last_user_id).where(QueueCursor.queue_id == bindparam("queue_id"))  # a dry run's read


def lock_cursor(session: Session, *, queue_id: int) -> QueueCursor:
    """The queue's cursor row, created on first use, locked until the transaction ends."""
    cursor = session.scalar(_cursor_select(queue_id, lock=True))
    if cursor is None:
        now = clock.now()
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        session.execute(insert(QueueCursor).values(queue_id=queue_id, last_user_id=None, created_at=now,
                                                   updated_at=now)
                        .on_conflict_do_nothing(index_elements=["queue_id"]))
        cursor = session.scalar(_cursor_select(queue_id, lock=True))
    assert cursor is not None
    return cursor


# -- choosing -----------------------------------------------------------------------------------------------

def _round_robin(candidates: list[Candidate], last_user_id: int | None) -> tuple[Candidate, str]:
    after = [c for c in candidates if last_user_id is None or c.user_id > last_user_id]
    pick = after[0] if after else candidates[0]
    where = "first in turn" if last_user_id is None else f"next after user {last_user_id}"
    return pick, f"round_robin: {where} among {len(candidates)} eligible"


def _least_loaded(candidates: list[Candidate]) -> tuple[Candidate, str]:
    pick = min(candidates, key=lambda c: (c.load, c.user_id))
    return pick, (f"least_loaded: weighted load {pick.load} (P1=4 P2=3 P3=2 P4=1), lowest among "
                  f"{len(candidates)} eligible")


def _by_skills(candidates: list[Candidate], wanted: set[str], needed: set[str]) -> tuple[Candidate, str]:
    for candidate in candidates:
        candidate.matching = sorted((candidate.skills & wanted) - needed)
    pick = min(candidates, key=lambda c: (-len(c.matching), c.load, c.user_id))
    matched = ", ".join(pick.matching) or "none"
    return pick, (f"skills: {len(pick.matching)} matching beyond the required ({matched}), weighted load "
                  f"{pick.load}, among {len(candidates)} eligible")


def _nobody(queue: QueueInfo, considered: int, excluded: Counter) -> str:
    if considered == 0:
        who = f"team {queue.team_id} has no members" if queue.team_id is not None else "no agents"
        reason = f"nobody fits queue {queue.name!r} ({queue.tier}): {who}"
    else:
        why = ", ".join(f"{n} {what}" for what, n in sorted(excluded.items(), key=lambda kv: (-kv[1], kv[0])))
        reason = f"nobody fits queue {queue.name!r} ({queue.tier}): {considered} considered; {why}"
    return reason if len(reason) <= MAX_REASON else reason[:MAX_REASON - 1] + "…"


def choose(session: Session, *, draft: Draft, queue_id: int, dry_run: bool = False) -> AssignmentResult:
    """Pick the agent for a ticket in `queue_id` with the queue's strategy; user_id None (and why) when nobody
    fits.

    Not a dry run: the queue's cursor is locked and moved to the chosen agent. The caller sets the assignee.
    """
    queue = queues.info(session, queue_id=queue_id)
    strategy = queue.assignment_strategy
    cursor = None if dry_run else lock_cursor(session, queue_id=queue.id)
    candidates, considered, excluded = eligible(session, queue=queue, draft=draft)
    if not candidates:
        return AssignmentResult(user_id=None, strategy=strategy, reason=_nobody(queue, considered, excluded),
                                considered=considered)
    if strategy == "least_loaded":
        pick, reason = _least_loaded(candidates)
    elif strategy == "skills":
        needed = required_skills(session, queue=queue, component_id=draft.component_id)
        pick, reason = _by_skills(candidates, _wanted_skills(session, draft), needed)
    else:
        if cursor is not None:
            last_user_id = cursor.last_user_id
        else:  # a dry run reads the turn without taking the lock
            last_user_id = core_connection(session).execute(_PEEK, {"queue_id": queue.id}).scalar()
        pick, reason = _round_robin(candidates, last_user_id)
    if cursor is not None:
        cursor.last_user_id = pick.user_id
        cursor.updated_at = clock.now()
    return AssignmentResult(user_id=pick.user_id, strategy=strategy, reason=reason, considered=considered)


# -- default queues -----------------------------------------------------------------------------------------

def _support_team(session: Session, component_id: int) -> int | None:
    """The component's support team, else the nearest ancestor's."""
    try:
        for cid in components_service.lineage(session, component_id=component_id):  # itself, then up
            support_team_id = components_service.info(session, component_id=cid).support_team_id
            if support_team_id is not None:
                return support_team_id
    except NotFound:
        pass
    return None


def default_queue(session: Session, *, tier: str | None, team_id: int | None,
                  component_id: int | None) -> int | None:
    """A queue of `tier` (None: L1, the first-touch tier): the component's support team's (or its nearest
    ancestor's), else `team_id`'s, else any; the lowest id among equals. None when the tier has no queue."""
    tier = tier or "L1"
    rows = [q for q in queues.directory(session).values() if q.tier == tier]  # in id order
    if not rows:
        return None
    preferred = [_support_team(session, component_id) if component_id is not None else None, team_id]
    for team in preferred:
        if team is not None:
            for queue in rows:
                if queue.team_id == team:
                    return queue.id
    return rows[0].id
