"""Fill the corpus templates: one ticket's details (cluster, request id, error code...) for its thread."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tierline.demo import architecture as arch
from tierline.demo import conversation as conv
from tierline.demo.corpus import FEATURE_REQUESTS, TRACES, Scenario
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
    "MOB-0318": "app link failed", "SRCH-0102": "index behind",
}
HTTP_FOR = {"API-429": "429", "AUTH-401": "401", "AUTH-403": "403", "HTTP 502": "502", "HTTP 503": "503",
            "HTTP 504": "504", "HTTP 500": "500", "API-5001": "500", "HTTP 403": "403"}
IDPS = ("Okta", "Azure AD", "Google Workspace", "OneLogin", "JumpCloud", "Ping Identity")
BROWSERS = ("Chrome 124", "Firefox 125", "Safari 17.4", "Edge 124", "Chrome 126 on macOS")
ENDPOINTS = ("orders", "projects", "invoices", "users", "events", "contacts", "assets")
TABLES = ("orders", "events", "line_items", "audit_log", "sessions", "invoices", "measurements")
JOBS = ("nightly-invoice-run", "sync-crm-accounts", "rollup-usage", "purge-temp-files", "send-digests")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
AREA_FOR_QUEUE = {q.name: q.team for q in arch.QUEUES}


@dataclass
class TicketText:
    subject: str
    description: str
    users: int
    ctx: dict[str, Any]
    resolution: str  # what the agent will find and do, matching the description
    root_cause: str | None
    database_area: bool  # the agent asked for database details


class TicketWriter:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def context(self, scenario: Scenario, customer: CustomerPlan | None, requester_name: str,
                code: str | None, created: datetime) -> dict[str, Any]:
        rng = self.rng
        plan = customer.plan if customer else "free"
        domain = customer.email_domains[0] if customer else "mail.example.net"
        region = customer.region if customer else "us-east"
        local = created + standard_offset(customer.timezone if customer else "UTC")
        users = rng.choice((3, 12, 25, 40, 80, 150, 300, 1200))
        code = code or "none"
        ctx: dict[str, Any] = {
            "error_code": code, "http_status": HTTP_FOR.get(code, rng.choice(("500", "502", "503"))),
            "error_message": ERROR_MESSAGES.get(code, "unexpected error"),
            "time_local": local.strftime("%H:%M"), "time_utc": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "date": (local + timedelta(days=rng.randint(2, 14))).strftime("%b %d"),
            "ago": rng.choice(("yesterday", "this morning", "last Friday", "Monday", "the weekend")),
            "count": rng.choice((12, 37, 140, 480, 1300, 5200)), "users": users,
            "percent": rng.choice((3, 8, 15, 30, 60)), "region": region,
            "cluster": f"pg-{rng.choice(('prod', 'main', 'core', 'db'))}-{rng.randint(100, 999)}",
            "lag": rng.choice(("45s", "3 minutes", "12 minutes", "40 minutes")),
            "table": rng.choice(TABLES), "table_size": rng.choice(("120 GB", "800 GB", "1.4 TB", "40M-row")),
            "latency": rng.choice(("4s", "9s", "25s")), "latency_ok": rng.choice(("180ms", "90ms", "240ms")),
            "bucket": f"{domain.split('.')[0]}-{rng.choice(('uploads', 'assets', 'exports'))}",
            "job": rng.choice(JOBS), "endpoint": rng.choice(ENDPOINTS),
            "request_id": f"req_{rng.getrandbits(64):016x}", "key_suffix": f"{rng.getrandbits(16):04x}",
            "version": f"2024.{rng.randint(10, 52)}.{rng.randint(0, 9)}",
            "app_version": f"{rng.randint(5, 7)}.{rng.randint(0, 20)}", "idp": rng.choice(IDPS),
            "idp_issuer": f"https://sso.{domain}/saml2", "browser": rng.choice(BROWSERS),
            "invoice": f"INV-{created.year}-{rng.randint(10000, 99999)}",
            "amount": f"${rng.choice((49, 290, 1200, 4800, 18500, 62000)):,}",
            "vat_id": f"{rng.choice(('DE', 'FR', 'IE', 'NL', 'SE'))}{rng.randint(100000000, 999999999)}",
            "plan": plan, "new_plan": {"free": "pro", "pro": "business"}.get(plan, "enterprise"),
            "seats": rng.choice((5, 10, 25, 50)), "domain": domain,
            "timezone": customer.timezone if customer else "UTC",
            "eng_number": rng.randint(2000, 9999),
            "contact_other": _other_contact(rng, customer, requester_name),
            "first_name": requester_name.split()[0],
            "weekday": WEEKDAYS[local.weekday()],
            "arr": f"${(customer.arr if customer else 0) / 1000:,.1f}k", "area": scenario.feature_area,
            "cluster_or_account": domain, "similar": rng.randint(100, 2000),
        }
        ctx["feature_title"], ctx["feature"] = rng.choice(FEATURE_REQUESTS)
        ctx["observation"] = rng.choice(conv.OBSERVATIONS).format(**ctx)
        for name, template in TRACES.items():
            ctx[f"trace_{name}"] = template.format(**ctx)
        return ctx

    def ticket(self, scenario: Scenario, customer: CustomerPlan | None, requester_name: str, code: str | None,
               created: datetime, priority: str = "P3") -> TicketText:
        rng = self.rng
        ctx = self.context(scenario, customer, requester_name, code, created)
        ctx["update_in"] = rng.choice(conv.UPDATE_WINDOWS[priority])
        # One variant of the scenario: subject j goes with description j % n, and with n resolutions (and
        # root causes) each description has its own answer.
        n = len(scenario.descriptions)
        k = rng.randrange(n)
        subject = rng.choice([s for j, s in enumerate(scenario.subjects) if j % n == k]
                             or scenario.subjects).format(**ctx)
        body = scenario.descriptions[k].format(**ctx)
        r = k if len(scenario.resolutions) == n else rng.randrange(len(scenario.resolutions))
        causes = scenario.root_causes
        root_cause = None
        if causes:
            root_cause = causes[r] if len(causes) == len(scenario.resolutions) else rng.choice(causes)
        urgency = rng.choice(conv.CUSTOMER_URGENCY).format(**ctx)
        company = f"\n{customer.name}" if customer else ""
        description = (f"{rng.choice(conv.CUSTOMER_OPENINGS)}\n\n{body}"
                       + (f"\n\n{urgency}" if urgency else "")
                       + f"\n\n{rng.choice(conv.CUSTOMER_SIGNOFFS)}\n{requester_name}{company}")
        return TicketText(subject=subject[:200], description=description, users=ctx["users"], ctx=ctx,
                          resolution=scenario.resolutions[r].format(**ctx), root_cause=root_cause,
                          database_area=any("cluster ID" in ask for ask in scenario.asks))

    def _pick(self, options: tuple[str, ...], ctx: dict[str, Any], **extra: Any) -> str:
        return self.rng.choice(options).format(**{**ctx, **extra})

    def ack(self, scenario: Scenario, text: TicketText, first: str, asks: bool) -> str:
        ask = self.rng.choice(scenario.asks or conv.GENERIC_ASKS)
        options = conv.AGENT_ACKS if asks else (conv.AGENT_ACKS[1], conv.AGENT_ACKS[3])
        return self._pick(options, text.ctx, ask=ask, first_name=first)

    def triage_note(self, text: TicketText, customer: CustomerPlan | None, index: int) -> str:
        return self._pick(conv.INTERNAL_TRIAGE, text.ctx, similar=max(1, index - self.rng.randint(20, 400)))

    def customer_details(self, text: TicketText) -> str:
        return self._pick(conv.CUSTOMER_DETAILS_DB if text.database_area else conv.CUSTOMER_DETAILS, text.ctx)

    def escalation_note(self, text: TicketText, queue: str) -> str:
        summary = f"{text.ctx['error_code']} for {text.ctx['domain']}, {text.ctx['users']} users affected"
        return self._pick(conv.INTERNAL_ESCALATE, text.ctx, queue=queue, summary=summary)

    def engineering_note(self, text: TicketText, scenario: Scenario) -> str:
        owner = next(c.owner_team for c in arch.COMPONENTS if c.name == scenario.component)
        return self._pick(conv.INTERNAL_ENGINEERING, text.ctx, owner_team=owner,
                          root_cause=text.root_cause or "configuration on the customer's side")

    def working(self, text: TicketText) -> str:
        return self._pick(conv.AGENT_WORKING, text.ctx)

    def nudge(self, text: TicketText) -> str:
        return self._pick(conv.CUSTOMER_NUDGES, text.ctx)

    def on_hold(self, text: TicketText) -> str:
        return self._pick(conv.AGENT_ON_HOLD, text.ctx)

    def resume(self, text: TicketText) -> str:
        return self._pick(conv.AGENT_RESUME, text.ctx)

    def propose(self, text: TicketText, first: str) -> str:
        return self._pick(conv.AGENT_PROPOSE, text.ctx, resolution=text.resolution, first_name=first)

    def confirm(self, text: TicketText) -> str:
        return self._pick(conv.CUSTOMER_CONFIRMS, text.ctx)

    def solve(self, text: TicketText) -> str:
        return self._pick(conv.AGENT_SOLVE, text.ctx)

    def solve_without_reply(self, text: TicketText, first: str) -> str:
        return self._pick(conv.AGENT_SOLVE_NO_REPLY, text.ctx, first_name=first)

    def reopen(self, text: TicketText) -> str:
        return self._pick(conv.CUSTOMER_REOPENS, text.ctx)


def standard_offset(tz: str) -> timedelta:
    """The zone's winter offset: fixed, so a plan does not depend on the date it is generated."""
    return ZoneInfo(tz).utcoffset(datetime(2025, 1, 15)) or timedelta(0)


def _other_contact(rng: random.Random, customer: CustomerPlan | None, requester_name: str) -> str:
    if customer is None:
        return "a colleague"
    others = [c.name for c in customer.contacts if c.name != requester_name]
    return rng.choice(others) if others else "a colleague"
