from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from tierline.platform.schemas import Id, Patch


class ComponentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    parent_id: Id | None = Field(default=None, description="omitted or null: a root component")
    owner_team_id: Id | None = Field(default=None, description="an engineering team")
    support_team_id: Id | None = Field(default=None, description="a support team")
    required_skills: list[str] = Field(default_factory=list, max_length=50)
    description: str = Field(default="", max_length=20_000)


class ComponentUpdate(Patch):
    model_config = ConfigDict(extra="forbid")
    nullable: ClassVar[frozenset[str]] = frozenset({"parent_id", "owner_team_id", "support_team_id"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    parent_id: Id | None = Field(default=None, description="move the component; null makes it a root")
    owner_team_id: Id | None = None
    support_team_id: Id | None = None
    required_skills: list[str] | None = Field(default=None, max_length=50)
    description: str | None = Field(default=None, max_length=20_000)


class ComponentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    parent_id: int | None
    owner_team_id: int | None
    support_team_id: int | None
    required_skills: list[str]
    description: str
    created_at: datetime
    updated_at: datetime


class ComponentDetail(ComponentRead):
    path: list[str] = Field(description="the names of the component's ancestors, root first")
