"""The values triage steps hand to each other. Plain data: every step can be run and tested on its own."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tierline.customers.profiles import CustomerProfile


@dataclass
class Sentiment:
    compound: float  # VADER compound score, -1 (angry) .. 1 (happy)
    frustrated: bool
    reasons: list[str] = field(default_factory=list)  # e.g. ["compound -0.71 <= -0.5", "escalation word: lawyer"]


@dataclass
class Signals:
    error_codes: list[str] = field(default_factory=list)  # every code found, in order of appearance
    error_code: str | None = None  # the primary one
    error_family: str | None = None  # e.g. "DB", "AUTH", "PAY", "HTTP5XX"
    component_hints: list[int] = field(default_factory=list)  # component ids named in the text
    affected_users: int | None = None  # "about 300 users cannot log in"
    production_down: bool = False
    data_loss: bool = False
    security: bool = False
    sentiment: Sentiment | None = None
    all_users: bool = False  # "all users", "nobody can log in": every user of the customer (count unknown)

    def as_dict(self) -> dict[str, Any]:
        # By hand rather than dataclasses.asdict: its deep copy cost more than the rules themselves.
        out = {**self.__dict__, "error_codes": list(self.error_codes), "component_hints": list(self.component_hints)}
        if self.sentiment is not None:
            out["sentiment"] = {**self.sentiment.__dict__, "reasons": list(self.sentiment.reasons)}
        return out


@dataclass
class Prediction:
    target: str  # queue | component | type | priority
    label: str
    confidence: float
    model_version: int
    applied: bool = False  # above the threshold and the field was empty: applied; else a suggestion


@dataclass
class Impact:
    score: int  # 0..100
    explain: list[dict[str, Any]] = field(default_factory=list)  # [{factor, points, detail}]


@dataclass
class Draft:
    """The ticket as triage sees and changes it: its fields, what is known around it, and who set what."""

    subject: str
    description: str
    requester_email: str
    type: str = "question"
    priority: str = "P3"
    channel: str = "api"
    component_id: int | None = None
    feature_area: str | None = None
    error_code: str | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, Any] = field(default_factory=dict)
    assignee_id: int | None = None
    team_id: int | None = None
    tier: str | None = None
    queue_id: int | None = None
    urgency: str | None = None
    affected_users: int | None = None
    customer: CustomerProfile | None = None
    sentiment: float | None = None
    frustrated: bool = False
    impact_score: int | None = None
    # Fields the caller set (kept unless a rule explicitly sets them) and fields rules set (predictions and
    # defaults never overwrite either).
    caller_set: set[str] = field(default_factory=set)
    rule_set: set[str] = field(default_factory=set)
    # Side effects the actions asked for, carried out by the pipeline when the ticket is saved.
    escalate_to_engineering: str | None = None  # the reason
    notify: list[dict[str, Any]] = field(default_factory=list)
    # The assignment candidates ranked before a write that claims one (triage.assignment.Ranking), when the
    # pipeline was asked to rank rather than claim.
    ranking: Any = None

    def is_free(self, name: str) -> bool:
        """May a prediction or a default fill this field? Only when nobody set it, and it is empty or holds
        the ticket default (type, priority and channel always hold a value)."""
        if name in self.caller_set or name in self.rule_set:
            return False
        if name in DEFAULTED_FIELDS:
            return True
        value = getattr(self, name)
        return value is None or value == [] or value == {}


def _copy(value: Any) -> Any:
    """A shallow copy of a list or dict: a record must not hand out the compiled rule's own container."""
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


@dataclass
class RuleMatch:
    rule_id: int
    name: str
    conditions: list[dict[str, Any]]  # the conditions that held, each {field, op, value, actual}
    stop_processing: bool = False

    def as_dict(self) -> dict[str, Any]:
        # The condition descriptions are fresh dicts per evaluation (conditions.CompiledConditions.held).
        return {"rule_id": self.rule_id, "name": self.name, "conditions": self.conditions,
                "stop_processing": self.stop_processing}


@dataclass
class ActionResult:
    rule_id: int
    type: str
    value: Any
    applied: bool
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"rule_id": self.rule_id, "type": self.type, "value": _copy(self.value), "applied": self.applied,
                "note": self.note}


@dataclass
class AssignmentResult:
    user_id: int | None
    strategy: str | None
    reason: str  # why this agent, or why nobody
    considered: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


DEFAULTED_FIELDS = frozenset({"type", "priority", "channel"})
TICKET_FIELDS = ("subject", "description", "requester_email", "type", "priority", "channel", "component_id",
                 "feature_area", "error_code", "tags", "custom_fields", "assignee_id", "team_id", "tier",
                 "queue_id", "urgency", "affected_users")
