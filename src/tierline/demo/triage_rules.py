"""The demo's triage rules, as data: what a SaaS support desk routes, raises and flags at intake.

Rules are the API's shape (`POST /api/v1/triage/rules`) with queues, teams and components named; the loader
swaps the names for ids (`resolve`). They run by position, and the first rule to set a field keeps it, so:

- positions 1-9 fill a missing component from the error-code family (`DB-1042` is the database);
- positions 10-110 route by error-code family (and by component, for tickets without a code) to the queue of
  the team that can work them: DB-, STO-, ETL- to "L2 Database & Data"; AUTH-, SCIM- to "L2 Auth & Identity";
  HTTP 5xx, DNS-, TLS-, API-5xxx, WH-, INT-, SYNC- to "L2 Integrations & API"; JOB- to L3; PAY- to billing.
  Everything else goes to the tier's default queue (L1 General, or L1 Billing for billing components);
- positions 200-290 raise priority from impact, escalate to engineering and tag what a lead wants to see;
- one rule runs on customer replies.

The demo generator plans each ticket's life from the queue it starts in, so it asks `intake_queue` where these
rules send a ticket: a small evaluator of the conditions the routing rules use (it refuses any other, and the
loader checks every ticket landed where the plan said).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Ref:
    """A queue, team or component by name; `resolve` turns it into the id."""

    kind: str  # queue | team | component
    name: str


def queue(name: str) -> Ref:
    return Ref("queue", name)


def team(name: str) -> Ref:
    return Ref("team", name)


def component(name: str) -> Ref:
    return Ref("component", name)


def _c(field: str, op: str, value: Any = None) -> dict[str, Any]:
    return {"field": field, "op": op, "value": value}


def _a(type_: str, value: Any = None) -> dict[str, Any]:
    return {"type": type_, "value": value}


def _rule(position: int, name: str, description: str, *, actions: list[dict[str, Any]],
          all_: list[dict[str, Any]] | None = None, any_: list[dict[str, Any]] | None = None,
          trigger: str = "create") -> dict[str, Any]:
    return {"name": name, "description": description, "position": position, "active": True,
            "trigger": trigger, "conditions": {"all": all_ or [], "any": any_ or []}, "actions": actions,
            "stop_processing": False}


DB_CODES = r"^DB-\d{4}$"
AUTH_CODES = r"^(?:AUTH-\d{3}|SCIM-\d{3})$"
PAY_CODES = r"^PAY-\d{4}$"

DB_QUEUE, DB_TEAM = "L2 Database & Data", "Data & Database Support"
ID_QUEUE, ID_TEAM = "L2 Auth & Identity", "Identity & Access Support"
API_QUEUE, API_TEAM = "L2 Integrations & API", "Integrations & API Support"


def _route(position: int, name: str, description: str, to_queue: str, to_team: str, tags: list[str], *,
           all_: list[dict[str, Any]] | None = None, any_: list[dict[str, Any]] | None = None,
           extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return _rule(position, name, description, all_=all_, any_=any_,
                 actions=[_a("set_queue", queue(to_queue)), _a("set_team", team(to_team)),
                          _a("add_tags", tags), *(extra or [])])


RULES: tuple[dict[str, Any], ...] = (
    # -- the component from the error-code family, when the ticket does not say ---------------------------
    _rule(1, "Database error without a component: Database",
          "A DB- code names the managed database even when the customer picked no component.",
          all_=[_c("error_code", "matches", DB_CODES), _c("component", "is_empty")],
          actions=[_a("set_component", component("Database"))]),
    _rule(2, "Sign-in error without a component: Auth",
          "AUTH- and SCIM- codes come from sign-in, federation and provisioning.",
          all_=[_c("error_code", "matches", AUTH_CODES), _c("component", "is_empty")],
          actions=[_a("set_component", component("Auth"))]),
    _rule(3, "Payment error without a component: Billing", "PAY- codes come from the billing engine.",
          all_=[_c("error_code", "matches", PAY_CODES), _c("component", "is_empty")],
          actions=[_a("set_component", component("Billing"))]),

    # -- routing by error-code family (and by component when there is no code) -----------------------------
    _route(10, "Server errors (HTTP 5xx): L2 Integrations & API",
           "502/503/504 from the edge and 500s from the API need the API and network specialists.",
           API_QUEUE, API_TEAM, ["5xx"], all_=[_c("error_code", "matches", r"(?i)^HTTP[ /-]?5\d\d$")]),
    _route(20, "Network edge (DNS-, TLS-, CDN, load balancer): L2 Integrations & API",
           "Custom domains, certificates, CDN and load balancing.", API_QUEUE, API_TEAM, ["network"],
           any_=[_c("error_code", "matches", r"^(?:DNS|TLS)-\d{4}$"),
                 _c("component", "in", [component("CDN"), component("Networking")])]),
    _route(30, "Database errors (DB-): L2 Database & Data",
           "Replication, pooling, backups and query performance: L1 cannot work a database (postgres skill).",
           DB_QUEUE, DB_TEAM, ["database"],
           any_=[_c("error_code", "matches", DB_CODES), _c("component", "in", [component("Database")])]),
    _route(40, "Storage errors (STO-): L2 Database & Data", "Buckets, lifecycle rules and signed URLs.",
           DB_QUEUE, DB_TEAM, ["storage"], all_=[_c("component", "not_in", [component("CDN")])],
           any_=[_c("error_code", "matches", r"^STO-\d{4}$"), _c("component", "in", [component("Storage")])]),
    _route(50, "Warehouse sync errors (ETL-): L2 Database & Data",
           "Exports to Snowflake, BigQuery, Redshift.", DB_QUEUE, DB_TEAM, ["etl"],
           any_=[_c("error_code", "matches", r"^ETL-\d{4}$"),
                 _c("component", "in", [component("Data Warehouse Sync")])]),
    _route(60, "Sign-in and provisioning errors (AUTH-, SCIM-): L2 Auth & Identity",
           "SSO, API keys, MFA resets and SCIM need the identity specialists (auth skill).",
           ID_QUEUE, ID_TEAM, ["identity"],
           any_=[_c("error_code", "matches", AUTH_CODES), _c("component", "in", [component("Auth")])]),
    _route(70, "API server errors (API-5xxx): L2 Integrations & API",
           "API-5xxx is a server-side fault; API-429 (rate limits) stays with L1.", API_QUEUE, API_TEAM,
           ["api-error"], all_=[_c("error_code", "matches", r"^API-5\d{3}$")]),
    _route(80, "Webhook and connector errors (WH-, INT-, SYNC-): L2 Integrations & API",
           "Webhooks, the Slack app and the Salesforce connector.", API_QUEUE, API_TEAM, ["integrations"],
           all_=[_c("component", "not_in", [component("Data Warehouse Sync")])],
           any_=[_c("error_code", "matches", r"^(?:WH|INT|SYNC)-\d{4}$"),
                 _c("component", "in", [component("Integrations")])]),
    _route(90, "Scheduler errors (JOB-): L3 Platform Engineering",
           "Duplicate or stuck scheduled runs are scheduler defects: code-level work from the start.",
           "L3 Platform Engineering", "Support Engineering", ["jobs"],
           any_=[_c("error_code", "matches", r"^JOB-\d{4}$"),
                 _c("component", "in", [component("Job Scheduler")])]),
    _route(100, "Failed renewal of a contracted account: L2 Billing",
           "A business or enterprise renewal that failed payment puts the contract at risk.",
           "L2 Billing", "Billing Support", ["renewal-at-risk"],
           all_=[_c("error_code", "in", ["PAY-3003", "PAY-3011"]),
                 _c("customer.plan", "in", ["business", "enterprise"])],
           extra=[_a("notify", {"team_id": team("Billing Support"),
                                "message": "A contracted account's renewal payment failed."})]),
    _route(110, "Payment and invoice errors (PAY-): L1 Billing", "Billing specialists take first touch.",
           "L1 Billing", "Billing Support", ["billing"],
           any_=[_c("error_code", "matches", PAY_CODES), _c("component", "in", [component("Billing")])]),

    # -- priority, escalation and flags --------------------------------------------------------------------
    _rule(200, "High-impact incidents: priority from impact",
          "An incident scoring 50+ on customer impact takes its priority from the impact x urgency matrix.",
          all_=[_c("type", "equals", "incident"), _c("impact_score", "gte", 50)],
          actions=[_a("set_priority_from_impact"), _a("add_tags", ["high-impact"])]),
    _rule(210, "Enterprise P1 incident: escalate to engineering",
          "The owning engineering team hears about an enterprise outage at once, not after L2.",
          all_=[_c("customer.plan", "equals", "enterprise"), _c("type", "equals", "incident"),
                _c("priority", "equals", "P1")],
          actions=[_a("escalate_to_engineering", "P1 incident at an enterprise customer"),
                   _a("add_tags", ["exec-visibility"])]),
    _rule(220, "Data recovery requests: at least P2",
          "Deleted or lost data gets worse with time (backups and versions expire).",
          all_=[_c("priority", "in", ["P3", "P4"]),
                _c("description", "matches",
                   r"(?i)\b(?:deleted|restore|recover(?:ed|y)?|data loss|lost data)\b")],
          actions=[_a("set_priority", "P2"), _a("add_tags", ["data-recovery"])]),
    _rule(230, "Security wording: tag and tell Support Engineering",
          "Possible vulnerabilities, leaks and unauthorised access get a second pair of eyes.",
          any_=[_c("description", "matches",
                   r"(?i)\b(?:security (?:incident|breach)|data breach|vulnerabilit(?:y|ies)|"
                   r"unauthori[sz]ed access|CVE-\d{4}-\d+|leaked|compromised)\b"),
                _c("subject", "matches", r"(?i)\b(?:vulnerability|breach|leaked|compromised)\b")],
          actions=[_a("add_tags", ["security"]),
                   _a("notify", {"team_id": team("Support Engineering"),
                                 "message": "Security wording in a new ticket: please review."})]),
    _rule(240, "Compliance documents (SOC 2, pen test, DPA)",
          "Vendor reviews are answered from the trust portal.",
          any_=[_c("subject", "matches",
                   r"(?i)\b(?:SOC ?2|ISO ?27001|pen-?test|security review|DPA|GDPR)\b")],
          actions=[_a("add_tags", ["compliance"]), _a("set_type", "question")]),
    _rule(250, "Key accounts (ARR $250k+)", "Account managers follow their key accounts' tickets.",
          all_=[_c("customer.arr", "gte", 250_000)], actions=[_a("add_tags", ["key-account"])]),
    _rule(260, "Churn risk: frustrated or threatening to leave",
          "Very negative sentiment, or words like 'cancel' and 'second time this month'.",
          any_=[_c("sentiment", "lte", -0.6),
                _c("description", "matches",
                   r"(?i)\b(?:cancel(?:ling)?|unacceptable|lawyer|third time|second time this month|"
                   r"switch(?:ing)? (?:provider|vendor)s?)\b")],
          actions=[_a("add_tags", ["churn-risk"]),
                   _a("notify", {"team_id": team("Frontline Support"),
                                 "message": "A customer sounds ready to leave."})]),
    _rule(270, "Feature requests: product feedback, P4", "Feature requests never compete with incidents.",
          all_=[_c("type", "equals", "feature_request")],
          actions=[_a("set_priority", "P4"), _a("add_tags", ["product-feedback"])]),
    _rule(280, "Free plan questions: P4", "Free workspaces get answers, after paying customers' incidents.",
          all_=[_c("customer.plan", "equals", "free"), _c("type", "equals", "question")],
          actions=[_a("set_priority", "P4")]),
    _rule(290, "Phone tickets: call back", "The desk typed it in; the customer expects a call back.",
          all_=[_c("channel", "equals", "phone")], actions=[_a("add_tags", ["callback"])]),

    # -- customer replies ----------------------------------------------------------------------------------
    _rule(300, "Unhappy reply: needs attention",
          "A customer's reply reads negative: the ticket's owner should look at it first.",
          trigger="customer_reply", all_=[_c("sentiment", "lte", -0.3)],
          actions=[_a("add_tags", ["needs-attention"])]),
)


def resolve(value: Any, ids: Mapping[str, Mapping[str, int]]) -> Any:
    """`value` (a rule, or any part of one) with every Ref replaced by its id from `ids[kind][name]`."""
    if isinstance(value, Ref):
        return ids[value.kind][value.name]
    if isinstance(value, dict):
        return {k: resolve(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, ids) for v in value]
    return value


# -- where the rules send a ticket (for the generator's plan) ------------------------------------------------

def _lineage(name: str | None, parents: Mapping[str, str | None]) -> set[str]:
    out = set()
    while name is not None:
        out.add(name)
        name = parents[name]
    return out


def _holds(condition: dict[str, Any], facts: dict[str, Any], parents: Mapping[str, str | None]) -> bool:
    field, op, value = condition["field"], condition["op"], condition["value"]
    if field == "error_code":
        code = facts["error_code"]
        if op == "matches":
            return code is not None and re.search(value, code) is not None
        if op in ("in", "not_in"):
            hit = code is not None and code.lower() in {v.lower() for v in value}
            return hit if op == "in" else not hit
    elif field == "component":
        lineage = _lineage(facts["component"], parents)
        if op == "is_empty":
            return not lineage
        if op in ("in", "not_in"):
            hit = bool(lineage & {ref.name for ref in value})
            return hit if op == "in" else not hit
    elif field == "customer.plan" and op in ("equals", "in", "not_in"):
        plan = facts["plan"]
        hit = plan is not None and (plan == value if op == "equals" else plan in value)
        return not hit if op == "not_in" else hit
    raise ValueError(f"intake_queue cannot evaluate {field} {op}: a routing rule must use error_code, "
                     "component or customer.plan conditions")


def intake_queue(*, error_code: str | None, component: str | None, plan: str | None,
                 parents: Mapping[str, str | None]) -> str | None:
    """The queue name the first matching queue-setting `create` rule gives a ticket with these facts, or None.
    plan: the customer's plan (None without a customer); parents: component name -> parent name."""
    facts = {"error_code": error_code, "component": component, "plan": plan}
    for rule in sorted(RULES, key=lambda r: r["position"]):
        target = next((a["value"] for a in rule["actions"] if a["type"] == "set_queue"), None)
        if rule["trigger"] != "create" or target is None:
            continue
        conditions = rule["conditions"]
        if all(_holds(c, facts, parents) for c in conditions["all"]) and (
                not conditions["any"] or any(_holds(c, facts, parents) for c in conditions["any"])):
            return target.name
    return None
