"""Apply a demo plan through the domain services, in one transaction.

Everything goes through the same service functions the API calls, with the clock frozen at each event's
historical instant, so the audit chain, the search index, the outbox and the jobs fill exactly as they
would have in production. Before each event, what a worker would have done by then runs at its own instant
(`settle.Settler`: SLA warnings, breaches and their escalations, auto-closes, problem announcements), so the
history is settled when the load ends and the server's worker starts with nothing overdue. The problems that
intake's recurrence makes are worked as a problem manager would: investigated, some left as known errors,
others fixed (announced to their open tickets in words written for customers) and later closed.

One transaction: an interrupted load leaves nothing behind, and a second run finds the marker (and the demo
admin) and adds no domain data.
"""

from __future__ import annotations

import heapq
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.components.models import Component
from tierline.customers import service as customers_service
from tierline.customers.models import Contact, Customer
from tierline.demo import architecture as arch
from tierline.demo import service_levels, triage_rules
from tierline.demo.plans import DemoPlan, Event, TicketPlan
from tierline.demo.settle import Settler
from tierline.flows import intake, messages, ticket_update
from tierline.flows import people as people_flow
from tierline.people import service as people_service
from tierline.people import teams as people_teams
from tierline.people.models import Team
from tierline.platform import app_settings, audit, clock
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.actor import Actor
from tierline.platform.auth.models import User
from tierline.problems import service as problems_service
from tierline.sla import calendars, policies
from tierline.tickets import forms, queues
from tierline.tickets import state_machine as sm
from tierline.tickets.models import TIERS, Message, Queue, Ticket
from tierline.tickets.schemas import TicketCreate
from tierline.triage import rules as rules_service

MARKER = "demo.loaded"
DEMO = Actor.system("demo")
# Who brings a customer's words into Tierline, by channel (a phone ticket is typed in by the desk).
INTAKE = {channel: Actor.system(f"intake:{channel}") for channel in ("email", "web", "chat", "phone", "api")}
ORG_AGE = timedelta(days=3 * 365)  # the organisation and its first customers predate the ticket history

ProgressFn = Callable[[str, int, int], None]  # (stage, done, total)
# How a problem manager works a problem intake made: each step some hours after the previous one ...
PROBLEM_STEPS = (("investigating", (1, 8)), ("known_error", (24, 120)), ("fixed", (48, 480)),
                 ("closed", (120, 336)))
# ... up to where the problem's story ends, in turn: most are fixed and closed, some stay known errors (a
# workaround and no fix planned), some are fixed and not yet closed, some are still being investigated. The
# young ones stop earlier by themselves: their later steps would fall after now.
PROBLEM_FATES = ("closed", "fixed", "known_error", "closed", "investigating", "fixed", "closed", "known_error")


@dataclass
class LoadStats:
    skipped_events: list[str] = field(default_factory=list)
    # Tickets intake's triage put in another queue than the plan expected (the plan and the rules disagree).
    misrouted: list[str] = field(default_factory=list)
    created: int = 0
    assigned_at_intake: int = 0  # of those, the tickets intake's triage found an agent for
    settled: dict[str, int] = field(default_factory=dict)  # what the worker's part did: warnings, breaches...
    problem_steps: int = 0


def loaded_marker(session: Session) -> dict[str, Any] | None:
    """What an earlier run loaded, if its data is still there (the marker survives test-database resets)."""
    raw = app_settings.get(session, MARKER)
    if raw is None or auth_service.get_user_by_email(session, email=arch.ADMIN_EMAIL) is None:
        return None
    return json.loads(raw)


def write_marker(session: Session, value: dict[str, Any]) -> None:
    row = session.get(app_settings.AppSetting, MARKER)
    text = json.dumps(value, sort_keys=True)
    if row is None:
        session.add(app_settings.AppSetting(key=MARKER, value=text, created_at=clock.now()))
    else:
        row.value = text
    audit.record(session, DEMO, "demo.load", entity_type="app_settings", entity_id=MARKER,
                 changes={"value": [None, value]})


