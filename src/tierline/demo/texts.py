"""Fill the corpus templates: one ticket's details (cluster, request id, error code...) for its thread.

A thread reads as one conversation at the times it happened: the ticket's details are drawn once, and each
message is filled at its own instant, in the customer's time zone (`{time_local}`, `{weekday}`, `{today}`,
`{have_a_good}`), so a weekday or a date in a text agrees with the message's time. "Since Monday" is said only
after a Monday of the same week, a launch date falls on a working day after the ticket, and a fix "at 14:05" is
from the message that reports it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tierline.demo import architecture as arch
from tierline.demo import conversation as conv
from tierline.demo.corpus import FEATURE_REQUESTS, TRACES, Scenario, Vague
from tierline.demo.plans import CustomerPlan

ERROR_MESSAGES = {
    "DB-1042": "replica lag above threshold", "DB-1045": "replica WAL receiver not streaming",
    "DB-1017": "too many client connections", "DB-1103": "recovery target before consistency point",
    "DB-1210": "statement timeout", "STO-2201": "SignatureDoesNotMatch", "HTTP 403": "Forbidden",
    "HTTP 502": "Bad Gateway", "HTTP 503": "Service Unavailable", "HTTP 504": "Gateway Timeout",
    "HTTP 500": "Internal Server Error", "JOB-0408": "no worker available", "DNS-0042": "CNAME target "
                                                                                        "mismatch",
    "TLS-0013": "certificate issuance failed", "API-429": "rate limit exceeded",
    "API-5001": "internal error while validating payload", "GQL-0301": "query cost exceeds limit",
    "AUTH-422": "SAML signature validation failed", "AUTH-401": "invalid or revoked credentials",
    "AUTH-403": "insufficient scope", "AUTH-429": "too many MFA attempts", "SCIM-409": "userName already "
                                                                                       "exists",
    "PAY-3003": "authentication_required", "PAY-3011": "3-D Secure challenge abandoned",
    "PAY-3017": "tax id missing", "WH-5003": "endpoint timed out", "WH-4010": "signature mismatch",
    "INT-1102": "installation not found", "SYNC-2207": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
    "ETL-0612": "file format mismatch", "WEB-0117": "widget render failed", "EXP-0044": "export timed out",
    "MAIL-0550": "recipient server rejected message", "MOB-0231": "crash on launch",
    "MOB-0318": "app link failed", "SRCH-0102": "index behind", "DB-1019": "prepared statement does not exist",
    "DB-1107": "WAL archive incomplete", "STO-2503": "SlowDown", "CMP-0310": "scale-up blocked",
    "GQL-0500": "resolver failed", "PAY-3020": "duplicate capture", "MAIL-0421": "delivery deferred",
    "WEB-0401": "session expired",
}
HTTP_FOR = {"API-429": "429", "AUTH-401": "401", "AUTH-403": "403", "HTTP 502": "502", "HTTP 503": "503",
            "HTTP 504": "504", "HTTP 500": "500", "API-5001": "500", "HTTP 403": "403", "STO-2503": "503",
            "WEB-0401": "401"}
IDPS = ("Okta", "Azure AD", "Google Workspace", "OneLogin", "JumpCloud", "Ping Identity")
BROWSERS = ("Chrome 124", "Firefox 125", "Safari 17.4", "Edge 124", "Chrome 126 on macOS")
ENDPOINTS = ("orders", "projects", "invoices", "users", "events", "contacts", "assets")
TABLES = ("orders", "events", "line_items", "audit_log", "sessions", "invoices", "measurements")
JOBS = ("nightly-invoice-run", "sync-crm-accounts", "rollup-usage", "purge-temp-files", "send-digests")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
AREA_FOR_QUEUE = {q.name: q.team for q in arch.QUEUES}



# Ticket types that report something broken: they carry their error code, the others only when they quote one.
BROKEN = ("incident", "bug", "problem")


@dataclass
class TicketText:
    subject: str
    description: str
    users: int
    ctx: dict[str, Any]
    resolution: str  # the template of what the agent will find and do, filled when they write it
    root_cause: str | None
    scenario: Scenario
    code: str | None  # the error code the ticket carries from intake (the customer's or the monitor's)
    diagnosed_code: str | None  # the code the investigation names (the form asks for it at solve)
    tz: str
    asks: tuple[str, ...] = ()
    ask: str | None = None  # what the agent asked for, so the customer's reply answers it
    fixed_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class TicketWriter:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def moment(self, at: datetime, tz: str, *, before: tuple[float, float] = (2, 25)) -> dict[str, Any]:
        """What a message written at `at` says about time, in the customer's zone: `time_local` is a few
        minutes before it (what it reports happened just before it was written)."""
        local = at + standard_offset(tz)
        seen = local - timedelta(minutes=self.rng.uniform(*before))
        weekday = WEEKDAYS[local.weekday()]
        part = "morning" if local.hour < 12 else ("afternoon" if local.hour < 18 else "evening")
        return {"time_local": seen.strftime("%H:%M"), "weekday": weekday, "today": f"this {part}",
                "greeting": f"Good {part}",
                "have_a_good": {4: "weekend", 5: "rest of your weekend", 6: "rest of your weekend"}.get(
                    local.weekday(), f"rest of your {weekday}")}

    def _ago(self, local: datetime) -> str:
        """When the trouble started, as someone writing at `local` would say it."""
        day = local.weekday()
        options = ["yesterday", "earlier today", f"{WEEKDAYS[(day - 2) % 7]}", "a couple of days ago"]
        if local.hour >= 10:
            options.append("this morning")
        if day in (0, 1):
            options.append("the weekend")
        if 1 <= day <= 4:
            options.append("Monday")
        if day in (5, 6, 0, 1):
            options.append("last Friday")
        if day in (0, 1, 2):
            options.append("last week")
        return self.rng.choice(options)

    def _future_working_day(self, local: datetime) -> str:
        """A working day 2 to 14 days after `local`, with its weekday."""
        day = local + timedelta(days=self.rng.randint(2, 14))
        while day.weekday() >= 5:
            day += timedelta(days=1)
        return f"{WEEKDAYS[day.weekday()]}, {day.strftime('%b')} {day.day}"

    def context(self, scenario: Scenario, customer: CustomerPlan | None, requester_name: str,
                code: str | None, created: datetime) -> dict[str, Any]:
        rng = self.rng
        plan = customer.plan if customer else "free"
        domain = customer.email_domains[0] if customer else "mail.example.net"
        region = customer.region if customer else "us-east"
        tz = customer.timezone if customer else "UTC"
        local = created + standard_offset(tz)
        users = rng.choice((3, 12, 25, 40, 80, 150, 300, 1200))
        code = code or "none"
        ctx: dict[str, Any] = {
            "error_code": code, "http_status": HTTP_FOR.get(code, rng.choice(("500", "502", "503"))),
            "error_message": ERROR_MESSAGES.get(code, "unexpected error"),
            **self.moment(created, tz, before=(5, 55)),
            "time_utc": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "date": self._future_working_day(local), "ago": self._ago(local),
            "count": rng.choice((12, 37, 140, 480, 1300, 5200)), "users": users,
            "percent": rng.choice((3, 8, 15, 30, 60)), "region": region,
            "cluster": f"pg-{rng.choice(('prod', 'main', 'core', 'db'))}-{rng.randint(100, 999)}",
            "lag": rng.choice(("45s", "3 minutes", "12 minutes", "40 minutes")),
            "table": rng.choice(TABLES), "table_size": rng.choice(("120 GB", "800 GB", "1.4 TB", "40M-row")),
            "latency": rng.choice(("4s", "9s", "25s")), "latency_ok": rng.choice(("180ms", "90ms", "240ms")),
            "bucket": f"{domain.split('.')[0]}-{rng.choice(('uploads', 'assets', 'exports'))}",
            "job": rng.choice(JOBS), "endpoint": rng.choice(ENDPOINTS),
            "request_id": f"req_{rng.getrandbits(64):016x}", "key_suffix": f"{rng.getrandbits(16):04x}",
            "version": f"{created.year}.{rng.randint(10, 52)}.{rng.randint(0, 9)}",
            "app_version": f"{rng.randint(5, 7)}.{rng.randint(0, 20)}", "idp": rng.choice(IDPS),
            "idp_issuer": f"https://sso.{domain}/saml2", "browser": rng.choice(BROWSERS),
            "invoice": f"INV-{created.year}-{rng.randint(10000, 99999)}",
            "amount": f"${rng.choice((49, 290, 1200, 4800, 18500, 62000)):,}",
            "vat_id": f"{rng.choice(('DE', 'FR', 'IE', 'NL', 'SE'))}{rng.randint(100000000, 999999999)}",
            "plan": plan, "new_plan": {"free": "pro", "pro": "business"}.get(plan, "enterprise"),
            "seats": rng.choice((5, 10, 25, 50)), "domain": domain, "timezone": tz,
            "eng_number": rng.randint(2000, 9999),
            "contact_other": _other_contact(rng, customer, requester_name),
            "first_name": requester_name.split()[0], "requester": requester_name,
            "company": customer.name if customer else "no company given",
            "arr": f"${(customer.arr if customer else 0) / 1000:,.1f}k", "area": scenario.feature_area,
            "cluster_or_account": domain, "similar": rng.randint(100, 2000),
        }
        ctx["feature_title"], ctx["feature"] = rng.choice(FEATURE_REQUESTS)
        observations = [o for o in conv.OBSERVATIONS if code != "none" or "{error_code}" not in o]
        ctx["observation"] = rng.choice(observations).format(**ctx)
        for name, template in TRACES.items():
            ctx[f"trace_{name}"] = template.format(**ctx)
        return ctx

    def ticket(self, scenario: Scenario, customer: CustomerPlan | None, requester_name: str, code: str | None,
               created: datetime, priority: str = "P3", *, channel: str = "email",
               vague: Vague | None = None) -> TicketText:
        """The ticket's subject and description, and what the thread will need. `code`: an outage's code
        (every ticket of a burst quotes it); else drawn from the scenario. A `vague` ticket tells the symptom in
        words that fit several components: it carries no code, and the scenario is what it turns out to be."""
        rng = self.rng
        diagnosed = code or (rng.choice(scenario.error_codes) if scenario.error_codes else None)
        ctx = self.context(scenario, customer, requester_name, diagnosed, created)
        ctx["update_in"] = rng.choice(conv.UPDATE_WINDOWS[priority])
        # One variant of the scenario: subject j goes with description j % n, and with n resolutions (and
        # root causes) each description has its own answer.
        n = len(scenario.descriptions)
        k = rng.randrange(n)
        if vague is not None:
            subject_t, body_t = rng.choice(vague.subjects), rng.choice(vague.descriptions)
        else:
            subject_t = rng.choice([s for j, s in enumerate(scenario.subjects) if j % n == k]
                                   or scenario.subjects)
            body_t = scenario.descriptions[k]
        quoted = any("{error_code}" in t or "{trace_" in t for t in (subject_t, body_t))
        stated = None
        if vague is None and diagnosed is not None and (quoted or scenario.type in BROKEN):
            stated = diagnosed
        subject, body = subject_t.format(**ctx), body_t.format(**ctx)
        r = k if len(scenario.resolutions) == n else rng.randrange(len(scenario.resolutions))
        causes = scenario.root_causes
        root_cause = None
        if causes:
            root_cause = causes[r] if len(causes) == len(scenario.resolutions) else rng.choice(causes)
        subject = self._styled(subject, scenario, customer, priority, channel)
        description = self._description(body, ctx, customer, requester_name, channel)
        return TicketText(subject=subject[:200], description=description, users=ctx["users"], ctx=ctx,
                          resolution=scenario.resolutions[r], root_cause=root_cause, scenario=scenario,
                          code=stated, diagnosed_code=diagnosed,
                          tz=customer.timezone if customer else "UTC", asks=scenario.asks or conv.GENERIC_ASKS)

    def _styled(self, subject: str, scenario: Scenario, customer: CustomerPlan | None, priority: str,
                channel: str) -> str:
        """The subject as this customer writes it: some tag their company or environment, say what kind of
        request it is, shout when production is down, or type in lower case."""
        rng, r = self.rng, self.rng.random()
        if priority == "P1" and r < 0.25:
            return f"URGENT: {subject}"
        if r < 0.12 and customer is not None:
            return f"[{customer.name.split()[0]}] {subject}"
        if r < 0.2:
            kind = {"question": "Question", "task": "Request", "feature_request": "Idea"}.get(scenario.type, "Issue")
            return f"{kind}: {subject}"
        if r < 0.28 and scenario.type in BROKEN:
            return f"{subject} ({rng.choice(('production', 'prod', 'staging', 'all regions', 'EU workspace'))})"
        if r < 0.34 and customer is not None:
            return f"{subject} - {customer.name}"
        if channel == "chat" and r < 0.6:
            return subject[:1].lower() + subject[1:]
        return subject

    def _description(self, body: str, ctx: dict[str, Any], customer: CustomerPlan | None, requester_name: str,
                     channel: str) -> str:
        """The body as the channel brings it: an email or web form with greeting and sign-off, a chat's first
        lines, or the desk's note of a phone call."""
        rng = self.rng
        if channel == "phone":
            return rng.choice(conv.PHONE_NOTES).format(**{**ctx, "body": body})
        if channel == "chat":
            return rng.choice(conv.CHAT_OPENINGS) + body[:1].lower() + body[1:]
        urgency = rng.choice(conv.CUSTOMER_URGENCY).format(**ctx)
        company = f"\n{customer.name}" if customer else ""
        opening = rng.choice(conv.CUSTOMER_OPENINGS).format(**ctx)
        return ((f"{opening}\n\n" if opening else "") + body + (f"\n\n{urgency}" if urgency else "")
                + f"\n\n{rng.choice(conv.CUSTOMER_SIGNOFFS)}\n{requester_name}{company}")

    def _pick(self, options: tuple[str, ...], text: TicketText, at: datetime, **extra: Any) -> str:
        code = text.code
        values = {**text.ctx, **self.moment(at, text.tz),
                  "code_in_parens": f" ({code})" if code else "", **extra}
        return self.rng.choice(options).format(**values)

    def ack(self, text: TicketText, first: str, asks: bool, at: datetime) -> str:
        text.ask = self.rng.choice(text.asks) if asks else None
        if text.scenario.type in BROKEN:
            options = conv.AGENT_ACKS if asks else (conv.AGENT_ACKS[1], conv.AGENT_ACKS[3])
        else:
            options = conv.AGENT_ACKS_QUESTION if asks else (conv.AGENT_ACKS_QUESTION[0],
                                                              conv.AGENT_ACKS_QUESTION[2])
        if asks:
            options = tuple(o for o in options if "{ask}" in o) or options
        return self._pick(options, text, at, ask=text.ask or "", first_name=first)

    def triage_note(self, text: TicketText, index: int, at: datetime) -> str:
        return self._pick(conv.INTERNAL_TRIAGE, text, at, similar=max(1, index - self.rng.randint(20, 400)))

    def customer_details(self, text: TicketText, at: datetime) -> str:
        """The customer's answer to what the agent asked."""
        replies = conv.ASK_REPLIES.get(text.ask or "", ("Here you go, details attached.",))
        return self._pick(replies, text, at)

    def escalation_note(self, text: TicketText, queue: str, at: datetime) -> str:
        what = text.diagnosed_code or text.scenario.feature_area
        summary = f"{what} for {text.ctx['domain']}, {text.ctx['users']} users affected"
        return self._pick(conv.INTERNAL_ESCALATE, text, at, queue=queue, summary=summary)

    def engineering_note(self, text: TicketText, at: datetime) -> str:
        owner = next(c.owner_team for c in arch.COMPONENTS if c.name == text.scenario.component)
        return self._pick(conv.INTERNAL_ENGINEERING, text, at, owner_team=owner,
                          root_cause=text.root_cause or "configuration on the customer's side")

    def _broken(self, text: TicketText) -> bool:
        return text.scenario.type in BROKEN

    def working(self, text: TicketText, at: datetime) -> str:
        return self._pick(conv.AGENT_WORKING if self._broken(text) else conv.AGENT_WORKING_QUESTION, text, at)

    def nudge(self, text: TicketText, at: datetime) -> str:
        return self._pick(conv.CUSTOMER_NUDGES if self._broken(text) else conv.CUSTOMER_NUDGES_QUESTION, text, at)

    def on_hold(self, text: TicketText, at: datetime) -> str:
        return self._pick(conv.AGENT_ON_HOLD, text, at)

    def resume(self, text: TicketText, at: datetime) -> str:
        return self._pick(conv.AGENT_RESUME, text, at)

    def propose(self, text: TicketText, first: str, at: datetime) -> str:
        """The fix, as found: its times are this message's."""
        text.fixed_at = at
        resolution = text.resolution.format(**{**text.ctx, **self.moment(at, text.tz)})
        return self._pick(conv.AGENT_PROPOSE, text, at, resolution=resolution, first_name=first)

    def confirm(self, text: TicketText, at: datetime) -> str:
        since = self.moment(text.fixed_at or at, text.tz, before=(0, 1))["time_local"]
        options = conv.CUSTOMER_CONFIRMS if self._broken(text) else conv.CUSTOMER_CONFIRMS_QUESTION
        return self._pick(options, text, at, time_local=since)

    def solve(self, text: TicketText, at: datetime) -> str:
        return self._pick(conv.AGENT_SOLVE, text, at)

    def solve_without_reply(self, text: TicketText, first: str, at: datetime) -> str:
        return self._pick(conv.AGENT_SOLVE_NO_REPLY, text, at, first_name=first)

    def reopen(self, text: TicketText, at: datetime) -> str:
        return self._pick(conv.CUSTOMER_REOPENS, text, at)

    def reopened_ack(self, text: TicketText, first: str, at: datetime) -> str:
        return self._pick(conv.AGENT_REOPENED, text, at, first_name=first)

    def follow_up(self, text: TicketText, subject: str, at: datetime) -> str:
        return self._pick(conv.CUSTOMER_FOLLOW_UPS, text, at, subject=subject)


def standard_offset(tz: str) -> timedelta:
    """The zone's winter offset: fixed, so a plan does not depend on the date it is generated."""
    return ZoneInfo(tz).utcoffset(datetime(2025, 1, 15)) or timedelta(0)


def _other_contact(rng: random.Random, customer: CustomerPlan | None, requester_name: str) -> str:
    if customer is None:
        return "a colleague"
    others = [c.name for c in customer.contacts if c.name != requester_name]
    return rng.choice(others) if others else "a colleague"
