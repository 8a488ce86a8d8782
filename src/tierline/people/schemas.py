from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tierline.platform import rbac
from tierline.platform.schemas import Email, Id, Patch

Role = Literal[rbac.ROLES]  # type: ignore[valid-type]
Tier = Literal["L1", "L2", "L3"]
TeamKind = Literal["support", "engineering", "product"]
Skill = str  # normalised by the service: stripped, lower-cased, de-duplicated


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(min_length=1)
    timezone: str = Field(default="UTC", max_length=64)
    password: str | None = Field(default=None, max_length=1000,
                                 description="optional; at least 10 characters")
    skills: list[Skill] = Field(default_factory=list, max_length=100)
    max_open_tickets: int = Field(default=20, ge=0, le=10_000)
    available: bool = True
    active: bool = True


class UserUpdate(Patch):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    roles: list[Role] | None = Field(default=None, min_length=1)
    timezone: str | None = Field(default=None, max_length=64)
    password: str | None = Field(default=None, max_length=1000)
    skills: list[Skill] | None = Field(default=None, max_length=100)
    max_open_tickets: int | None = Field(default=None, ge=0, le=10_000)
    available: bool | None = None
    active: bool | None = None


class UserRead(BaseModel):
    """A user as the people domain shows it: identity and agent profile together."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    roles: list[str]
    tier: Tier | None
    timezone: str
    skills: list[str]
    max_open_tickets: int
    available: bool
    active: bool
    team_ids: list[int]
    created_at: datetime
    updated_at: datetime


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    kind: TeamKind
    description: str = Field(default="", max_length=10_000)
    member_ids: list[Id] = Field(default_factory=list, max_length=1000)


class TeamUpdate(Patch):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    kind: TeamKind | None = None
    description: str | None = Field(default=None, max_length=10_000)
    member_ids: list[Id] | None = Field(default=None, max_length=1000,
                                         description="the full member list; replaces the current one")


class TeamMemberAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Id


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: TeamKind
    description: str
    member_ids: list[int]
    created_at: datetime
    updated_at: datetime
