"""API shapes of triage rules. The shapes are checked here; what a condition or action means (fields, ops,
value types, the ids they name) is checked by `triage.conditions` and `triage.actions`, which name the failing
path (`conditions.all.2.op`, `actions.0.value`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tierline.platform.schemas import Patch

Trigger = Literal["create", "update", "customer_reply"]
Op = Literal["equals", "not_equals", "in", "not_in", "contains", "not_contains", "starts_with", "matches", "gte",
             "lte", "is_empty"]
ActionType = Literal["set_priority", "set_priority_from_impact", "set_type", "set_component", "set_queue",
                     "set_tier", "set_team", "assign_to", "add_tags", "set_feature_area", "set_custom_field",
                     "escalate_to_engineering", "notify"]

MAX_CONDITIONS = 50
MAX_ACTIONS = 50


class Condition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(min_length=1, max_length=100, examples=["error_code", "customer.plan",
                                                               "custom_fields.environment"])
    op: Op
    value: Any = Field(default=None, description="is_empty: true (default) or false; in/not_in: a list")


class Conditions(BaseModel):
    """Every `all` condition must hold and, when `any` is not empty, at least one `any` condition."""

    model_config = ConfigDict(extra="forbid")

    all: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)
    any: list[Condition] = Field(default_factory=list, max_length=MAX_CONDITIONS)


class Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: ActionType
    value: Any = Field(default=None, examples=["P2", ["database"], {"name": "environment", "value": "prod"}])


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=2000)
    position: int = Field(default=0, ge=0, le=1_000_000, description="rules run by position, then id")
    active: bool = True
    trigger: Trigger = "create"
    conditions: Conditions = Field(default_factory=Conditions, description="both lists empty: always holds")
    actions: list[Action] = Field(min_length=1, max_length=MAX_ACTIONS)
    stop_processing: bool = Field(default=False, description="when this rule matches, later rules do not run")


class RuleUpdate(Patch):
    """Omitted fields keep their value; null is refused (leave the field out instead)."""


    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    position: int | None = Field(default=None, ge=0, le=1_000_000)
    active: bool | None = None
    trigger: Trigger | None = None
    conditions: Conditions | None = None
    actions: list[Action] | None = Field(default=None, min_length=1, max_length=MAX_ACTIONS)
    stop_processing: bool | None = None


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str
    position: int
    active: bool
    trigger: Trigger
    conditions: Conditions
    actions: list[Action]
    stop_processing: bool
    created_at: datetime
    updated_at: datetime
