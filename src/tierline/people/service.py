"""Agent profiles and the user view (identity from platform.auth joined with the profile).

Teams live in `tierline.people.teams`; `get_team` is re-exported here because other domains know it as
`people.service.get_team`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, type_coerce
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Session

from tierline.people.models import DEFAULT_MAX_OPEN_TICKETS, AgentProfile, Team, TeamMembership
from tierline.people.teams import get_team  # noqa: F401  (part of this module's interface)
from tierline.platform import audit, clock, rbac, reference_cache
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.actor import Actor
from tierline.platform.auth.models import User
from tierline.platform.errors import Forbidden, Invalid
from tierline.platform.pagination import SortKey, paginate

MAX_SKILL_LENGTH = 64
# Roles whose holders work tickets and may be assigned them.
ASSIGNABLE_ROLES = frozenset({"agent_l1", "agent_l2", "agent_l3", "sme"})


@dataclass(frozen=True)
class UserView:
    """A user as the people domain shows it: identity and agent profile together."""

    id: int
    email: str
    name: str
    roles: list[str]
    tier: str | None
    timezone: str
    skills: list[str]
    max_open_tickets: int
    available: bool
    active: bool
    team_ids: list[int]
    created_at: datetime
    updated_at: datetime


def _view(user: User, profile: AgentProfile | None, team_ids: list[int]) -> UserView:
    updated_at = user.updated_at if profile is None else max(user.updated_at, profile.updated_at)
    return UserView(
        id=user.id, email=user.email, name=user.name, roles=list(user.roles), tier=rbac.tier_for(user.roles),
        timezone=user.timezone, skills=list(profile.skills) if profile else [],
        max_open_tickets=profile.max_open_tickets if profile else DEFAULT_MAX_OPEN_TICKETS,
        available=profile.available if profile else True, active=user.active, team_ids=team_ids,
        created_at=user.created_at, updated_at=updated_at,
    )


def normalise_skills(skills: Iterable[str], field: str = "skills") -> list[str]:
    """Stripped, lower-cased, de-duplicated (first occurrence wins), so skills match required_skills."""
    out: list[str] = []
    for i, raw in enumerate(skills):
        skill = raw.strip().lower()
        if not skill:
            raise Invalid(f"{field}.{i}", "must not be blank")
        if len(skill) > MAX_SKILL_LENGTH:
            raise Invalid(f"{field}.{i}", f"must be at most {MAX_SKILL_LENGTH} characters")
        if skill not in out:
            out.append(skill)
    return out


# -- agent profiles ------------------------------------------------------------------------------------

def get_profile(session: Session, *, user_id: int) -> AgentProfile | None:
    return session.get(AgentProfile, user_id)


def ensure_profile(session: Session, *, actor: Actor, user: User, skills: Iterable[str] = (),
                   max_open_tickets: int = DEFAULT_MAX_OPEN_TICKETS, available: bool = True) -> AgentProfile:
    """The user's agent profile, created (and audited) if missing; an existing one is returned unchanged."""
    profile = session.get(AgentProfile, user.id)
    if profile is not None:
        return profile
    if max_open_tickets < 0:
        raise Invalid("max_open_tickets", "must be >= 0")
    now = clock.now()
    profile = AgentProfile(user_id=user.id, skills=normalise_skills(skills),
                           max_open_tickets=max_open_tickets, available=available, created_at=now,
                           updated_at=now)
    session.add(profile)
    session.flush()
    audit.record_create(session, actor, profile)
    return profile


def is_assignable_agent(session: Session, *, user_id: int) -> bool:
    """Active, holding an agent or SME role, and available. Capacity (open tickets vs max_open_tickets) is the
    caller's to weigh: only tickets knows the open count."""
    agent = roster(session).agents.get(user_id)
    return agent is not None and agent.assignable


# -- the roster, cached per process ----------------------------------------------------------------------
#
# Assignment weighs the same people for every ticket: who works which team, their roles, availability,
# skills and capacity. One copy per process in the reference cache (platform/reference_cache.py), renewed
# whenever a user's roles or active flag, a profile, a team or a membership changes anywhere.

