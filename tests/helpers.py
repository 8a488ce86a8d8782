"""Test helpers: make users and tokens directly, and call the API as them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tierline.platform.audit import AuditEvent
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.actor import Actor
from tierline.platform.db import Database

SYSTEM = Actor.system("tests")


@dataclass
class Api:
    """A TestClient bound to one user's bearer token."""

    client: TestClient
    token: str
    user_id: int
    email: str

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"}
        headers.update(extra or {})
        return headers

    def get(self, url: str, **kw: Any):  # noqa: ANN201
        return self.client.get(url, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, url: str, json: Any = None, **kw: Any):  # noqa: ANN201
        return self.client.post(url, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, url: str, json: Any = None, **kw: Any):  # noqa: ANN201
        return self.client.patch(url, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def put(self, url: str, json: Any = None, **kw: Any):  # noqa: ANN201
        return self.client.put(url, json=json, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, url: str, **kw: Any):  # noqa: ANN201
        return self.client.delete(url, headers=self._headers(kw.pop("headers", None)), **kw)


class Factory:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._n = 0

    def user(self, *, roles: list[str], email: str | None = None, password: str | None = None,
             name: str | None = None):  # noqa: ANN201
        self._n += 1
        email = email or f"user{self._n}@example.com"
        with self.db.unit_of_work() as session:
            user = auth_service.create_user(session, actor=SYSTEM, email=email, name=name or email,
                                            roles=roles, password=password)
            try:
                from tierline.people import service as people_service
            except ImportError:
                people_service = None
            if people_service is not None:
                people_service.ensure_profile(session, actor=SYSTEM, user=user)
            return user

    def token(self, user, scopes: list[str] | None = None) -> str:  # noqa: ANN001
        with self.db.unit_of_work() as session:
            fresh = auth_service.get_user(session, user_id=user.id)
            _, raw = auth_service.create_token(session, actor=SYSTEM, user=fresh, name="test", scopes=scopes)
            return raw

    def api(self, client: TestClient, *, roles: list[str], email: str | None = None,
            scopes: list[str] | None = None) -> Api:
        user = self.user(roles=roles, email=email)
        return Api(client=client, token=self.token(user, scopes), user_id=user.id, email=user.email)

    def audit_count(self, **filters: Any) -> int:
        with self.db.session(write=False) as session:
            stmt = select(func.count()).select_from(AuditEvent)
            for key, value in filters.items():
                stmt = stmt.where(getattr(AuditEvent, key) == value)
            return session.scalar(stmt) or 0

    def count(self, model: Any) -> int:
        with self.db.session(write=False) as session:
            return session.scalar(select(func.count()).select_from(model)) or 0
