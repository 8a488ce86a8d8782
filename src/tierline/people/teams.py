"""Teams (support, engineering, product) and their members. A user may be in several teams."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tierline.people.models import TEAM_KINDS, Team, TeamMembership
from tierline.platform import audit, clock
from tierline.platform.auth.actor import Actor
from tierline.platform.auth.models import User
from tierline.platform.errors import Conflict, Invalid, NotFound
from tierline.platform.pagination import SortKey, paginate


def get_team(session: Session, *, team_id: int) -> Team:
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound(f"team {team_id} does not exist")
    return team


def list_teams(session: Session, *, kind: str | None = None, member_id: int | None = None,
               q: str | None = None, limit: int | None = None,
               cursor: str | None = None) -> tuple[list[Team], str | None]:
    stmt = select(Team)
    if kind:
        stmt = stmt.where(Team.kind == kind)
    if member_id is not None:
        teams_of = select(TeamMembership.team_id).where(TeamMembership.user_id == member_id)
        stmt = stmt.where(Team.id.in_(teams_of))
    if q:
        stmt = stmt.where(Team.name.icontains(q, autoescape=True))
    return paginate(session, stmt, keys=[SortKey(Team.id)], limit=limit, cursor=cursor)


def _check_name_free(session: Session, name: str, *, team_id: int | None = None) -> None:
    stmt = select(Team.id).where(func.lower(Team.name) == name.lower())
    if team_id is not None:
        stmt = stmt.where(Team.id != team_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"a team named {name!r} already exists")


def _check_kind(kind: str) -> str:
    if kind not in TEAM_KINDS:
        raise Invalid("kind", f"must be one of {', '.join(TEAM_KINDS)}")
    return kind


def _check_new_members(session: Session, user_ids: Iterable[int], *, field: str,
                       current: set[int]) -> list[int]:
    """The ids, de-duplicated; every newly added one must be an existing, active user."""
    ids = list(dict.fromkeys(user_ids))
    new = [uid for uid in ids if uid not in current]
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(new)))} if new else {}
    errors = []
    for i, uid in enumerate(user_ids):
        if uid in current:
            continue
        user = users.get(uid)
        where = f"{field}.{i}" if field == "member_ids" else field
        if user is None:
            errors.append((where, f"user {uid} does not exist"))
        elif not user.active:
            errors.append((where, f"user {uid} is deactivated"))
    if errors:
        raise Invalid(errors=errors)
    return ids


def _flush(session: Session, conflict: str) -> None:
    # The checks above catch duplicates; this catches the concurrent writer that slipped between them.
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(conflict) from exc


def _add(session: Session, actor: Actor, team: Team, user_id: int) -> None:
    membership = TeamMembership(team_id=team.id, user_id=user_id, created_at=clock.now())
    team.memberships.append(membership)
    _flush(session, f"user {user_id} is already a member of team {team.id}")
    audit.record_create(session, actor, membership)


def _remove(session: Session, actor: Actor, team: Team, membership: TeamMembership) -> None:
    audit.record_delete(session, actor, membership)
    team.memberships.remove(membership)


def create_team(session: Session, *, actor: Actor, name: str, kind: str, description: str = "",
                member_ids: Iterable[int] = ()) -> Team:
    name = name.strip()
    if not name:
        raise Invalid("name", "must not be blank")
    _check_kind(kind)
    member_ids = _check_new_members(session, list(member_ids), field="member_ids", current=set())
    _check_name_free(session, name)
    now = clock.now()
    team = Team(name=name, kind=kind, description=description, created_at=now, updated_at=now)
    session.add(team)
    _flush(session, f"a team named {name!r} already exists")
    audit.record_create(session, actor, team)
    for user_id in member_ids:
        _add(session, actor, team, user_id)
    return team


def update_team(session: Session, *, actor: Actor, team_id: int, name: str | None = None,
                kind: str | None = None, description: str | None = None,
                member_ids: Iterable[int] | None = None) -> Team:
    """Change the fields given; `member_ids` replaces the member list (one audit event per membership)."""
    team = get_team(session, team_id=team_id)
    if name is not None:
        name = name.strip()
        if not name:
            raise Invalid("name", "must not be blank")
        _check_name_free(session, name, team_id=team.id)
    if kind is not None and kind != team.kind:
        _check_kind(kind)  # what the components hanging on the team allow is flows/teams.py's check
    current = set(team.member_ids)
    wanted = None
    if member_ids is not None:
        wanted = _check_new_members(session, list(member_ids), field="member_ids", current=current)

    before = audit.snapshot(team)
    if name is not None:
        team.name = name
    if kind is not None:
        team.kind = kind
    if description is not None:
        team.description = description
    changed = audit.diff(before, audit.snapshot(team))
    if wanted is not None:
        for membership in [m for m in team.memberships if m.user_id not in wanted]:
            _remove(session, actor, team, membership)
            changed = True
        for user_id in [uid for uid in wanted if uid not in current]:
            _add(session, actor, team, user_id)
            changed = True
    if changed:
        team.updated_at = clock.now()
        _flush(session, f"a team named {team.name!r} already exists")
        audit.record_update(session, actor, team, before)
    return team


def add_member(session: Session, *, actor: Actor, team_id: int, user_id: int) -> Team:
    """Idempotent: adding a current member changes nothing."""
    team = get_team(session, team_id=team_id)
    if user_id in team.member_ids:
        return team
    _check_new_members(session, [user_id], field="user_id", current=set())
    _add(session, actor, team, user_id)
    team.updated_at = clock.now()
    return team


def remove_member(session: Session, *, actor: Actor, team_id: int, user_id: int) -> Team:
    team = get_team(session, team_id=team_id)
    membership = next((m for m in team.memberships if m.user_id == user_id), None)
    if membership is None:
        raise NotFound(f"user {user_id} is not a member of team {team_id}")
    _remove(session, actor, team, membership)
    team.updated_at = clock.now()
    return team