@dataclass(frozen=True)
class Agent:
    """A user as assignment weighs them (open work aside: that changes with every ticket)."""

    id: int
    roles: tuple[str, ...]
    tier: str | None
    active: bool
    available: bool
    skills: frozenset[str]
    max_open_tickets: int
    team_ids: tuple[int, ...]

    @property
    def assignable(self) -> bool:
        return self.active and self.available and bool(ASSIGNABLE_ROLES.intersection(self.roles))


@dataclass(frozen=True)
class Roster:
    agents: dict[int, Agent]  # users holding an assignable role or belonging to a team, by id
    members: dict[int, tuple[int, ...]]  # team id -> its members' user ids, ascending
    teams: frozenset[int]  # every team's id

    def holding(self, roles: Iterable[str]) -> list[Agent]:
        """The agents holding any of `roles`, by user id."""
        wanted = set(roles)
        return sorted((a for a in self.agents.values() if wanted.intersection(a.roles)), key=lambda a: a.id)


def roster(session: Session) -> Roster:
    return reference_cache.cached(session, "people", "people.roster", _build_roster)


def team_exists(session: Session, *, team_id: int) -> bool:
    return team_id in roster(session).teams


def _build_roster(session: Session) -> Roster:
    members: dict[int, list[int]] = {team_id: [] for team_id in session.scalars(select(Team.id))}
    teams_of: dict[int, list[int]] = {}
    for user_id, team_id in session.execute(select(TeamMembership.user_id, TeamMembership.team_id)
                                            .order_by(TeamMembership.user_id, TeamMembership.team_id)):
        members.setdefault(team_id, []).append(user_id)
        teams_of.setdefault(user_id, []).append(team_id)
    rows = session.execute(select(User.id, User.roles, User.active, AgentProfile.available, AgentProfile.skills,
                                  AgentProfile.max_open_tickets)
                           .outerjoin(AgentProfile, AgentProfile.user_id == User.id).order_by(User.id))
    agents: dict[int, Agent] = {}
    for uid, roles, active, available, skills, max_open in rows:
        if uid not in teams_of and not ASSIGNABLE_ROLES.intersection(roles or ()):
            continue  # customers, admins, managers: never weighed for work
        agents[uid] = Agent(id=uid, roles=tuple(roles or ()), tier=rbac.tier_for(list(roles or ())),
                            active=bool(active), available=True if available is None else bool(available),
                            skills=frozenset(skills or ()),
                            max_open_tickets=DEFAULT_MAX_OPEN_TICKETS if max_open is None else max_open,
                            team_ids=tuple(teams_of.get(uid, ())))
    return Roster(agents=agents, members={t: tuple(sorted(u)) for t, u in members.items()},
                  teams=frozenset(members))


# -- users ---------------------------------------------------------------------------------------------

