"""Changes to people and teams that reach into other domains: work returns to its queues when its owner leaves,
and a team's kind may change only as far as the components hanging on it allow."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from tierline.components import service as components_service
from tierline.people import service as people_service
from tierline.people import teams
from tierline.people.models import Team
from tierline.platform.auth import service as auth_service
from tierline.platform.auth.actor import Actor
from tierline.tickets import service as tickets_service


def update_user(session: Session, *, actor: Actor, user_id: int, **changes: Any) -> people_service.UserView:
    """`people.service.update_user`; deactivating a user or marking them unavailable returns their open tickets
    to their queues, in this transaction."""
    user = auth_service.get_user(session, user_id=user_id)
    profile = people_service.ensure_profile(session, actor=actor, user=user)
    was_there = user.active and profile.available
    view = people_service.update_user(session, actor=actor, user_id=user_id, **changes)
    if was_there and not (user.active and profile.available):
        tickets_service.return_open_tickets_to_queue(session, actor=actor, user_id=user.id)
    return view


def update_team(session: Session, *, actor: Actor, team_id: int, kind: str | None = None,
                **changes: Any) -> Team:
    """`people.teams.update_team`, after the components agree to a change of kind."""
    if kind is not None and kind != teams.get_team(session, team_id=team_id).kind:
        components_service.check_team_kind(session, team_id=team_id, kind=kind)
    return teams.update_team(session, actor=actor, team_id=team_id, kind=kind, **changes)