class Loader:
    def __init__(self, session: Session, plan: DemoPlan, progress: ProgressFn | None = None) -> None:
        self.session, self.plan = session, plan
        self.progress = progress or (lambda stage, done, total: None)
        self.user_ids: dict[str, int] = {}
        self.actors: dict[str, Actor] = {}
        self.team_ids: dict[str, int] = {}
        self.component_ids: dict[str, int] = {}
        self.queue_ids: dict[str, int] = {}
        self.queue_team: dict[str, int | None] = {}
        self.tickets: dict[int, Any] = {}
        self.assignee: dict[int, str] = {}
        self.email_of: dict[int, str] = {}
        # Ticket -> {the agent the plan drew: the agent who plays that part} (intake's triage or an SLA
        # escalation found someone else first).
        self.stand_in: dict[int, dict[str, str]] = {}
        self.settler = Settler(session)
        self.problem_steps: list[tuple[datetime, int, int, str]] = []  # (at, order, problem id, status)
        self.problem_ticket: dict[int, TicketPlan] = {}  # problem id -> the ticket plan that made it
        self.problems_worked = 0
        self.stats = LoadStats()
        # Strong references to rows the services look up again and again, so those lookups hit the session's
        # identity map (it holds objects weakly) instead of the database.
        self.keep: list[Any] = []

    def load(self) -> LoadStats:
        start = self.plan.now - ORG_AGE
        with clock.frozen(start):
            self._organisation()
            self._service_levels()
            self._triage_rules()
        self._customers(start)
        self._tickets()
        self._problem_steps_until(self.plan.now)
        self.settler.until(self.plan.now)
        self.stats.settled = dict(self.settler.ran)
        return self.stats

    # -- the organisation ----------------------------------------------------------------------------

    def _organisation(self) -> None:
        s, plan = self.session, self.plan
        total = 1 + len(plan.staff) + len(arch.TEAMS) + len(arch.COMPONENTS) + len(arch.QUEUES)
        done = 1
        admin = people_service.create_user(s, actor=DEMO, email=arch.ADMIN_EMAIL, name=arch.ADMIN_NAME,
                                           roles=["admin"], timezone="UTC", max_open_tickets=0)
        self.user_ids[arch.ADMIN_EMAIL] = admin.id
        for person in plan.staff:
            view = people_service.create_user(s, actor=DEMO, email=person.email, name=person.name,
                                              roles=person.roles, timezone=person.timezone,
                                              skills=person.skills, max_open_tickets=person.max_open_tickets)
            user = auth_service.get_user(s, user_id=view.id)
            self.user_ids[person.email] = view.id
            self.email_of[view.id] = person.email
            self.actors[person.email] = auth_service.actor_for(user, via="session")
            self.keep += [user, people_service.get_profile(s, user_id=view.id)]
            done += 1
            self.progress("organisation", done, total)
        for team in arch.TEAMS:
            members = [self.user_ids[p.email] for p in plan.staff if team.name in p.teams]
            row = people_teams.create_team(s, actor=DEMO, name=team.name, kind=team.kind,
                                           description=team.description, member_ids=members)
            self.team_ids[team.name] = row.id
            self.keep.append(row)
            done += 1
            self.progress("organisation", done, total)
        for comp in arch.COMPONENTS:
            row = components_service.create(
                s, actor=DEMO, name=comp.name,
                parent_id=self.component_ids[comp.parent] if comp.parent else None,
                owner_team_id=self.team_ids[comp.owner_team],
                support_team_id=self.team_ids[comp.support_team],
                required_skills=comp.skills, description=comp.description)
            self.component_ids[comp.name] = row.id
            self.keep.append(row)
            done += 1
            self.progress("organisation", done, total)
        for q in arch.QUEUES:
            row = queues.create(s, actor=DEMO, name=q.name, tier=q.tier, team_id=self.team_ids[q.team],
                                description=f"{q.tier} work for {q.team}.", assignment_strategy=q.strategy)
            self.queue_ids[q.name], self.queue_team[q.name] = row.id, row.team_id
            self.keep.append(row)
            done += 1
            self.progress("organisation", done, total)

    def _service_levels(self) -> None:
        calendar_ids = {}
        for spec in service_levels.CALENDARS:
            row = calendars.create_calendar(self.session, actor=DEMO, **spec)
            calendar_ids[spec["name"]] = row.id
            self.keep.append(row)  # every SLA clock change reads its calendar
        for spec in service_levels.POLICIES:
            values = {k: v for k, v in spec.items() if k != "calendar"}
            values.update(calendar_id=calendar_ids[spec["calendar"]], active=True, warning_percent=75,
                          pause_statuses=["pending_customer", "on_hold"])
            self.keep.append(policies.create_policy(self.session, actor=DEMO, values=values))

    def _triage_rules(self) -> None:
        """Before any ticket, so intake triage routes the whole history by them."""
        ids = {"queue": self.queue_ids, "team": self.team_ids, "component": self.component_ids}
        for spec in triage_rules.RULES:
            rules_service.create(self.session, actor=DEMO, **triage_rules.resolve(spec, ids))

    def _customers(self, start: datetime) -> None:
        s, custs = self.session, self.plan.customers
        # Customers signed up over the organisation's life, oldest first, all before the ticket history.
        span = (self.plan.now - timedelta(days=181)) - start
        for i, c in enumerate(custs):
            with clock.frozen(start + timedelta(hours=1) + span * (i / max(1, len(custs)))):
                row = customers_service.create(
                    s, actor=DEMO, name=c.name, external_id=c.external_id, plan=c.plan, arr=c.arr,
                    region=c.region, timezone=c.timezone, licensed_users=c.licensed_users,
                    email_domains=c.email_domains)
                self.keep.append(row)
                for contact in c.contacts:
                    self.keep.append(customers_service.create_contact(
                        s, actor=DEMO, customer_id=row.id, email=contact.email, name=contact.name))
            self.progress("customers", i + 1, len(custs))

    # -- tickets -------------------------------------------------------------------------------------

    def _tickets(self) -> None:
        events, plans = self.plan.events, self.plan.tickets
        total = len(events)
        for n, event in enumerate(events, 1):
            self._problem_steps_until(event.at)
            self.settler.until(event.at)
            with clock.frozen(event.at):
                if event.kind == "availability":
                    self._availability(event)
                    continue
                ticket_plan = plans[event.ticket]
                if event.kind == "create":
                    self._create(ticket_plan)
                elif event.kind == "message":
                    self._message(ticket_plan, event)
                else:
                    self._update(ticket_plan, event)
            if n % 50 == 0 or n == total:
                self.progress("tickets", n, total)

    def _create(self, t: TicketPlan) -> None:
        # No queue, team or tier: intake's triage routes the ticket (rules, else the tier's default queue) and
        # assigns it when someone fits.
        data = TicketCreate(
            subject=t.subject, description=t.description, requester_email=t.requester_email, type=t.type,
            priority=t.priority, channel=t.channel,
            component_id=self.component_ids[t.component_at_intake] if t.component_at_intake else None,
            feature_area=t.feature_area, error_code=t.error_code, tags=t.tags, urgency=t.urgency,
            affected_users=t.affected_users)
        ticket = intake.create_ticket(self.session, actor=INTAKE[t.channel], data=data)
        self.tickets[t.index] = ticket
        self.stats.created += 1
        self.stats.assigned_at_intake += ticket.assignee_id is not None
        if ticket.queue_id != self.queue_ids[t.queue]:
            got = next((name for name, i in self.queue_ids.items() if i == ticket.queue_id), ticket.queue_id)
            self.stats.misrouted.append(f"ticket #{t.index} ({t.error_code}, {t.component_at_intake}): planned "
                                        f"{t.queue}, triage chose {got}")
        problem = (ticket.triage or {}).get("problem") or {}
        if (problem.get("created") or problem.get("reopened")) and problem.get("problem_id") is not None:
            # A new problem, or a fixed one this ticket reopened as a regression: it is worked (again).
            self._plan_problem(int(problem["problem_id"]), t)

    def _message(self, t: TicketPlan, event: Event) -> None:
        ticket, d = self.tickets[t.index], event.data
        if d["author_type"] == "customer":
            message = messages.create(self.session, actor=INTAKE[t.channel], ticket_key=ticket.key,
                                      body=d["body"], public=True, author_type="customer",
                                      author_email=d["author"])
            if message.ticket_id != ticket.id:  # written after the close: the plan goes on with the follow-up
                self.tickets[t.index] = self.session.get(Ticket, message.ticket_id)
            return
        if ticket.status == sm.CLOSED:
            self._skip(t, event, "the ticket is closed")
            return
        messages.create(self.session, actor=self.actors[self._agent(t, d["author"])], ticket_key=ticket.key,
                        body=d["body"], public=d["public"])

    def _agent(self, t: TicketPlan, planned: str) -> str:
        """Who does what the plan gave `planned` to (triage's pick, or the agent an SLA escalation found)."""
        return self.stand_in.get(t.index, {}).get(planned, planned)

    def _availability(self, event: Event) -> None:
        """Someone is out of the office: their team's manager marks them unavailable (their open tickets go
        back to their queues, and assignment passes them by)."""
        email = event.data["email"]
        person = next(p for p in self.plan.staff if p.email == email)
        manager = next((p.email for p in self.plan.staff if "manager" in p.roles
                        and set(p.teams) & set(person.teams)), None)
        people_flow.update_user(self.session, actor=self.actors[manager] if manager else DEMO,
                                user_id=self.user_ids[email], available=event.data["available"])

    # -- problems --------------------------------------------------------------------------------------

    def _plan_problem(self, problem_id: int, t: TicketPlan) -> None:
        """Intake's recurrence made a problem from this ticket's signature, or reopened a fixed one: plan how
        it is worked (a random draw of its own, so the plan's tickets do not change with how many problems
        appear)."""
        rng = random.Random(f"{self.plan.seed}:{problem_id}:{self.problems_worked}")
        fate = PROBLEM_FATES[self.problems_worked % len(PROBLEM_FATES)]
        self.problems_worked += 1
        at = clock.now()
        self.problem_ticket.setdefault(problem_id, t)
        for status, (lo, hi) in PROBLEM_STEPS:
            at = at + timedelta(hours=rng.uniform(lo, hi))
            heapq.heappush(self.problem_steps, (at, len(self.problem_steps), problem_id, status))
            if status == fate:
                break

    def _problem_steps_until(self, until: datetime) -> None:
        while self.problem_steps and self.problem_steps[0][0] <= until:
            at, _, problem_id, status = heapq.heappop(self.problem_steps)
            self.settler.until(at)
            with clock.frozen(at):
                self._problem_step(problem_id, status)

    def _problem_step(self, problem_id: int, status: str) -> None:
        """Move the problem on, unless it moved elsewhere meanwhile (a regression reopens a fixed one)."""
        problem = problems_service.get(self.session, problem_id=problem_id)
        if status not in problems_service.allowed(problem.status):
            return
        t = self.problem_ticket[problem_id]
        changes: dict[str, Any] = {"status": status}
        if status == "known_error":
            # The title was the first customer's subject: the problem manager names it for everyone.
            cause = (t.root_cause or "cause under investigation").rstrip(".")
            changes["title"] = f"{t.component}: {cause[:1].lower()}{cause[1:]}"[:500]
        if status == "fixed":
            changes["public_summary"] = (
                f"We found the cause of the {t.feature_area} issue you reported and deployed a fix. The problem "
                "should no longer occur; if you still see it, reply to this ticket and we'll look again.")
        engineer = next((p.email for p in self.plan.staff if "agent_l3" in p.roles), None)
        actor = self.actors[engineer] if engineer else DEMO
        problems_service.update(self.session, actor=actor, key=problem.key, changes=changes)
        self.stats.problem_steps += 1

    def _update(self, t: TicketPlan, event: Event) -> None:
        s, ticket, d = self.session, self.tickets[t.index], dict(event.data)
        target = d.get("status")
        if target == sm.CLOSED:
            # The auto-close job closed it when the reopen window ended (settled before this step); should
            # it not have run, this is its step.
            if ticket.status != sm.CLOSED and not ticket_update.auto_close(s, ticket_id=ticket.id):
                self._skip(t, event, f"auto-close did not apply to a {ticket.status} ticket")
            return
        changes: dict[str, Any] = {}
        if "component" in d:  # the agent says what a vague ticket is about
            changes["component_id"] = self.component_ids[d["component"]]
        if "queue" in d and self._rank(ticket.tier) > self._rank(self._tier_of(d["queue"])):
            # An SLA breach escalated the ticket past where the plan has it now: it stays there, and whoever
            # the escalation found plays the plan's part.
            d = {k: v for k, v in d.items() if k not in ("queue", "tier", "assignee")}
            if "assignee" in event.data and ticket.assignee_id is not None:
                self.stand_in.setdefault(t.index, {})[event.data["assignee"]] = self.email_of[ticket.assignee_id]
                self.assignee[t.index] = self.email_of[ticket.assignee_id]
        if "assignee" in d:
            first_touch = t.index not in self.assignee and d.get("queue") == t.queue
            if first_touch and ticket.assignee_id is not None and ticket.queue_id == self.queue_ids[t.queue]:
                # Intake's triage gave it to an agent of this queue already: they play the plan's part.
                self.stand_in.setdefault(t.index, {})[d["assignee"]] = self.email_of[ticket.assignee_id]
                self.assignee[t.index] = self.email_of[ticket.assignee_id]
            elif people_service.is_assignable_agent(s, user_id=self.user_ids[d["assignee"]]):
                changes["assignee_id"] = self.user_ids[d["assignee"]]
                self.assignee[t.index] = d["assignee"]
        if "queue" in d:
            changes["queue_id"], changes["team_id"] = self.queue_ids[d["queue"]], self.queue_team[d["queue"]]
        if "tier" in d:
            changes["tier"] = d["tier"]
        # Only what differs: an update that changes nothing still costs a reconcile of the SLA clocks.
        changes = {k: v for k, v in changes.items() if getattr(ticket, k) != v}
        if target is not None and target != ticket.status:
            if target not in sm.allowed(ticket.status, solved_at=ticket.solved_at):
                self._skip(t, event, f"{ticket.status} -> {target} is not allowed")
                target = None
            else:
                changes["status"] = target
        if target == sm.SOLVED:
            changes.update(self._solve_fields(t, ticket))
        if not changes:
            return
        actor = self.actors.get(self.assignee.get(t.index, ""), DEMO)
        ticket_update.update(s, actor=actor, ticket=ticket, changes=changes)

    def _solve_fields(self, t: TicketPlan, ticket: Any) -> dict[str, Any]:
        """What the ticket form asks for before solving, from what the agent learnt."""
        out: dict[str, Any] = {}
        for name in forms.missing_fields(self.session, ticket):
            if name == "custom_fields.root_cause_summary":
                out.setdefault("custom_fields", {})["root_cause_summary"] = (
                    t.root_cause or "Configuration on the customer's side; no product defect.")
            elif name == "error_code":
                out["error_code"] = t.error_code or t.diagnosed_code or "N/A"
        return out

    def _tier_of(self, queue: str) -> str:
        return next(q.tier for q in arch.QUEUES if q.name == queue)

    @staticmethod
    def _rank(tier: str | None) -> int:
        return TIERS.index(tier) if tier in TIERS else 0

    def _skip(self, t: TicketPlan, event: Event, why: str) -> None:
        self.stats.skipped_events.append(f"ticket #{t.index} {event.kind} {event.data.get('status', '')}: "
                                         f"{why}")


def counts(session: Session) -> dict[str, int]:
    models = {"users": User, "teams": Team, "components": Component, "queues": Queue, "customers": Customer,
              "contacts": Contact, "tickets": Ticket, "messages": Message}
    return {name: session.scalar(select(func.count()).select_from(m)) or 0 for name, m in models.items()}
