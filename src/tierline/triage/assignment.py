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

Rank, then claim (compute first, write short). `rank` does everything that takes no lock: who is eligible,
their open work (the `agent_workloads` rows, kept by triggers on tickets), the strategy's order. The claim
(`tickets.workloads.claim`) then picks inside the write transaction in one statement: it locks the queue's
cursor, takes the first ranked candidate whose workload row still has room (locking that row), and moves the
cursor. The ticket saved right after with that assignee is counted on the locked row by the trigger, so a
concurrent claim for the same agent waits for the commit and re-checks capacity with it: picks stay fair and
within capacity under concurrent intake. `claimed` turns the claim's answer into the reason the triage record
shows. `choose` is the three in a row, for ticket updates and escalation; a dry run (explain) ranks and
predicts, and claims nothing. docs/assignment.md tells the whole story, with the lock order.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.people import service as people_service
from tierline.platform import clock, rbac
from tierline.platform.db import core_connection
from tierline.platform.errors import NotFound
from tierline.tickets import queues, workloads
from tierline.tickets import service as tickets_service
from tierline.tickets.models import QueueCursor
from tierline.tickets.queues import QueueInfo
from tierline.triage.types import AssignmentResult, Draft

PRIORITY_WEIGHTS: dict[str, int] = workloads.PRIORITY_WEIGHTS  # one P1 weighs as much as two P3s
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
    capacity and skills are weighed: the queue's team's members, or (no team) everyone holding the tier's
    agent role (or `sme`, for L3).

    Who they are comes from the per-process roster (people.service.roster); only their open work is read: one
    query of their workload rows by key, at every intake."""
    roster = people_service.roster(session)
    if queue.team_id is not None:
        agents = [roster.agents[uid] for uid in roster.members.get(queue.team_id, ()) if uid in roster.agents]
    else:
        roles = [role for role, t in rbac.AGENT_TIERS.items() if t == queue.tier]
        agents = roster.holding(roles + (["sme"] if queue.tier == SME_TIER else []))
    work = tickets_service.open_work(session, user_ids=[a.id for a in agents])
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
                                 max_open_tickets=person.max_open_tickets, open_tickets=open_tickets,
                                 load=load))
    if needed and excluded["missing skills"]:
        excluded[f"missing skills ({', '.join(sorted(needed))})"] = excluded.pop("missing skills")
    return out, len(people), excluded


# -- ranking: everything but the claim, before the write -------------------------------------------------

# The round-robin cursor as it stands, read without a lock (the claim locks it).
_PEEK = select(QueueCursor.last_user_id).where(QueueCursor.queue_id == bindparam("queue_id"))


@dataclass
class Ranking:
    """Who may take a ticket in a queue, best first, as the strategy sees them before the write transaction:
    what `claim` needs (`claimants`) and what `claimed` needs to explain the outcome."""

    queue: QueueInfo
    strategy: str
    candidates: list[Candidate]  # eligible and under capacity when ranked, best first
    considered: int  # people looked at
    excluded: Counter  # why the others were not eligible
    turn_after: int | None = None  # round_robin: the cursor when ranked (None: nobody assigned yet)

    @property
    def predicted(self) -> int | None:
        """Who the claim will pick unless a concurrent assignment changes the picture (a dry run's answer)."""
        return self.candidates[0].user_id if self.candidates else None

    @property
    def claimants(self) -> list[workloads.Claimant]:
        return [workloads.Claimant(user_id=c.user_id, capacity=c.max_open_tickets, rank=-len(c.matching))
                for c in self.candidates]

    @property
    def reason_if_nobody(self) -> str:
        return _nobody(self.queue, self.considered, self.excluded)


def _in_turn(candidates: list[Candidate], last_user_id: int | None) -> list[Candidate]:
    """The candidates (user-id order) in round-robin turn: those after the cursor, then the rest."""
    after = [c for c in candidates if last_user_id is None or c.user_id > last_user_id]
    return after + candidates[:len(candidates) - len(after)]


def rank(session: Session, *, draft: Draft, queue_id: int) -> Ranking:
    """Rank the agents who may take a ticket in `queue_id` with the queue's strategy. Reads only (the roster
    and queues from the per-process cache, the candidates' workload rows by key, and for round_robin the
    cursor without a lock): intake runs it before its write transaction, then `claim`s inside it."""
    queue = queues.info(session, queue_id=queue_id)
    strategy = queue.assignment_strategy
    candidates, considered, excluded = eligible(session, queue=queue, draft=draft)
    ranking = Ranking(queue=queue, strategy=strategy, candidates=candidates, considered=considered,
                      excluded=excluded)
    if not candidates:
        return ranking
    if strategy == "least_loaded":
        candidates.sort(key=lambda c: (c.load, c.user_id))
    elif strategy == "skills":
        needed = required_skills(session, queue=queue, component_id=draft.component_id)
        wanted = _wanted_skills(session, draft)
        for candidate in candidates:
            candidate.matching = sorted((candidate.skills & wanted) - needed)
        candidates.sort(key=lambda c: (-len(c.matching), c.load, c.user_id))
    else:
        ranking.turn_after = core_connection(session).execute(_PEEK, {"queue_id": queue.id}).scalar()
        ranking.candidates = _in_turn(candidates, ranking.turn_after)
    return ranking


# -- the outcome, in words --------------------------------------------------------------------------------

def _round_robin(candidates: list[Candidate], last_user_id: int | None) -> tuple[Candidate, str]:
    pick = _in_turn(candidates, last_user_id)[0]
    return pick, _round_robin_reason(len(candidates), last_user_id)


def _round_robin_reason(eligible_count: int, last_user_id: int | None) -> str:
    where = "first in turn" if last_user_id is None else f"next after user {last_user_id}"
    return f"round_robin: {where} among {eligible_count} eligible"


def _least_loaded(candidates: list[Candidate]) -> tuple[Candidate, str]:
    pick = min(candidates, key=lambda c: (c.load, c.user_id))
    return pick, _least_loaded_reason(pick, len(candidates))


def _least_loaded_reason(pick: Candidate, eligible_count: int) -> str:
    return (f"least_loaded: weighted load {pick.load} (P1=4 P2=3 P3=2 P4=1), lowest among "
            f"{eligible_count} eligible")


def _skills_reason(pick: Candidate, eligible_count: int) -> str:
    matched = ", ".join(pick.matching) or "none"
    return (f"skills: {len(pick.matching)} matching beyond the required ({matched}), weighted load "
            f"{pick.load}, among {eligible_count} eligible")


def _nobody(queue: QueueInfo, considered: int, excluded: Counter) -> str:
    if considered == 0:
        who = f"team {queue.team_id} has no members" if queue.team_id is not None else "no agents"
        reason = f"nobody fits queue {queue.name!r} ({queue.tier}): {who}"
    else:
        why = ", ".join(f"{n} {what}" for what, n in sorted(excluded.items(), key=lambda kv: (-kv[1], kv[0])))
        reason = f"nobody fits queue {queue.name!r} ({queue.tier}): {considered} considered; {why}"
    return reason if len(reason) <= MAX_REASON else reason[:MAX_REASON - 1] + "…"


def claimed(ranking: Ranking, user_id: int | None) -> AssignmentResult:
    """The assignment `ranking` led to when the claim picked `user_id` (None: nobody), with the reason the
    triage record and `waiting_reason` show."""
    strategy, n = ranking.strategy, len(ranking.candidates)
    if user_id is None:
        excluded = ranking.excluded
        if ranking.candidates:  # under capacity when ranked, filled by concurrent assignments since
            excluded = excluded + Counter({"at capacity": n})
        return AssignmentResult(user_id=None, strategy=strategy, considered=ranking.considered,
                                reason=_nobody(ranking.queue, ranking.considered, excluded))
    pick = next((c for c in ranking.candidates if c.user_id == user_id), None)
    if pick is None:
        raise ValueError(f"user {user_id} is not among the ranked candidates")
    if strategy == "least_loaded":
        reason = _least_loaded_reason(pick, n)
    elif strategy == "skills":
        reason = _skills_reason(pick, n)
    elif user_id == ranking.predicted:
        reason = _round_robin_reason(n, ranking.turn_after)
    else:  # the turn moved on (a concurrent assignment in this queue) between ranking and claim
        reason = f"round_robin: next in turn among {n} eligible"
    return AssignmentResult(user_id=user_id, strategy=strategy, reason=reason, considered=ranking.considered)


# -- choosing: rank, then claim ---------------------------------------------------------------------------

def choose(session: Session, *, draft: Draft, queue_id: int, dry_run: bool = False) -> AssignmentResult:
    """Pick the agent for a ticket in `queue_id` with the queue's strategy; user_id None (and why) when nobody
    fits. The caller sets the assignee.

    Not a dry run: the pick is claimed (tickets.workloads.claim): the queue's cursor moved to it and its
    workload row locked until the transaction ends, so the caller must save the ticket with this assignee in
    the same transaction. A dry run claims nothing and predicts from the ranking.
    """
    ranking = rank(session, draft=draft, queue_id=queue_id)
    if dry_run or not ranking.candidates:
        return claimed(ranking, ranking.predicted)
    user_id = workloads.claim(core_connection(session), queue_id=ranking.queue.id, strategy=ranking.strategy,
                              candidates=ranking.claimants, now=clock.now())
    return claimed(ranking, user_id)


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


def team_queue(session: Session, *, tier: str | None, team_id: int | None) -> int | None:
    """A queue of `tier` (None: L1) a ticket of team `team_id` may sit in, for a team someone named: the team's
    own (the lowest id), else one that belongs to no team. None when there is neither: no queue of another
    team is ever picked, since the queue decides the ticket's team."""
    tier = tier or "L1"
    rows = [q for q in queues.directory(session).values() if q.tier == tier]  # in id order
    for wanted in ((team_id, None) if team_id is not None else (None,)):
        for queue in rows:
            if queue.team_id == wanted:
                return queue.id
    return None


def tier_has_queues(session: Session, *, tier: str | None) -> bool:
    tier = tier or "L1"
    return any(q.tier == tier for q in queues.directory(session).values())


def route_queue(session: Session, *, tier: str, draft: Draft) -> int | None:
    """The queue of `tier` a ticket should land in, as intake routes: among the tier's queues, those where
    someone can take it (tier, team, availability, capacity and the component's required skills) come first;
    within each half the component's support team's queue, then the ticket's team's, then the lowest id. So
    an iOS crash escalated from a general L1 queue reaches the L2 queue whose agents know mobile, not the
    first L2 queue by id. None when the tier has no queue."""
    rows = [q for q in queues.directory(session).values() if q.tier == tier]  # in id order
    if not rows:
        return None
    support = _support_team(session, draft.component_id) if draft.component_id is not None else None

    def order(queue: QueueInfo) -> tuple[int, int, int]:
        someone = bool(eligible(session, queue=queue, draft=draft)[0])
        team_rank = 0 if support is not None and queue.team_id == support else (
            1 if draft.team_id is not None and queue.team_id == draft.team_id else 2)
        return (0 if someone else 1, team_rank, queue.id)

    return min(rows, key=order).id
