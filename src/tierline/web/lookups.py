"""The names the manager's pages print beside ids, and the choices their forms offer, read through the domains'
services (whole lists, page by page: a directory is hundreds of rows, not millions)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.people import service as people_service
from tierline.people import teams as people_teams
from tierline.platform.pagination import MAX_LIMIT
from tierline.sla import calendars, policies
from tierline.tickets import queues

MAX_PAGES = 50  # 10,000 rows: past that a directory list wants its search box, not one page


def everything(list_: Callable[..., tuple[list[Any], str | None]], session: Session, **filters: Any) -> list[Any]:
    """Every row a service's list gives, following its cursor."""
    rows: list[Any] = []
    cursor = None
    for _ in range(MAX_PAGES):
        page, cursor = list_(session, limit=MAX_LIMIT, cursor=cursor, **filters)
        rows += page
        if cursor is None:
            break
    return rows


def teams(session: Session, kind: str | None = None) -> list[tuple[int, str]]:
    found = everything(people_teams.list_teams, session, kind=kind)
    return sorted(((t.id, t.name) for t in found), key=lambda item: item[1].lower())


def team_names(session: Session) -> dict[int, str]:
    return dict(teams(session))


def users(session: Session, *, staff_only: bool = True) -> list[Any]:
    found = everything(people_service.list_users, session)
    if staff_only:
        found = [u for u in found if set(u.roles) - {"customer", "integration"}]
    return sorted(found, key=lambda u: u.name.lower())


def user_names(session: Session) -> dict[int, str]:
    return {u.id: u.name for u in everything(people_service.list_users, session)}


def component_tree(session: Session) -> list[tuple[Any, int]]:
    """Every component with its depth, each parent before its children, siblings by name."""
    found = everything(components_service.list_, session)
    children: dict[int | None, list[Any]] = {}
    for c in found:
        children.setdefault(c.parent_id, []).append(c)
    out: list[tuple[Any, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for c in sorted(children.get(parent, []), key=lambda c: c.name.lower()):
            out.append((c, depth))
            walk(c.id, depth + 1)

    walk(None, 0)
    known = {c.id for c, _ in out}
    out += [(c, 0) for c in found if c.id not in known]  # an orphan (its parent gone) still shows
    return out


def component_choices(session: Session) -> list[tuple[str, str]]:
    return [(str(c.id), "\u2003" * depth + c.name) for c, depth in component_tree(session)]


def queue_choices(session: Session) -> list[tuple[str, str]]:
    return [(str(q.id), f"{q.name} ({q.tier})") for q in
            sorted(queues.directory(session).values(), key=lambda q: (q.tier, q.name.lower()))]


def calendar_choices(session: Session) -> list[tuple[str, str]]:
    return [(str(c.id), c.name) for c in everything(calendars.list_calendars, session)]


def policy_names(session: Session) -> dict[int, str]:
    return {p.id: p.name for p in everything(policies.list_policies, session)}
