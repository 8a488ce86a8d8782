"""Triage benchmark: tickets per second through the triage pipeline, in-process and over HTTP, each figure
beside a ceiling measured in the same run.

    python bench/triage.py [--seconds 10] [--clients 8] [--rules 200] [--skip-http]
                           [--database-url postgresql+psycopg://...]

Setup (not timed): a scratch database (a temporary SQLite file, or a scratch database created beside the one
--database-url names and dropped afterwards) is migrated and given the demo organisation through the demo
loader (teams, the component tree, queues, staff, SLA policies, 20 customers and their contacts). --rules
triage rules are created through the rules service: a realistic mix of error-code families, known codes,
code regexes, keywords, keyword regexes, plans, ARR thresholds, regions, tags, components, sentiment, impact,
channel and custom fields, none with stop_processing, so every rule stays in play. A component classifier is
trained on generated demo tickets through triage.classifier and activated. The tickets measured are inbound
bodies from the demo corpus (subject, description, requester, channel: what an email brings; triage fills
the rest), from another seed than the training texts.

1. signals.extract(with_sentiment=False) + impact.score + rules.evaluate on a Draft, one core, in one read
   transaction (the compiled rules are checked once). Ceiling: lower-casing the text and splitting it into
   words, which any signal extraction has to do.
2. The whole pipeline in-process: intake.new_ticket + resolve_customer + pipeline.triage(dry_run=True), with
   the active model and sentiment, each ticket in its own read transaction. Beside it the per-ticket cost of
   the model (classifier.predict, and the compiled model's arithmetic alone) and of sentiment, and the queries
   per ticket. Ceilings: part 1's rate, and a transaction doing one trivial query.
3. Full intake, committed per ticket: intake.create_ticket in-process, then POST /api/v1/tickets over HTTP
   (uvicorn, one process, N clients, after a warm-up), beside the raw executemany insert ceiling.
Every loop is bounded by --seconds. It stops by itself and cleans up after itself, also when interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import httpx
from sqlalchemy import event, select, text
from support import (
    count_tickets,
    drive,
    free_port,
    pct,
    percentile,
    prepare,
    raw_ceiling,
    scratch_database,
    server,
    ticket_bodies,
)

from tierline.demo import architecture as arch
from tierline.demo.generator import generate
from tierline.demo.loader import Loader
from tierline.platform import clock
from tierline.platform.auth.actor import Actor
from tierline.platform.db import Database
from tierline.platform.migrate import upgrade

ACTOR = Actor.system("bench")
ORG_SEED = 99  # support.ticket_bodies' seed: its requesters are the loaded customers' people
TRAIN_SEED = 7
INBOUND = ("subject", "description", "requester_email", "channel")
GOAL_PURE, GOAL_PIPELINE, GOAL_MODEL_US = 5_000, 1_000, 1_000

# -- the rule mix ---------------------------------------------------------------------------------------------

# (error_code prefix, or a regex for the codes signals do not extract, component, queue, tag)
CODE_FAMILIES = (
    ("DB-", "Database", "L2 Database & Data", "database"),
    ("AUTH-", "Auth", "L2 Auth & Identity", "auth"),
    ("PAY-", "Payments", "L1 Billing", "payments"),
    ("ORA-", "Database", "L2 Database & Data", "oracle"),
    ("HTTP-5", "Load Balancer", "L3 Platform Engineering", "5xx"),
    (r"\bWH-\d{4}\b", "Webhooks", "L2 Integrations & API", "webhooks"),
    (r"\bWEB-\d{4}\b", "Web App", "L1 General", "web-app"),
    (r"\bTLS-\d{4}\b", "DNS & Custom Domains", "L2 Integrations & API", "tls"),
    (r"\bSYNC-\d{4}\b", "Data Warehouse Sync", "L2 Database & Data", "sync"),
    (r"\bSTO-\d{4}\b", "Object Storage", "L2 Database & Data", "storage"),
    (r"\bSRCH-\d{4}\b", "Search", "L1 General", "search"),
    (r"\bSCIM-\d{3}\b", "User Provisioning (SCIM)", "L2 Auth & Identity", "scim"),
    (r"\bMOB-\d{4}\b", "Mobile", "L1 General", "mobile"),
    (r"\bMAIL-\d{4}\b", "Email Notifications", "L1 General", "email"),
    (r"\bJOB-\d{4}\b", "Job Scheduler", "L3 Platform Engineering", "jobs"),
    (r"\bINT-\d{4}\b", "Integrations", "L2 Integrations & API", "integrations"),
    (r"\bGQL-\d{4}\b", "GraphQL API", "L2 Integrations & API", "graphql"),
    (r"\bEXP-\d{4}\b", "Reporting & Exports", "L2 Database & Data", "export"),
    (r"\bETL-\d{4}\b", "Data Warehouse Sync", "L2 Database & Data", "etl"),
    (r"\bDNS-\d{4}\b", "DNS & Custom Domains", "L2 Integrations & API", "dns"),
    (r"\bAPI-\d{3,4}\b", "REST API", "L2 Integrations & API", "api"),
)
# Known issues by exact code: extracted codes by error_code, the others by the description. Some are old
# codes no ticket carries any more, as in a real rule set.
KNOWN_CODES = (
    "DB-1042", "DB-1045", "DB-1103", "DB-1210", "DB-1017", "DB-1301", "DB-1388", "DB-2004", "AUTH-401",
    "AUTH-403", "AUTH-422", "AUTH-429", "AUTH-451", "PAY-3003", "PAY-3011", "PAY-3017", "PAY-3120",
    "ORA-00942", "ORA-12514", "HTTP-502", "HTTP-503", "HTTP-504", "WH-5003", "WH-4010", "API-429",
    "API-5001", "SCIM-409", "SYNC-2207", "ETL-0612", "EXP-0044", "MAIL-0550", "TLS-0013", "GQL-0301",
    "JOB-0408", "MOB-0231", "MOB-0318", "SRCH-0102", "DNS-0042", "STO-2201", "INT-1102",
)
EXTRACTED = ("DB-", "AUTH-", "PAY-", "ORA-", "HTTP-")
CODE_REGEXES = (
    ("error_code", r"^DB-1[0-2]\d\d$", {"type": "escalate_to_engineering", "value": "DB-1xxx storage engine"}),
    ("error_code", r"^AUTH-4(?:01|03)$", {"type": "set_tier", "value": "L2"}),
    ("error_code", r"^PAY-30\d\d$", {"type": "add_tags", "value": ["card-processing"]}),
    ("error_code", r"^HTTP-50[234]$", {"type": "set_priority_from_impact"}),
    ("description", r"(?i)\bsqlstate\s*[0-9a-z]{5}\b", {"type": "add_tags", "value": ["sqlstate"]}),
    ("description", r"\breq_[0-9a-f]{16}\b", {"type": "add_tags", "value": ["has-request-id"]}),
    ("description", r"Traceback \(most recent call last\)", {"type": "add_tags", "value": ["python-trace"]}),
    ("description", r"\bat [\w.$]+\([\w]+\.java:\d+\)", {"type": "add_tags", "value": ["java-trace"]}),
    ("description", r"(?i)\b(?:segfault|sigsegv|core dumped)\b", {"type": "set_tier", "value": "L3"}),
    ("description", r"\b\d{1,3}(?:\.\d{1,3}){3}\b", {"type": "add_tags", "value": ["ip-address"]}),
)
KEYWORDS = """replication lag|Replication|replication;read replica|Replication|replication;backup|Backups & Restore|
backups;point-in-time|Backups & Restore|pitr;restore|Backups & Restore|backups;connection pool|Connection Pooling|
pooling;too many connections|Connection Pooling|pooling;slow query|Query Engine|slow-query;deadlock|Query Engine|
locks;query plan|Query Engine|slow-query;bucket|Object Storage|storage;signed url|Object Storage|storage;cdn|CDN|
cdn;cache|CDN|cache;cron|Job Scheduler|jobs;scheduled job|Job Scheduler|jobs;autoscal|Autoscaling|autoscaling;
load balancer|Load Balancer|networking;custom domain|DNS & Custom Domains|dns;certificate|DNS & Custom Domains|tls;
rate limit|Rate Limiting|rate-limit;429|Rate Limiting|rate-limit;graphql|GraphQL API|graphql;rest api|REST API|api;
endpoint|REST API|api;saml|SSO & SAML|saml;single sign-on|SSO & SAML|sso;sso|SSO & SAML|sso;oauth|OAuth & API Keys|
oauth;api key|OAuth & API Keys|api-keys;token|OAuth & API Keys|api-keys;mfa|MFA|mfa;two-factor|MFA|mfa;
authenticator|MFA|mfa;scim|User Provisioning (SCIM)|scim;provisioning|User Provisioning (SCIM)|provisioning;
invoice|Invoicing|invoices;refund|Payments|payments;credit card|Payments|payments;charged|Payments|payments;
subscription|Subscriptions & Plans|plans;upgrade|Subscriptions & Plans|plans;seats|Subscriptions & Plans|seats;
renewal|Subscriptions & Plans|renewal;webhook|Webhooks|webhooks;slack|Slack App|slack;salesforce|
Salesforce Connector|salesforce;warehouse|Data Warehouse Sync|sync;dashboard|Dashboard|dashboard;export|
Reporting & Exports|export;csv|Reporting & Exports|export;report|Reporting & Exports|reporting;search|Search|search;
notification email|Email Notifications|email;spam|Email Notifications|email;ios|iOS App|mobile;iphone|iOS App|
mobile;android|Android App|mobile;login|Auth|login;password reset|Auth|login"""
KEYWORD_REGEXES = (
    (r"(?i)\b(?:outage|is down|are down|unavailable for everyone)\b", "outage"),
    (r"(?i)\b(?:data loss|lost (?:all )?(?:our )?data|deleted by mistake)\b", "data-loss"),
    (r"(?i)\b(?:breach|phishing|vulnerability|cve-\d{4}-\d+)\b", "security"),
    (r"(?i)\b(?:gdpr|dpa|soc ?2|hipaa|iso ?27001)\b", "compliance"),
    (r"(?i)\b(?:refund|chargeback|charged twice|double charge)\b", "billing-dispute"),
    (r"(?i)\b(?:cancel|terminate|churn)\w*\b", "churn-risk"),
    (r"(?i)\b(?:invoice|receipt|vat)\b", "finance"),
    (r"(?i)\b(?:slow(?:er|ness)?|latency|timeouts?)\b", "performance"),
    (r"(?i)\b(?:feature request|would be great|it would be nice)\b", "feature-request"),
    (r"(?i)\bhow (?:do|can) (?:i|we)\b", "how-to"),
    (r"(?i)\b(?:urgent|asap|immediately|critical)\b", "urgent"),
    (r"(?i)\b(?:iphone|ipad|ios \d+)\b", "ios"),
    (r"(?i)\bandroid \d+", "android"),
    (r"(?i)\b(?:chrome|firefox|safari|edge) \d+", "browser"),
    (r"(?i)\b(?:kubectl|helm|k8s|kubernetes)\b", "kubernetes"),
    (r"(?i)\b(?:terraform|pulumi)\b", "iac"),
    (r"(?i)\b(?:okta|azure ad|entra|google workspace|onelogin)\b", "idp"),
    (r"(?i)\b(?:stripe|adyen|paypal)\b", "psp"),
    (r"(?i)\b(?:salesforce|hubspot)\b", "crm"),
    (r"(?i)\b(?:snowflake|bigquery|redshift)\b", "warehouse"),
)
ARR_LEVELS = (10_000, 25_000, 50_000, 100_000, 150_000, 250_000, 500_000, 1_000_000)


def _cond(field: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


def _tags(*tags: str) -> dict[str, Any]:
    return {"type": "add_tags", "value": list(tags)}


def rule_mix(components: dict[str, int], queues: dict[str, int], teams: dict[str, int]) -> list[tuple[str, dict]]:
    """(category, rule) in run order: routing first, then what reads what the routing added."""
    out: list[tuple[str, dict]] = []

    def add(category: str, name: str, all_: list, actions: list, any_: list | None = None) -> None:
        out.append((category, {"name": name, "conditions": {"all": all_, "any": any_ or []}, "actions": actions}))

    for pattern, component, queue, tag in CODE_FAMILIES:
        cond = _cond("error_code", "starts_with", pattern) if pattern.endswith("-") or pattern == "HTTP-5" else (
            _cond("description", "matches", pattern))
        add("error-code family", f"Family {tag} ({pattern})", [cond],
            [{"type": "set_component", "value": components[component]},
             {"type": "set_queue", "value": queues[queue]}, _tags(tag)])
    for field, pattern, action in CODE_REGEXES:
        add("code regex", f"Pattern {pattern}", [_cond(field, "matches", pattern)], [action])
    for i, code in enumerate(KNOWN_CODES):
        cond = (_cond("error_code", "equals", code) if code.startswith(EXTRACTED)
                else _cond("description", "contains", code))
        add("known code", f"Known issue {code}", [cond],
            [_tags("known-issue"), {"type": "set_custom_field", "value": {"name": "kb_article",
                                                                           "value": f"KB-{4000 + i}"}}])
    for pattern, tag in KEYWORD_REGEXES:
        add("keyword regex", f"Wording: {tag}", [_cond("description", "matches", pattern)], [_tags(tag)])
    keywords = [k.split("|") for k in KEYWORDS.replace("\n", "").split(";")]
    for i, (word, component, tag) in enumerate(keywords):
        field = "subject" if i % 2 else "description"
        add("keyword", f"Mentions '{word}' in {field}", [_cond(field, "contains", word)],
            [_tags(tag), {"type": "set_component", "value": components[component]}])
    support_team = {c.name: teams[c.support_team] for c in arch.COMPONENTS}
    add("plan/ARR", "Enterprise plan", [_cond("customer.plan", "equals", "enterprise")], [_tags("enterprise")])
    add("plan/ARR", "Free plan stays L1", [_cond("customer.plan", "equals", "free")],
        [_tags("free-plan"), {"type": "set_tier", "value": "L1"}])
    add("plan/ARR", "Paid outage is P1", [_cond("customer.plan", "in", ["business", "enterprise"]),
                                          _cond("tags", "contains", "outage")],
        [{"type": "set_priority", "value": "P1"},
         {"type": "notify", "value": {"team_id": teams["Frontline Support"], "message": "paid outage"}}])
    for level in ARR_LEVELS:
        add("plan/ARR", f"ARR >= {level:,}", [_cond("customer.arr", "gte", level)], [_tags(f"arr-{level // 1000}k")])
    add("plan/ARR", "Key account high impact", [_cond("customer.arr", "gte", 100_000),
                                                 _cond("impact_score", "gte", 50)],
        [{"type": "set_priority_from_impact"}])
    add("plan/ARR", "Small account claims P1", [_cond("customer.arr", "lte", 5_000), _cond("priority", "equals", "P1")],
        [_tags("check-priority")])
    add("plan/ARR", "Strategic account", [_cond("customer.plan", "equals", "enterprise"),
                                          _cond("customer.arr", "gte", 500_000)],
        [{"type": "set_tier", "value": "L2"},
         {"type": "notify", "value": {"email": "account-team@tierline.example", "message": "strategic"}}])
    for region, tag in (("eu-west", "eu"), ("eu-central", "eu"), ("apac", "apac"), ("us-east", "us"),
                        ("us-west", "us"), ("latam", "latam")):
        add("plan/ARR", f"Region {region}", [_cond("customer.region", "equals", region)], [_tags(f"region-{tag}")])
    for tag, team in (("database", "Data & Database Support"), ("auth", "Identity & Access Support"),
                      ("payments", "Billing Support"), ("webhooks", "Integrations & API Support")):
        add("tags", f"Tag {tag} -> team", [_cond("tags", "contains", tag)], [{"type": "set_team", "value": teams[team]}])
    add("tags", "Outage tags", [], [{"type": "set_priority_from_impact"}],
        any_=[_cond("tags", "contains", "outage"), _cond("tags", "contains", "5xx")])
    add("tags", "Security to engineering", [_cond("tags", "contains", "security")],
        [{"type": "escalate_to_engineering", "value": "security report"}])
    add("tags", "Churn risk", [_cond("tags", "contains", "churn-risk")],
        [{"type": "notify", "value": {"team_id": teams["Frontline Support"], "message": "churn risk"}}])
    add("tags", "Key account", [_cond("tags", "starts_with", "arr-")], [_tags("key-account")])
    add("tags", "Identity tags to L2", [_cond("tags", "matches", r"^(?:sso|saml|scim|mfa)$")],
        [{"type": "set_queue", "value": queues["L2 Auth & Identity"]}])
    add("tags", "Known issue flag", [_cond("tags", "contains", "known-issue")],
        [{"type": "set_custom_field", "value": {"name": "known_issue", "value": True}}])
    add("tags", "Compliance desk", [_cond("tags", "in", ["compliance", "security"])],
        [{"type": "notify", "value": {"email": "compliance@tierline.example"}}])
    add("tags", "Feature requests", [_cond("tags", "contains", "feature-request")],
        [{"type": "set_type", "value": "feature_request"}])
    add("tags", "Untriaged", [_cond("tags", "not_contains", "triaged")], [_tags("triaged")])
    for name in ("Database", "Auth", "Billing", "Integrations", "Web App", "Mobile", "API Gateway", "Platform"):
        add("component", f"Component {name}", [_cond("component", "equals", components[name]),
                                                _cond("priority", "in", ["P1", "P2"])],
            [{"type": "set_team", "value": support_team[name]}, {"type": "set_tier", "value": "L2"}])
    add("sentiment/impact", "Frustrated", [_cond("sentiment", "lte", -0.5)], [_tags("frustrated")])
    add("sentiment/impact", "Very frustrated", [_cond("sentiment", "lte", -0.8)],
        [{"type": "notify", "value": {"team_id": teams["Frontline Support"], "message": "angry customer"}}])
    add("sentiment/impact", "High impact", [_cond("impact_score", "gte", 60)], [_tags("high-impact")])
    add("sentiment/impact", "Severe impact", [_cond("impact_score", "gte", 80)],
        [{"type": "set_priority", "value": "P1"}])
    add("sentiment/impact", "Low impact", [_cond("impact_score", "lte", 10)], [_tags("low-impact")])
    add("channel", "Phone", [_cond("channel", "equals", "phone")], [_tags("phone")])
    add("channel", "Chat stays L1", [_cond("channel", "equals", "chat")], [{"type": "set_tier", "value": "L1"}])
    add("channel", "Automated", [_cond("channel", "in", ["api"])], [_tags("automated")])
    add("custom field", "Production env", [_cond("custom_fields.environment", "equals", "production")],
        [{"type": "set_priority", "value": "P2"}])
    add("custom field", "Premium SLA", [_cond("custom_fields.sla_tier", "equals", "premium")],
        [{"type": "set_tier", "value": "L2"}])
    add("custom field", "Browser given", [_cond("custom_fields.browser", "is_empty", False)], [_tags("browser-info")])
    return out


def pick_rules(mix: list[tuple[str, dict]], n: int) -> list[tuple[str, dict]]:
    """n rules keeping the mix's proportions and order (evenly spaced; repeated with a suffix past its size)."""
    out = []
    for i in range(n):
        category, rule = mix[(i * len(mix) // n) if n <= len(mix) else i % len(mix)]
        name = rule["name"] if n <= len(mix) else f"{rule['name']} #{i // len(mix) + 1}"
        out.append((category, {**rule, "name": name, "position": 10 * (i + 1)}))
    return out


# -- setup ----------------------------------------------------------------------------------------------------

@dataclass
class World:
    rules: Counter
    model: str
    bodies: list[dict]  # inbound bodies
    full: list[dict]  # the same tickets as bench/intake.py posts them (for the raw insert ceiling)


def build(db: Database, *, n_rules: int, n_bodies: int, train_tickets: int) -> World:
    from tierline.customers import service as customers_service
    from tierline.triage import classifier, rules

    upgrade(db)
    with db.unit_of_work() as session:
        loader = Loader(session, generate(seed=ORG_SEED, customers=20, tickets=0, now=clock.now()))
        loader.load()
        for _, rule in (chosen := pick_rules(rule_mix(loader.component_ids, loader.queue_ids, loader.team_ids),
                                             n_rules)):
            rules.create(session, actor=ACTOR, **rule)
    full = ticket_bodies(n_bodies, seed=ORG_SEED)
    bodies = [{k: b[k] for k in INBOUND} for b in full]
    with db.unit_of_work() as session:  # the requesters become contacts now, not inside the timed loops
        for email in {b["requester_email"] for b in bodies}:
            customers_service.resolve_requester(session, actor=ACTOR, email=email)
    plan = generate(seed=TRAIN_SEED, customers=20, tickets=train_tickets, now=clock.now())
    sizes = Counter(t.component for t in plan.tickets)
    samples = [t for t in plan.tickets if sizes[t.component] >= 5]  # a class too rare to learn is left out
    t0 = time.perf_counter()
    trained = classifier.fit([f"{t.subject}\n{t.description}" for t in samples],
                             [str(loader.component_ids[t.component]) for t in samples])
    fit_s = time.perf_counter() - t0
    with db.unit_of_work() as session:
        row = classifier.store(session, actor=ACTOR, target="component", trained=trained,
                               source=f"bench: {train_tickets} generated demo tickets")
        classifier.activate(session, actor=ACTOR, version=row.version)
        model = (f"component model v{row.version} ({len(trained.labels)} classes, {trained.n_samples} generated "
                 f"tickets, fitted in {fit_s:.1f} s, holdout accuracy {trained.metrics.get('accuracy', 'n/a')})")
    return World(rules=Counter(c for c, _ in chosen), model=model, bodies=bodies, full=full)


# -- measuring --------------------------------------------------------------------------------------------------

@dataclass
class Run:
    count: int
    elapsed: float
    latencies: list[float]

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def line(self, unit: float = 1e6, label: str = "µs") -> str:
        return (f"{self.count:,} tickets in {self.elapsed:.1f} s: {self.rate:,.0f} tickets/s, "
                f"p50 {percentile(self.latencies, .5) * unit:,.0f} {label}, "
                f"p99 {percentile(self.latencies, .99) * unit:,.0f} {label}")


def timed(step: Callable[[int], Any], seconds: float, limit: int | None = None) -> Run:
    """Call step(i) for i = 0, 1, ... until `seconds` pass (or `limit` calls); each call's latency."""
    latencies: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds
    i = 0
    while (now := time.perf_counter()) < deadline and (limit is None or i < limit):
        step(i)
        latencies.append(time.perf_counter() - now)
        i += 1
    return Run(i, time.perf_counter() - started, latencies)


def goal(ok: bool, what: str) -> str:
    return f"[goal {what}: {'met' if ok else 'NOT met'}]"


class QueryCount:
    """Statements the engine sends while open (attached only around an untimed counting pass)."""

    def __init__(self, engine: Any) -> None:
        self.engine, self.n = engine, 0

    def _count(self, *_: Any) -> None:
        self.n += 1

    def __enter__(self) -> Self:
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self.engine, "before_cursor_execute", self._count)


def part_pure(db: Database, world: World, seconds: float, n_rules: int) -> float:
    from tierline.components import service as components_service
    from tierline.components.models import Component
    from tierline.customers import service as customers_service
    from tierline.people.models import Team
    from tierline.tickets.models import Queue
    from tierline.triage import impact, rules, signals
    from tierline.triage.signal_patterns import words_of
    from tierline.triage.types import Draft

    session = db.session(write=False)
    try:
        index = components_service.name_index(session)
        customers = {}
        for b in world.bodies:
            found = customers_service.resolve_requester(session, actor=ACTOR, email=b["requester_email"])
            customers[b["requester_email"]] = (customers_service.facts(session, customer_id=found.id)
                                               if found is not None else None)
        bodies, n = world.bodies, len(world.bodies)
        spent = [0.0, 0.0, 0.0]
        stats = Counter()

        def step(i: int) -> None:
            b = bodies[i % n]
            t0 = time.perf_counter()
            draft = Draft(subject=b["subject"], description=b["description"], requester_email=b["requester_email"],
                          channel=b["channel"], customer=customers[b["requester_email"]], caller_set=set(INBOUND))
            found = signals.extract(subject=draft.subject, description=draft.description,
                                    custom_fields=draft.custom_fields, component_index=index, with_sentiment=False)
            if found.error_code:  # as the pipeline fills the draft from the signals
                draft.error_code = found.error_code
            if found.affected_users is not None:
                draft.affected_users = found.affected_users
            if found.component_hints:
                draft.component_id = found.component_hints[0]
            t1 = time.perf_counter()
            scored = impact.score(draft=draft, signals=found)
            draft.impact_score = scored.score
            t2 = time.perf_counter()
            matched, _ = rules.evaluate(session, draft=draft, signals=found, trigger="create")
            t3 = time.perf_counter()
            if "priority" in draft.rule_set:
                scored = impact.score(draft=draft, signals=found)
            t4 = time.perf_counter()
            spent[0] += t1 - t0
            spent[1] += (t2 - t1) + (t4 - t3)
            spent[2] += t3 - t2
            stats["matched"] += len(matched)

        for i in range(min(n, 200)):  # warm: rules compiled, component tree in the session
            step(i)
        spent[:] = [0.0, 0.0, 0.0]
        stats.clear()
        with QueryCount(db.engine) as queries:
            for i in range(100):
                step(i)
        spent[:] = [0.0, 0.0, 0.0]
        stats.clear()
        run = timed(step, seconds)
        means = [x / max(run.count, 1) * 1e6 for x in spent]
        matched = stats["matched"] / max(run.count, 1)
        # The same with the rows the rules look up (components, queues, teams) held in the session: the identity
        # map holds rows weakly, so without this each lookup is a query. What the steps cost without them.
        held = [*session.scalars(select(Component)), *session.scalars(select(Queue)), *session.scalars(select(Team))]
        for i in range(min(n, 200)):
            step(i)
        with QueryCount(db.engine) as held_queries:
            for i in range(100):
                step(i)
        spent[:] = [0.0, 0.0, 0.0]
        warm = timed(step, seconds)
        warm_means = [x / max(warm.count, 1) * 1e6 for x in spent]
        del held
        texts = [f"{b['subject']}\n{b['description']}" for b in bodies]
        ceiling = timed(lambda i: words_of(texts[i % n].lower()), min(2.0, seconds))
    finally:
        session.close()
    print(f"1. signals + {n_rules} rules + impact, in-process, one core (one read transaction; no sentiment)")
    print(f"   as called:       {run.line()}  {goal(run.rate >= GOAL_PURE, f'>= {GOAL_PURE:,} tickets/s')}")
    print(f"      per ticket (means): signals {means[0]:.0f} µs, impact {means[1]:.0f} µs, rules {means[2]:.0f} µs; "
          f"{matched:.1f} rules matched; {queries.n / 100:.2f} queries (rules looking up components, queues, teams)")
    print(f"   rows held:       {warm.line()}  {goal(warm.rate >= GOAL_PURE, f'>= {GOAL_PURE:,} tickets/s')}")
    print(f"      per ticket (means): signals {warm_means[0]:.0f} µs, impact {warm_means[1]:.0f} µs, rules "
          f"{warm_means[2]:.0f} µs; {held_queries.n / 100:.2f} queries (the looked-up rows held in the session)")
    run = max(run, warm, key=lambda r: r.rate)
    print(f"   ceiling: lower-case + split into words only: {ceiling.rate:,.0f} tickets/s, p50 "
          f"{percentile(ceiling.latencies, .5) * 1e6:.1f} µs (the three steps run at "
          f"{100 * run.rate / ceiling.rate:.1f}% of it)")
    return run.rate


def part_pipeline(db: Database, world: World, seconds: float, pure_rate: float) -> None:
    from tierline.tickets import intake
    from tierline.tickets.schemas import TicketCreate
    from tierline.triage import classifier, model_store, pipeline, sentiment

    datas = [TicketCreate(**b) for b in world.bodies]
    texts = [f"{d.subject}\n{d.description}" for d in datas]
    n = len(datas)
    session = db.session(write=False)
    stats = Counter()
    try:
        def step(i: int) -> None:
            data = datas[i % n]
            try:
                ticket = intake.new_ticket(session, actor=ACTOR, data=data)
                intake.resolve_customer(session, actor=ACTOR, ticket=ticket)
                record, _ = pipeline.triage(session, actor=ACTOR, ticket=ticket, trigger="create",
                                            caller_set=set(data.model_fields_set), dry_run=True)
            finally:
                session.rollback()  # the end of this ticket's transaction
            stats["matched"] += len(record["matched_rules"])
            stats["applied"] += any(p["applied"] for p in record["prediction"])
            stats["predicted"] += bool(record["prediction"])
            stats["assignable"] += bool(record["assignee_candidate"] and record["assignee_candidate"]["user_id"])

        for i in range(min(n, 100)):  # warm: rules compiled, the model unpickled and compiled
            step(i)
        with QueryCount(db.engine) as queries:
            for i in range(100):
                step(i)
        stats.clear()
        run = timed(step, seconds)
        ensemble = model_store.active_ensemble(session)
        budget = max(1.0, seconds / 4)
        predict = timed(lambda i: classifier.predict(session, text=texts[i % n]), budget, limit=20 * n)
        arithmetic = timed(lambda i: ensemble.predict_proba(model_store.prepare_text(texts[i % n])), budget,
                           limit=20 * n)
        mood = timed(lambda i: sentiment.analyse(texts[i % n]), budget, limit=20 * n)

        def trivial(_: int) -> None:
            session.execute(text("SELECT 1"))
            session.rollback()

        floor = timed(trivial, min(2.0, seconds))
    finally:
        session.close()
    c = max(run.count, 1)
    us = percentile(predict.latencies, .5) * 1e6
    print("2. whole pipeline in-process: new_ticket + resolve_customer + triage(dry_run=True), active model and "
          "sentiment, a read transaction per ticket")
    print(f"   {run.line()}  {goal(run.rate >= GOAL_PIPELINE, f'>= {GOAL_PIPELINE:,} tickets/s')}")
    print(f"   per ticket: {queries.n / 100:.1f} queries, {stats['matched'] / c:.1f} rules matched, prediction "
          f"applied to {100 * stats['applied'] / c:.0f}% (predicted for {100 * stats['predicted'] / c:.0f}%), "
          f"an agent found for {100 * stats['assignable'] / c:.0f}%")
    print(f"   model overhead: classifier.predict p50 {us:.0f} µs, p99 "
          f"{percentile(predict.latencies, .99) * 1e6:.0f} µs (the compiled model's arithmetic alone p50 "
          f"{percentile(arithmetic.latencies, .5) * 1e6:.0f} µs, the rest is the active-model query)  "
          f"{goal(us < GOAL_MODEL_US / 2, 'well under 1 ms')}")
    print(f"   sentiment.analyse p50 {percentile(mood.latencies, .5) * 1e6:.0f} µs, p99 "
          f"{percentile(mood.latencies, .99) * 1e6:.0f} µs")
    print(f"   ceilings: part 1's steps {pure_rate:,.0f} tickets/s; a transaction with one trivial query "
          f"{floor.rate:,.0f}/s (p50 {percentile(floor.latencies, .5) * 1e6:.0f} µs)")


def part_intake(db: Database, url: str, world: World, args: argparse.Namespace, tmp: Path) -> int:
    from tierline.tickets import intake
    from tierline.tickets.schemas import TicketCreate

    datas = [TicketCreate(**b) for b in world.bodies]

    def create(i: int) -> None:
        with db.unit_of_work() as session:
            intake.create_ticket(session, actor=ACTOR, data=datas[i % len(datas)])

    for i in range(20):  # warm, as the server is warmed below
        create(i)
    before = count_tickets(url)
    local = timed(create, args.seconds)
    local_stored = count_tickets(url) - before
    print("3. full intake, committed per ticket")
    print(f"   in-process intake.create_ticket: {local.line(1e3, 'ms')} ({local_stored:,} rows stored)")
    created, rc = local.count, 0 if local_stored == local.count else 1
    if not args.skip_http:
        token = prepare(url)
        port = free_port()
        with server(url, port, "WARNING", tmp / "server.log"):
            with httpx.Client(base_url=f"http://127.0.0.1:{port}",
                              headers={"Authorization": f"Bearer {token}"}, timeout=60) as client:
                for body in world.bodies[:2 * args.clients]:  # the server compiles the rules, loads the model
                    client.post("/api/v1/tickets", json=body).raise_for_status()
            before = count_tickets(url)
            latencies, errors, elapsed = asyncio.run(drive(port, token, world.bodies, args.clients, args.seconds))
        http = Run(len(latencies), elapsed, latencies)
        stored = count_tickets(url) - before
        print(f"   HTTP POST /api/v1/tickets (uvicorn, 1 process, {args.clients} clients): {http.count:,} created "
              f"({stored:,} rows stored), {http.rate:,.1f} tickets/s, p50 {pct(latencies, 50) * 1000:.1f} ms, "
              f"p99 {pct(latencies, 99) * 1000:.1f} ms, errors {errors}")
        created = max(created, http.count)
        rc |= 0 if errors == 0 and stored == http.count else 1
    n = max(created, 1)
    raw_s = raw_ceiling(url, world.full, n)
    raw_rate = n / raw_s
    print(f"   raw   one executemany of {n:,} ticket rows (SQLAlchemy Core): {raw_s:.3f} s, {raw_rate:,.0f} rows/s")
    print(f"   ratio raw ceiling / in-process: {raw_rate / local.rate if local.rate else float('inf'):.0f}x "
          f"(in-process intake reaches {100 * local.rate / raw_rate:.2f}% of the raw insert rate)")
    if not args.skip_http:
        print(f"   ratio raw ceiling / HTTP: {raw_rate / http.rate if http.rate else float('inf'):.0f}x "
              f"(HTTP intake reaches {100 * http.rate / raw_rate:.2f}% of the raw insert rate)")
    return rc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=None, help="postgresql+psycopg://...; default: temporary SQLite")
    parser.add_argument("--seconds", type=float, default=10.0, help="the length of each timed loop")
    parser.add_argument("--clients", type=int, default=8, help="concurrent HTTP clients")
    parser.add_argument("--rules", type=int, default=200, help="triage rules to create")
    parser.add_argument("--bodies", type=int, default=1000, help="distinct ticket bodies to cycle through")
    parser.add_argument("--train-tickets", type=int, default=1000, help="generated tickets the model learns from")
    parser.add_argument("--skip-http", action="store_true", help="no server: in-process figures only")
    args = parser.parse_args()
    if args.clients < 1 or args.seconds <= 0 or args.rules < 0 or args.bodies < 1 or args.train_tickets < 100:
        parser.error("--clients >= 1, --seconds > 0, --rules >= 0, --bodies >= 1, --train-tickets >= 100")
    with scratch_database(args.database_url) as (url, label), tempfile.TemporaryDirectory() as tmp:
        db = Database(url)
        try:
            t0 = time.perf_counter()
            world = build(db, n_rules=args.rules, n_bodies=args.bodies, train_tickets=args.train_tickets)
            mix = ", ".join(f"{n} {c}" for c, n in world.rules.most_common())
            print(f"tierline triage benchmark: {label}; setup {time.perf_counter() - t0:.1f} s; "
                  f"{args.seconds:g} s per loop; {len(world.bodies):,} inbound ticket bodies (demo corpus)")
            print(f"   {args.rules} rules: {mix}")
            print(f"   {world.model}")
            pure_rate = part_pure(db, world, args.seconds, args.rules)
            part_pipeline(db, world, args.seconds, pure_rate)
            return part_intake(db, url, world, args, Path(tmp))
        finally:
            db.dispose()


if __name__ == "__main__":
    sys.exit(main())