def _team_ids(session: Session, user_ids: list[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {uid: [] for uid in user_ids}
    if user_ids:
        rows = session.execute(
            select(TeamMembership.user_id, TeamMembership.team_id)
            .where(TeamMembership.user_id.in_(user_ids)).order_by(TeamMembership.team_id)
        )
        for user_id, team_id in rows:
            out[user_id].append(team_id)
    return out


def _views(session: Session, users: list[User]) -> list[UserView]:
    ids = [u.id for u in users]
    rows = session.scalars(select(AgentProfile).where(AgentProfile.user_id.in_(ids))) if ids else []
    profiles = {p.user_id: p for p in rows}
    teams = _team_ids(session, ids)
    return [_view(u, profiles.get(u.id), teams[u.id]) for u in users]


def get_user(session: Session, *, user_id: int) -> UserView:
    return _views(session, [auth_service.get_user(session, user_id=user_id)])[0]


def _json_list_contains(session: Session, column: Any, value: str) -> ColumnElement[bool]:
    if session.get_bind().dialect.name == "postgresql":
        return type_coerce(column, JSONB).contains([value])
    items = func.json_each(column).table_valued("value")
    return exists(select(1).select_from(items).where(items.c.value == value))


def _tier_filter(session: Session, tier: str) -> ColumnElement[bool]:
    # The tier is the highest agent role held, so L1 means agent_l1 without agent_l2 or agent_l3.
    role = {"L1": "agent_l1", "L2": "agent_l2", "L3": "agent_l3"}[tier]
    higher = [r for r, t in rbac.AGENT_TIERS.items() if t > tier]
    return and_(_json_list_contains(session, User.roles, role),
                *[not_(_json_list_contains(session, User.roles, r)) for r in higher])


def list_users(session: Session, *, role: str | None = None, team_id: int | None = None,
               active: bool | None = None, available: bool | None = None, tier: str | None = None,
               skill: str | None = None, q: str | None = None, limit: int | None = None,
               cursor: str | None = None) -> tuple[list[UserView], str | None]:
    stmt = select(User).outerjoin(AgentProfile, AgentProfile.user_id == User.id)
    if role:
        stmt = stmt.where(_json_list_contains(session, User.roles, role))
    if tier:
        stmt = stmt.where(_tier_filter(session, tier))
    if team_id is not None:
        members = select(TeamMembership.user_id).where(TeamMembership.team_id == team_id)
        stmt = stmt.where(User.id.in_(members))
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if available is not None:
        stmt = stmt.where(func.coalesce(AgentProfile.available, True).is_(available))
    if skill:
        stmt = stmt.where(_json_list_contains(session, AgentProfile.skills, skill.strip().lower()))
    if q:
        stmt = stmt.where(or_(User.name.icontains(q, autoescape=True),
                              User.email.icontains(q, autoescape=True)))
    users, next_cursor = paginate(session, stmt, keys=[SortKey(User.id)], limit=limit, cursor=cursor)
    return _views(session, users), next_cursor


def _check_may_grant(actor: Actor, roles: Iterable[str]) -> None:
    """Nobody hands out more than their own roles allow (a manager cannot mint an admin)."""
    own = rbac.permissions_for(actor.roles)
    if not rbac.permissions_for(roles) <= own:
        raise Forbidden("you cannot grant roles with permissions your own roles do not have")


def create_user(session: Session, *, actor: Actor, email: str, name: str, roles: list[str],
                timezone: str = "UTC", password: str | None = None, skills: Iterable[str] = (),
                max_open_tickets: int = DEFAULT_MAX_OPEN_TICKETS, available: bool = True,
                active: bool = True) -> UserView:
    skills = normalise_skills(skills)
    _check_may_grant(actor, roles)
    user = auth_service.create_user(session, actor=actor, email=email, name=name, roles=roles,
                                    password=password, timezone=timezone, active=active)
    profile = ensure_profile(session, actor=actor, user=user, skills=skills,
                             max_open_tickets=max_open_tickets, available=available)
    return _view(user, profile, [])


def update_user(session: Session, *, actor: Actor, user_id: int, name: str | None = None,
                roles: list[str] | None = None, timezone: str | None = None, password: str | None = None,
                active: bool | None = None, skills: Iterable[str] | None = None,
                max_open_tickets: int | None = None, available: bool | None = None) -> UserView:
    """Change the fields given (None keeps a value). What their open tickets do when they leave (deactivated
    or unavailable) is flows/people.py's step."""
    user = auth_service.get_user(session, user_id=user_id)
    _check_may_grant(actor, user.roles)  # a manager may not edit an admin
    if roles is not None:
        _check_may_grant(actor, roles)
    if skills is not None:
        skills = normalise_skills(skills)
    if max_open_tickets is not None and max_open_tickets < 0:
        raise Invalid("max_open_tickets", "must be >= 0")
    profile = ensure_profile(session, actor=actor, user=user)

    identity_changes = password is not None or any(
        value is not None and value != getattr(user, key)
        for key, value in (("name", name), ("roles", roles), ("timezone", timezone), ("active", active))
    )
    if identity_changes:  # auth's update_user touches updated_at even when nothing else changes
        auth_service.update_user(session, actor=actor, user=user, name=name, roles=roles, timezone=timezone,
                                 password=password, active=active)

    before = audit.snapshot(profile)
    if skills is not None:
        profile.skills = skills
    if max_open_tickets is not None:
        profile.max_open_tickets = max_open_tickets
    if available is not None:
        profile.available = available
    if audit.diff(before, audit.snapshot(profile)):
        profile.updated_at = clock.now()
        audit.record_update(session, actor, profile, before)
    return _views(session, [user])[0]
