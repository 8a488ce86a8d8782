"""Turn a seed into a demo plan: plain data, no database.

The same seed and the same "now" give the same plan, byte for byte. Times are relative to "now" (the last
180 days), so a demo loaded today looks current. Ticket lifecycles are simulated as timed events (create,
replies, notes, status changes); the loader applies every event that falls before "now", so old tickets end
up solved or closed and recent ones are still new, open or pending, as in a real support queue.

What makes it look like a real desk rather than a catalogue: about one ticket in ten is vague (a symptom that
fits several components; the agent finds out which), some 7% of solved tickets are reopened by the customer
and worked again, a customer writing after the close opens a follow-up that names what came back, outages make
bursts of one error from many customers (the problems), and this morning's intake is a live backlog: the
billing desk is out today, so the overnight invoice run's questions wait in L1 Billing, new and unassigned.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from tierline.demo import architecture as arch
from tierline.demo import names, triage_rules
from tierline.demo.corpus import SCENARIOS, VAGUE, Scenario, Vague
from tierline.demo.plans import ContactPlan, CustomerPlan, DemoPlan, Event, StaffPlan, TicketPlan
from tierline.demo.texts import TicketText, TicketWriter, standard_offset

HISTORY_DAYS = 180
PLANS = ("free", "pro", "business", "enterprise")


def generate(*, seed: int, customers: int, tickets: int, now: datetime) -> DemoPlan:
    rng = random.Random(seed)
    now = now.astimezone(UTC).replace(second=0, microsecond=0)
    staff = _staff(rng)
    custs = _customers(rng, customers)
    builder = _TicketBuilder(rng, now, staff, custs)
    plans, events = builder.build(tickets)
    events = sorted((e for e in events if e.at < now), key=lambda e: (e.at, e.ticket, e.order))
    return DemoPlan(seed=seed, now=now, staff=staff, customers=custs, tickets=plans, events=events,
                    absent=builder.absent)


# -- staff ---------------------------------------------------------------------------------------------

def _unique_person(rng: random.Random, used: set[str], domain: str) -> tuple[str, str]:
    while True:
        first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
        local = f"{first}.{last}".lower().replace(" ", "")
        if local not in used:
            used.add(local)
            return f"{first} {last}", f"{local}@{domain}"


def _staff(rng: random.Random) -> list[StaffPlan]:
    used: set[str] = set()
    out = []
    for spec in arch.STAFF:
        for _ in range(spec.count):
            name, email = _unique_person(rng, used, arch.STAFF_DOMAIN)
            k = min(len(spec.specialisms), rng.randint(1, 3))
            skills = sorted(set(spec.skills) | set(rng.sample(spec.specialisms, k)))
            out.append(StaffPlan(email=email, name=name, roles=list(spec.roles),
                                 timezone=rng.choice(names.STAFF_TIMEZONES), skills=skills,
                                 max_open_tickets=spec.max_open_tickets, teams=list(spec.teams),
                                 title=spec.title))
    return out


# -- customers -----------------------------------------------------------------------------------------

def _plan_for(arr: int) -> str:
    if arr == 0:
        return "free"
    if arr < 25_000:
        return "pro"
    if arr < 150_000:
        return "business"
    return "enterprise"


def _customers(rng: random.Random, n: int) -> list[CustomerPlan]:
    used_names: set[str] = set()
    used_people: set[str] = set()
    regions = list(names.REGIONS)
    region_weights = [names.REGIONS[r][0] for r in regions]
    out = []
    for i in range(n):
        while True:
            base = f"{rng.choice(names.COMPANY_FIRST)} {rng.choice(names.COMPANY_SECOND)}"
            if base not in used_names:
                used_names.add(base)
                break
        name = base + rng.choice(names.COMPANY_SUFFIX)
        # ARR: a long tail (lognormal, median ~$20k, a few accounts above $1M) and some free workspaces.
        arr = 0 if rng.random() < 0.15 else int(round(rng.lognormvariate(math.log(20_000), 1.35), -2))
        arr = max(arr, 1_200) if arr else 0
        plan = _plan_for(arr)
        licensed = rng.randint(1, 5) if plan == "free" else max(3, int(arr / rng.uniform(250, 600)))
        region = rng.choices(regions, region_weights)[0]
        slug = base.lower().replace(" ", "")
        domains = [slug + rng.choice(names.EMAIL_TLDS)]
        if plan == "enterprise" and rng.random() < 0.4:
            domains.append(f"{slug}-{rng.choice(('eu', 'us', 'apac', 'corp'))}.example.com")
        n_contacts = 1 + min(7, int(math.log(licensed + 1, 3)))
        contacts = []
        for _ in range(n_contacts):
            person, _email = _unique_person(rng, used_people, domains[0])
            local = person.lower().replace(" ", ".") if rng.random() < 0.7 else (
                rng.choice(names.CONTACT_ROLES) + "-" + person.split()[0].lower())
            contacts.append(ContactPlan(email=f"{local}@{rng.choice(domains)}", name=person))
        contacts = list({c.email: c for c in contacts}.values())
        activity = (licensed ** 0.55) * rng.uniform(0.5, 1.5)
        out.append(CustomerPlan(
            external_id=f"CUS-{10001 + i}", name=name, plan=plan, arr=arr, region=region,
            timezone=rng.choice(names.REGIONS[region][1]), licensed_users=licensed, email_domains=domains,
            contacts=contacts, activity=activity))
    return out


# -- tickets -------------------------------------------------------------------------------------------

FIRST_RESPONSE_MINUTES = {"P1": (4, 30), "P2": (15, 120), "P3": (30, 480), "P4": (60, 1440)}
# Business and enterprise contracts promise faster first responses (service_levels.POLICIES); the desk meets
# them most of the time, so a few breach.
CONTRACTED_FIRST_RESPONSE_MINUTES = {"P1": (3, 32), "P2": (8, 66), "P3": (20, 260), "P4": (30, 520)}
# The next-reply targets (service_levels.POLICIES, business minutes; calendar minutes here, which are never
# fewer): the agent answers a customer's message inside them nine times in ten.
NEXT_REPLY_MINUTES = {"P1": 60, "P2": 120, "P3": 480, "P4": 960}
STANDARD_NEXT_REPLY_MINUTES = {"P1": 120, "P2": 480, "P3": 960, "P4": 1920}
LATE_REPLY_SHARE = 0.1
CHANNELS = (("email", 45), ("web", 30), ("chat", 12), ("phone", 6), ("api", 7))
RECENT_MINUTES = 240
BURST_SCENARIOS = ("Load Balancer", "Connection Pooling", "CDN", "SSO & SAML", "Webhooks", "Replication")
VAGUE_SHARE = 0.1  # tickets that tell a symptom fitting several components
REOPEN_SHARE = 0.07  # solved tickets the customer reopens inside the reopen window
FOLLOW_UP_SHARE = 0.05  # closed tickets whose customer writes again (a follow-up ticket)
# This morning the billing desk (L1 Billing) is out; the overnight invoice run brings its questions.
ABSENT_QUEUE = "L1 Billing"
MORNING_BILLING_SHARE = 0.4
BILLING_COMPONENTS = ("Invoicing", "Payments", "Subscriptions & Plans")


class _TicketBuilder:
    def __init__(self, rng: random.Random, now: datetime, staff: list[StaffPlan],
                 customers: list[CustomerPlan]) -> None:
        self.rng, self.now, self.customers = rng, now, customers
        self.writer = TicketWriter(rng)
        self.weights = [c.activity for c in customers]
        self.by_team: dict[str, list[StaffPlan]] = {}
        for person in staff:
            if any(r.startswith("agent_") for r in person.roles):
                for team in person.teams:
                    self.by_team.setdefault(team, []).append(person)
        self.queues = {q.name: q for q in arch.QUEUES}
        self.components = {c.name: c for c in arch.COMPONENTS}
        self.parents = {c.name: c.parent for c in arch.COMPONENTS}
        self.scenario_weights = [s.weight for s in SCENARIOS]
        self.billing = [s for s in SCENARIOS if s.component in BILLING_COMPONENTS]
        self.events: list[Event] = []
        self.order = 0
        self.stalled = False  # the current ticket's agent is out: nothing more happens to it
        # Who is out of the office since when: the billing desk's first-touch agents, since early this morning.
        spec = self.queues[ABSENT_QUEUE]
        since = (now - timedelta(minutes=RECENT_MINUTES + rng.uniform(30, 90))).replace(second=0, microsecond=0)
        self.absent = {p.email: since for p in self.by_team[spec.team]
                       if f"agent_{spec.tier.lower()}" in p.roles}
        for email, at in self.absent.items():
            self._event(at, -1, "availability", email=email, available=False)

    def build(self, n: int) -> tuple[list[TicketPlan], list[Event]]:
        rng = self.rng
        slots: list[tuple[datetime | None, Scenario | None, str | None]] = []
        bursts = max(0, n // 150) if n >= 100 else 0
        for b in range(bursts):  # outages: many customers write at once (the last one yesterday)
            burst_component = rng.choice(BURST_SCENARIOS)
            scenario = next(s for s in SCENARIOS if s.component == burst_component and s.type == "incident")
            start = self.now - (timedelta(hours=rng.uniform(8, 36)) if b == bursts - 1
                                else timedelta(days=rng.uniform(3, HISTORY_DAYS - 5)))
            code = rng.choice(scenario.error_codes) if scenario.error_codes else None
            for _ in range(rng.randint(4, 10)):
                if len(slots) < n:
                    slots.append((start + timedelta(minutes=rng.uniform(0, 90)), scenario, code))
        # The morning's intake: tickets of the last few hours, most not answered yet, so the queues are live
        # (SLA targets falling due) whenever the demo is loaded; a third are the invoice run's billing questions.
        for _ in range(min(n - len(slots), max(3, n // 100))):
            at = self.now - timedelta(minutes=rng.uniform(10, RECENT_MINUTES))
            billing = rng.choice(self.billing) if rng.random() < MORNING_BILLING_SHARE else None
            slots.append((at.replace(microsecond=0), billing, None))
        while len(slots) < n:
            slots.append((None, None, None))
        drafts = []
        for when, scenario, code in slots:
            customer = rng.choices(self.customers, self.weights)[0] if self.customers else None
            vague = None
            if scenario is None and rng.random() < VAGUE_SHARE:
                vague = rng.choice(VAGUE)
                component, type_ = rng.choice(vague.candidates)
                scenario = next(s for s in SCENARIOS if s.component == component and s.type == type_)
            scenario = scenario or rng.choices(SCENARIOS, self.scenario_weights)[0]
            when = when or self._created_at(customer.timezone if customer else "UTC")
            drafts.append((when, scenario, code, customer, vague))
        drafts.sort(key=lambda d: d[0])
        plans = [self._ticket(i, *d) for i, d in enumerate(drafts)]
        return plans, self.events

    def _created_at(self, tz: str) -> datetime:
        rng, offset = self.rng, standard_offset(tz)
        while True:
            days_ago = HISTORY_DAYS * rng.random()
            if rng.random() < 0.4 * days_ago / HISTORY_DAYS:  # volume grows with the customer base
                continue
            local_day = (self.now + offset - timedelta(days=days_ago)).date()
            if local_day.weekday() >= 5 and rng.random() < 0.7:
                continue
            hour = rng.uniform(8, 18.5) if rng.random() < 0.8 else rng.uniform(0, 24)
            local = datetime.combine(local_day, datetime.min.time()) + timedelta(hours=hour)
            at = (local - offset).replace(tzinfo=UTC)
            if at < self.now:
                return at.replace(microsecond=0)

    def _ticket(self, index: int, created: datetime, scenario: Scenario, code: str | None,
                customer: CustomerPlan | None, vague: Vague | None) -> TicketPlan:
        rng = self.rng
        requester, requester_name, customer_ref = self._requester(customer)
        priority = self._priority(scenario, customer)
        channel = "phone" if priority == "P1" and rng.random() < 0.3 else rng.choices(
            [c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        text = self.writer.ticket(scenario, customer, requester_name, code, created, priority, channel=channel,
                                  vague=vague)
        stated_component = None if vague is not None else scenario.component
        # Where intake's triage rules send it (by error-code family), else the first-touch L1 queue.
        first_touch = self.components[scenario.component].l2_queue if stated_component else None
        queue = triage_rules.intake_queue(
            error_code=text.code, component=stated_component, plan=customer.plan if customer_ref else None,
            parents=self.parents) or (arch.L1_QUEUE_FOR_BILLING if first_touch == "L2 Billing" else arch.L1_QUEUE)
        urgency = {"P1": "high", "P2": "high", "P3": "medium", "P4": "low"}[priority]
        affected = None if scenario.type in ("question", "task", "feature_request") else text.users
        extra_tags = {"enterprise"} if customer and customer.plan == "enterprise" else set()
        plan = TicketPlan(
            index=index, created_at=created, subject=text.subject, description=text.description,
            requester_email=requester, customer=customer_ref, type=scenario.type, priority=priority,
            channel=channel, component=scenario.component, feature_area=scenario.feature_area,
            error_code=text.code, tags=sorted(set(scenario.tags) | extra_tags),
            urgency=urgency, affected_users=affected, queue=queue,
            root_cause=text.root_cause, component_at_intake=stated_component,
            diagnosed_code=text.diagnosed_code)
        self.stalled = False
        self._event(created, index, "create")
        self._lifecycle(plan, scenario, customer, requester_name, text)
        return plan

    def _requester(self, customer: CustomerPlan | None) -> tuple[str, str, str | None]:
        rng = self.rng
        if customer is None or rng.random() < 0.02:  # someone with a personal address: no customer
            first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
            local = f"{first}.{last}{rng.randint(1, 99)}".lower().replace(" ", "")
            return f"{local}@mail.example.net", f"{first} {last}", None
        if rng.random() < 0.06:  # a new colleague at a known customer: becomes a contact on intake
            first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
            email = f"{first[0]}{last}".lower().replace(" ", "") + f"@{rng.choice(customer.email_domains)}"
            return email, f"{first} {last}", customer.external_id
        contact = rng.choice(customer.contacts)
        return contact.email, contact.name, customer.external_id

    def _priority(self, scenario: Scenario, customer: CustomerPlan | None) -> str:
        rng, levels = self.rng, ("P1", "P2", "P3", "P4")
        i = levels.index(scenario.priority)
        if customer and customer.plan == "enterprise" and rng.random() < 0.15:
            i -= 1
        if customer and customer.plan == "free" and rng.random() < 0.5:
            i += 1
        r = rng.random()
        i += -1 if r < 0.1 else (1 if r > 0.85 else 0)
        i = max(0 if scenario.type == "incident" else 1, min(3, i))
        return levels[i]

    def _event(self, at: datetime, ticket: int, kind: str, **data: Any) -> datetime:
        """Plan one step; a step of an agent who is out of the office by then stalls the ticket instead
        (nothing more happens to it: it waits for someone to pick it up)."""
        agent = data.get("assignee") or (data.get("author") if data.get("author_type") == "agent" else None)
        if ticket >= 0 and (self.stalled or (agent in self.absent and at >= self.absent[agent])):
            self.stalled = True
            return at
        self.order += 1
        self.events.append(Event(at=at, ticket=ticket, order=self.order, kind=kind, data=data))
        return at

    def _pick_agent(self, queue: str, at: datetime) -> StaffPlan | None:
        """An agent of the queue's team and tier (the team's agents of any tier if none has it) who is in the
        office at `at`; None when nobody is."""
        spec = self.queues[queue]
        team = [p for p in self.by_team[spec.team] if p.email not in self.absent or at < self.absent[p.email]]
        return self.rng.choice([p for p in team if f"agent_{spec.tier.lower()}" in p.roles] or team or [None])

    def _lifecycle(self, t: TicketPlan, scenario: Scenario, customer: CustomerPlan | None,
                   requester_name: str, text: TicketText) -> None:
        rng, w, i = self.rng, self.writer, t.index
        first = requester_name.split()[0]
        contracted = t.customer is not None and customer is not None and customer.plan in (
            "business", "enterprise")
        lo, hi = (CONTRACTED_FIRST_RESPONSE_MINUTES if contracted else FIRST_RESPONSE_MINUTES)[t.priority]
        at = t.created_at + timedelta(minutes=rng.uniform(lo, hi))
        agent = self._pick_agent(t.queue, at)
        if agent is None:
            return  # nobody of the queue is in: the ticket waits, new and unassigned
        touch: dict[str, Any] = {"status": "open", "assignee": agent.email, "queue": t.queue}
        if t.component_at_intake != t.component:  # the agent tells what the vague ticket is about
            touch["component"] = t.component
        self._event(at, i, "update", **touch)
        asks_details = rng.random() < 0.55
        at = at + timedelta(minutes=rng.uniform(1, 6))
        self._event(at, i, "message", author=agent.email, author_type="agent", public=True,
                    body=w.ack(text, first, asks_details, at))
        if rng.random() < 0.35:
            at = at + timedelta(minutes=rng.uniform(2, 30))
            self._event(at, i, "message", author=agent.email, author_type="agent", public=False,
                        body=w.triage_note(text, i, at))
        if asks_details:
            self._event(at + timedelta(seconds=30), i, "update", status="pending_customer")
            at = at + timedelta(hours=rng.uniform(0.3, 20))
            self._event(at, i, "message", author=t.requester_email, author_type="customer", public=True,
                        body=w.customer_details(text, at))
            at = self._reply(t, text, agent, at, contracted)
        queue = t.queue
        tier = self.queues[queue].tier
        if tier != "L3" and rng.random() < scenario.escalation:
            if tier == "L1":
                queue = self.components[scenario.component].l2_queue
                at = at + timedelta(minutes=rng.uniform(10, 180))
                self._event(at, i, "message", author=agent.email, author_type="agent", public=False,
                            body=w.escalation_note(text, queue, at))
                agent = self._pick_agent(queue, at + timedelta(minutes=1)) or agent
                at = self._event(at + timedelta(minutes=1), i, "update", queue=queue, assignee=agent.email,
                                 tier="L2")
            if rng.random() < 0.25 and scenario.type in ("incident", "bug", "problem"):
                queue = self.components[scenario.component].l3_queue
                at = at + timedelta(hours=rng.uniform(1, 12))
                agent = self._pick_agent(queue, at) or agent
                self._event(at, i, "message", author=agent.email, author_type="agent", public=False,
                            body=w.engineering_note(text, at))
                at = self._event(at + timedelta(minutes=1), i, "update", queue=queue, assignee=agent.email,
                                 tier="L3")
            if rng.random() < 0.5:
                at = at + timedelta(minutes=rng.uniform(20, 240))
                self._event(at, i, "message", author=agent.email, author_type="agent", public=True,
                            body=w.working(text, at))
        if rng.random() < 0.15:
            at = at + timedelta(hours=rng.uniform(2, 30))
            self._event(at, i, "message", author=t.requester_email, author_type="customer", public=True,
                        body=w.nudge(text, at))
            at = self._reply(t, text, agent, at, contracted)
        if scenario.type in ("bug", "problem") and rng.random() < 0.3:
            at = at + timedelta(hours=rng.uniform(1, 8))
            self._event(at, i, "message", author=agent.email, author_type="agent", public=True,
                        body=w.on_hold(text, at))
            at = self._event(at + timedelta(seconds=30), i, "update", status="on_hold")
            at = at + timedelta(days=rng.uniform(3, 21))
            self._event(at, i, "message", author=agent.email, author_type="agent", public=True,
                        body=w.resume(text, at))
            at = self._event(at + timedelta(seconds=30), i, "update", status="open")
        solved = self._work_to_solved(t, text, agent, first, at)
        if rng.random() < REOPEN_SHARE:
            # The customer writes back inside the reopen window: the ticket opens again and is worked again.
            at = solved + timedelta(hours=rng.uniform(3, 24 * 5))
            self._event(at, i, "message", author=t.requester_email, author_type="customer", public=True,
                        body=w.reopen(text, at))
            at = at + timedelta(minutes=rng.uniform(10, 150))
            self._event(at, i, "message", author=agent.email, author_type="agent", public=True,
                        body=w.reopened_ack(text, first, at))
            solved = self._work_to_solved(t, text, agent, first, at)
        closed = self._event(solved + timedelta(days=7, hours=rng.uniform(0, 6)), i, "update",
                             status="closed")
        follow = closed + timedelta(days=rng.uniform(1, 20))
        if rng.random() < FOLLOW_UP_SHARE and self.now - timedelta(days=21) < follow:
            # The customer writes after the close: a follow-up ticket, which the same agent takes and works.
            self._event(follow, i, "message", author=t.requester_email, author_type="customer", public=True,
                        body=w.follow_up(text, t.subject, follow))
            lo, hi = (CONTRACTED_FIRST_RESPONSE_MINUTES if contracted else FIRST_RESPONSE_MINUTES)[t.priority]
            at = follow + timedelta(minutes=rng.uniform(lo, hi))
            self._event(at, i, "update", status="open", assignee=agent.email)
            at = at + timedelta(minutes=rng.uniform(1, 6))
            self._event(at, i, "message", author=agent.email, author_type="agent", public=True,
                        body=w.reopened_ack(text, first, at))
            solved = self._work_to_solved(t, text, agent, first, at)
            self._event(solved + timedelta(days=7, hours=rng.uniform(0, 6)), i, "update", status="closed")

    def _reply(self, t: TicketPlan, text: TicketText, agent: StaffPlan, at: datetime, contracted: bool) -> datetime:
        """The agent answers the customer's message: inside the next-reply target, but now and then late."""
        target = (NEXT_REPLY_MINUTES if contracted else STANDARD_NEXT_REPLY_MINUTES)[t.priority]
        share = self.rng.uniform(1.05, 1.8) if self.rng.random() < LATE_REPLY_SHARE else self.rng.uniform(0.1, 0.85)
        at = at + timedelta(minutes=target * share)
        self._event(at, t.index, "message", author=agent.email, author_type="agent", public=True,
                    body=self.writer.working(text, at))
        return at

    def _work_to_solved(self, t: TicketPlan, text: TicketText, agent: StaffPlan, first: str,
                        at: datetime) -> datetime:
        """From working on it to solved: the fix proposed, the customer's confirmation (or silence), the
        solve. Returns when it was solved."""
        rng, w, i = self.rng, self.writer, t.index
        work_hours = {"P1": (0.3, 4), "P2": (1, 24), "P3": (2, 72), "P4": (4, 120)}[t.priority]
        at = at + timedelta(hours=rng.uniform(*work_hours))
        self._event(at, i, "message", author=agent.email, author_type="agent", public=True,
                    body=w.propose(text, first, at))
        at = self._event(at + timedelta(seconds=30), i, "update", status="pending_customer")
        if rng.random() < 0.7:
            at = at + timedelta(hours=rng.uniform(0.5, 40))
            self._event(at, i, "message", author=t.requester_email, author_type="customer", public=True,
                        body=w.confirm(text, at))
            at = at + timedelta(minutes=rng.uniform(5, 120))
            self._event(at, i, "message", author=agent.email, author_type="agent", public=True,
                        body=w.solve(text, at))
        else:
            at = at + timedelta(days=rng.uniform(2, 4))
            self._event(at, i, "message", author=agent.email, author_type="agent", public=True,
                        body=w.solve_without_reply(text, first, at))
        return self._event(at + timedelta(seconds=30), i, "update", status="solved", root_cause=t.root_cause)
