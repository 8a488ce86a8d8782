"""The system-architecture tree: components, their owning (engineering) and supporting (support) teams.

The tree never holds a cycle: a move under the component itself or one of its descendants is refused. On
PostgreSQL every structural change (create, move, rename, delete) takes one transaction-scoped advisory
lock, so two concurrent moves cannot each pass the cycle check and together close a loop; on SQLite the
database write lock already serialises them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from tierline.components.models import Component
from tierline.people import service as people_service
from tierline.platform import audit, clock, reference_cache
from tierline.platform.auth.actor import Actor
from tierline.platform.errors import Conflict, Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate
from tierline.platform.wording import with_article

_TREE_LOCK_KEY = 0x7431_C0E7  # arbitrary constant naming "the component tree"
_UNSET: Any = object()


def get(session: Session, *, component_id: int) -> Component:
    component = session.get(Component, component_id)
    if component is None:
        raise NotFound(f"component {component_id} does not exist")
    return component


def descendant_ids(session: Session, *, component_id: int) -> set[int]:
    """The component and everything below it."""
    get(session, component_id=component_id)
    tree = select(Component.id).where(Component.id == component_id).cte("subtree", recursive=True)
    child = aliased(Component)
    # UNION (not UNION ALL) also ends on a looped tree, should one ever be written behind our back.
    tree = tree.union(select(child.id).where(child.parent_id == tree.c.id))
    return set(session.scalars(select(tree.c.id)))


def ancestors(session: Session, *, component_id: int) -> list[Component]:
    """The components above this one, root first (the component itself not included)."""
    component = get(session, component_id=component_id)
    out: list[Component] = []
    seen = {component.id}
    parent_id = component.parent_id
    while parent_id is not None and parent_id not in seen:  # the tree is shallow: one lookup per level
        parent = session.get(Component, parent_id)
        if parent is None:
            break
        out.append(parent)
        seen.add(parent.id)
        parent_id = parent.parent_id
    return list(reversed(out))


def name_index(session: Session) -> Mapping[str, int]:
    """Lower-case component names -> id, for spotting components named in ticket text.

    The cached tree's own read-only mapping (see `info`): the same object until the tree changes.
    """
    return _tree(session).names


def get_detail(session: Session, *, component_id: int) -> tuple[Component, list[str]]:
    """The component and its path: the names of its ancestors, root first."""
    component = get(session, component_id=component_id)
    return component, [a.name for a in ancestors(session, component_id=component_id)]


def list_(session: Session, *, parent_id: int | None = None, root: bool | None = None,
          owner_team_id: int | None = None, support_team_id: int | None = None, q: str | None = None,
          limit: int | None = None, cursor: str | None = None) -> tuple[list[Component], str | None]:
    if root and parent_id is not None:
        raise Invalid("root", "give root=true or parent_id, not both")
    stmt = select(Component)
    if root is True:
        stmt = stmt.where(Component.parent_id.is_(None))
    elif root is False:
        stmt = stmt.where(Component.parent_id.is_not(None))
    if parent_id is not None:
        stmt = stmt.where(Component.parent_id == parent_id)
    if owner_team_id is not None:
        stmt = stmt.where(Component.owner_team_id == owner_team_id)
    if support_team_id is not None:
        stmt = stmt.where(Component.support_team_id == support_team_id)
    if q:
        stmt = stmt.where(Component.name.icontains(q, autoescape=True))
    return paginate(session, stmt, keys=[SortKey(Component.id)], limit=limit, cursor=cursor)


def team_usage(session: Session, *, team_id: int) -> tuple[int, int]:
    """How many components the team owns and supports."""
    owned = session.scalar(select(func.count()).where(Component.owner_team_id == team_id)) or 0
    supported = session.scalar(select(func.count()).where(Component.support_team_id == team_id)) or 0
    return owned, supported


# -- changes -------------------------------------------------------------------------------------------

def _lock_tree(session: Session) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _TREE_LOCK_KEY})


def _check_team(session: Session, team_id: int, *, field: str, kind: str) -> None:
    try:
        team = people_service.get_team(session, team_id=team_id)
    except NotFound as exc:
        raise Invalid(field, f"team {team_id} does not exist") from exc
    if team.kind != kind:
        raise Invalid(field, f"team {team_id} ({team.name}) is {with_article(team.kind)} team; it must be "
                             f"{with_article(kind)} team")


def _check_parent(session: Session, parent_id: int) -> None:
    if session.get(Component, parent_id) is None:
        raise Invalid("parent_id", f"component {parent_id} does not exist")


def _clean_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise Invalid("name", "must not be blank")
    if "/" in name:
        raise Invalid("name", "must not contain '/' (it separates names in a component's path)")
    return name


def _check_sibling_name_free(session: Session, name: str, parent_id: int | None, *,
                             component_id: int | None) -> None:
    stmt = select(Component.id).where(func.lower(Component.name) == name.lower())
    same_parent = Component.parent_id.is_(None) if parent_id is None else Component.parent_id == parent_id
    stmt = stmt.where(same_parent)
    if component_id is not None:
        stmt = stmt.where(Component.id != component_id)
    if session.scalar(stmt) is not None:
        where = "at the root" if parent_id is None else f"under component {parent_id}"
        raise Conflict(f"a component named {name!r} already exists {where}")


def _flush(session: Session, conflict: str) -> None:
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc


def create(session: Session, *, actor: Actor, name: str, parent_id: int | None = None,
           owner_team_id: int | None = None, support_team_id: int | None = None,
           required_skills: Iterable[str] = (), description: str = "") -> Component:
    name = _clean_name(name)
    skills = people_service.normalise_skills(required_skills, "required_skills")
    if owner_team_id is not None:
        _check_team(session, owner_team_id, field="owner_team_id", kind="engineering")
    if support_team_id is not None:
        _check_team(session, support_team_id, field="support_team_id", kind="support")
    _lock_tree(session)
    if parent_id is not None:
        _check_parent(session, parent_id)
    _check_sibling_name_free(session, name, parent_id, component_id=None)
    now = clock.now()
    component = Component(name=name, parent_id=parent_id, owner_team_id=owner_team_id,
                          support_team_id=support_team_id, required_skills=skills, description=description,
                          created_at=now, updated_at=now)
    session.add(component)
    _flush(session, f"a component named {name!r} was created beside it by a concurrent request")
    audit.record_create(session, actor, component)
    return component


def update(session: Session, *, actor: Actor, component_id: int, name: str | None = None,
           parent_id: int | None = _UNSET, owner_team_id: int | None = _UNSET,
           support_team_id: int | None = _UNSET, required_skills: Iterable[str] | None = None,
           description: str | None = None) -> Component:
    """Change the fields given. `parent_id`, `owner_team_id` and `support_team_id` may be set to None (a root,
    no team). A move under the component itself or a descendant is a 409: the tree would loop."""
    _lock_tree(session)
    component = get(session, component_id=component_id)
    name = _clean_name(name) if name is not None else None
    skills = people_service.normalise_skills(required_skills, "required_skills") \
        if required_skills is not None else None
    if owner_team_id not in (_UNSET, None):
        _check_team(session, owner_team_id, field="owner_team_id", kind="engineering")
    if support_team_id not in (_UNSET, None):
        _check_team(session, support_team_id, field="support_team_id", kind="support")
    new_parent = component.parent_id if parent_id is _UNSET else parent_id
    if parent_id not in (_UNSET, None) and parent_id != component.parent_id:
        _check_parent(session, parent_id)
        if parent_id in descendant_ids(session, component_id=component.id):
            raise Conflict(f"moving component {component.id} under component {parent_id} would make a cycle: "
                           f"{parent_id} is the component itself or one of its descendants")
    if name is not None or new_parent != component.parent_id:
        _check_sibling_name_free(session, name or component.name, new_parent, component_id=component.id)

    before = audit.snapshot(component)
    if name is not None:
        component.name = name
    component.parent_id = new_parent
    if owner_team_id is not _UNSET:
        component.owner_team_id = owner_team_id
    if support_team_id is not _UNSET:
        component.support_team_id = support_team_id
    if skills is not None:
        component.required_skills = skills
    if description is not None:
        component.description = description
    if audit.diff(before, audit.snapshot(component)):
        component.updated_at = clock.now()
        _flush(session, f"a component named {component.name!r} was created beside it by a concurrent request")
        audit.record_update(session, actor, component, before)
    return component


def delete(session: Session, *, actor: Actor, component_id: int) -> None:
    """Delete a leaf. A component with children is a 409 (move or delete them first), as is one that
    tickets or other records still point at."""
    _lock_tree(session)
    component = get(session, component_id=component_id)
    children = session.scalar(select(func.count()).where(Component.parent_id == component.id)) or 0
    if children:
        raise Conflict(f"component {component.id} has {children} child component(s); "
                       "move or delete them first")
    audit.record_delete(session, actor, component)
    session.delete(component)
    _flush(session, f"component {component.id} is still referenced (by tickets or other records)")


# -- the tree, cached per process ------------------------------------------------------------------------
#
# Intake asks about the ticket's component many times (its ancestry for rule and SLA conditions, its teams,
# its required skills): each answer comes from one in-memory copy of the tree, kept per process in the
# reference cache (platform/reference_cache.py) and rebuilt when the components table changes.

@dataclass(frozen=True)
class ComponentInfo:
    """What intake reads of a component, from the cached tree."""

    id: int
    name: str
    parent_id: int | None
    owner_team_id: int | None
    support_team_id: int | None
    required_skills: tuple[str, ...]


@dataclass(frozen=True)
class _Tree:
    by_id: dict[int, ComponentInfo]
    names: Mapping[str, int]  # lower-case name -> id (the lowest id among equal names), read-only


def _build_tree(session: Session) -> _Tree:
    rows = session.execute(select(Component.id, Component.name, Component.parent_id, Component.owner_team_id,
                                  Component.support_team_id, Component.required_skills)
                           .order_by(Component.id)).all()
    by_id: dict[int, ComponentInfo] = {}
    names: dict[str, int] = {}
    for cid, name, parent_id, owner, support, skills in rows:
        by_id[cid] = ComponentInfo(id=cid, name=name, parent_id=parent_id, owner_team_id=owner,
                                   support_team_id=support, required_skills=tuple(skills or ()))
        names.setdefault(name.strip().lower(), cid)
    return _Tree(by_id=by_id, names=MappingProxyType(names))


def _tree(session: Session) -> _Tree:
    return reference_cache.cached(session, "components", "components.tree", _build_tree)


def info(session: Session, *, component_id: int) -> ComponentInfo:
    """The component as the cached tree holds it (NotFound when it does not exist)."""
    found = _tree(session).by_id.get(component_id)
    if found is None:
        raise NotFound(f"component {component_id} does not exist")
    return found


def lineage(session: Session, *, component_id: int) -> list[int]:
    """The component's id, then its ancestors' from its parent up to the root (NotFound when it does not
    exist)."""
    by_id = _tree(session).by_id
    node = by_id.get(component_id)
    if node is None:
        raise NotFound(f"component {component_id} does not exist")
    out = [node.id]
    seen = {node.id}
    parent_id = node.parent_id
    while parent_id is not None and parent_id not in seen:
        parent = by_id.get(parent_id)
        if parent is None:
            break
        out.append(parent.id)
        seen.add(parent.id)
        parent_id = parent.parent_id
    return out


def check_team_kind(session: Session, *, team_id: int, kind: str) -> None:
    """A team's kind may change only as far as the components hanging on it allow (409 saying why)."""
    owned, supported = team_usage(session, team_id=team_id)
    if owned and kind != "engineering":
        raise Conflict(f"team {team_id} owns {owned} component(s); an owner team must stay 'engineering'",
                       allowed=["engineering"])
    if supported and kind != "support":
        raise Conflict(f"team {team_id} supports {supported} component(s); a support team stays 'support'",
                       allowed=["support"])
