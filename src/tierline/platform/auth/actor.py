"""Who is acting: a user (through a token or a session) or the system (jobs, CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tierline.platform import rbac


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    label: str
    roles: tuple[str, ...] = ()
    permissions: frozenset[str] = field(default_factory=frozenset)
    via: str = "system"  # token | session | system
    token_id: int | None = None
    # When the calling credential stops working: a token's expiry (None: it never expires, or a session, whose
    # new tokens get no cap from it). A token minted by this actor may not outlive it.
    expires_at: datetime | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(user_id=None, label=label, roles=("admin",), permissions=frozenset(rbac.PERMISSIONS))

    @property
    def email(self) -> str:
        return self.label

    def can(self, permission: str) -> bool:
        return permission in self.permissions

    @property
    def is_customer_only(self) -> bool:
        return "notes:read" not in self.permissions
