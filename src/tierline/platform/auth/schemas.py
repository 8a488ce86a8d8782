from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from tierline.platform.schemas import Id, UtcDateTime


class LoginIn(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1000)


class LoginOut(BaseModel):
    user_id: int
    email: str
    roles: list[str]
    csrf_token: str
    expires_at: datetime


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="api token", min_length=1, max_length=200)
    scopes: list[Annotated[str, Field(max_length=100)]] | None = Field(
        default=None, max_length=1000, description="permission names, each one the calling credential has; omitted: the caller's own")
    expires_at: UtcDateTime | None = Field(
        default=None, description="no later than the calling token's expiry; omitted: that expiry (none from a "
                                  "session)")
    expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    user_id: Id | None = Field(default=None, description="another user (an integration): needs tokens:admin and roles you could grant")


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    user_id: int
    name: str
    prefix: str
    scopes: list[str]
    expires_at: datetime | None
    created_at: datetime
    revoked_at: datetime | None


class TokenCreated(TokenRead):
    token: str = Field(description="shown once; store it now")


class Me(BaseModel):
    user_id: int | None
    email: str
    roles: list[str]
    permissions: list[str]
    via: str
