"""Users, API tokens and web sessions: the identity plumbing every domain relies on."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import String, bindparam, cast, func, select, update
from sqlalchemy.orm import Session

from tierline.platform import audit, clock, rbac
from tierline.platform.auth import throttle
from tierline.platform.auth.actor import Actor
from tierline.platform.auth.models import ApiToken, User, WebSession
from tierline.platform.auth.passwords import MIN_LENGTH, hash_password, verify_password
from tierline.platform.db import core_connection
from tierline.platform.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from tierline.platform.pagination import SortKey, paginate
from tierline.platform.schemas import name_or

TOKEN_PREFIX = "tl_"


def _digest(raw: str) -> str:
    # Tokens and session ids carry 256 random bits, so a fast hash is enough; a password hash is not needed.
    return hashlib.sha256(raw.encode()).hexdigest()


def normalise_email(email: str) -> str:
    return email.strip().lower()


def validate_roles(roles: Iterable[str], field: str = "roles") -> list[str]:
    roles = list(dict.fromkeys(roles))
    if not roles:
        raise Invalid(field, "a user needs at least one role")
    for i, role in enumerate(roles):
        if role not in rbac.ROLES:
            raise Invalid(f"{field}.{i}", f"unknown role {role!r}; roles are {', '.join(rbac.ROLES)}")
    return roles


def validate_timezone(name: str, field: str = "timezone") -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(field, f"{name!r} is not an IANA time zone") from exc
    return name


def validate_password(password: str, field: str = "password") -> str:
    if len(password) < MIN_LENGTH:
        raise Invalid(field, f"must be at least {MIN_LENGTH} characters")
    return password


# -- users ---------------------------------------------------------------------------------------------

def get_user(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


def get_user_by_email(session: Session, *, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalise_email(email)))


def create_user(session: Session, *, actor: Actor, email: str, name: str, roles: Iterable[str],
                password: str | None = None, timezone: str = "UTC", active: bool = True) -> User:
    email = normalise_email(email)
    roles = validate_roles(roles)
    validate_timezone(timezone)
    if password is not None:
        validate_password(password)
    if get_user_by_email(session, email=email) is not None:
        raise Conflict(f"a user with email {email} already exists")
    now = clock.now()
    user = User(email=email, name=name_or(name, email), roles=roles, timezone=timezone, active=active,
                password_hash=hash_password(password) if password else None, created_at=now, updated_at=now)
    session.add(user)
    session.flush()
    audit.record_create(session, actor, user)
    return user


ADMIN = "admin"


def _is_active_admin(user: User) -> bool:
    return user.active and ADMIN in (user.roles or [])


def check_not_last_admin(session: Session, *, user: User) -> None:
    """A 409 when `user` is the organisation's last active admin: taking the role away or deactivating them
    would leave nobody able to manage users, roles or tokens. On PostgreSQL the active admins' rows are locked
    (in id order) until the transaction ends, so two admins demoting each other at once cannot both pass:
    the second waits, then finds the first's change."""
    stmt = (select(User.id, User.roles)
            .where(User.active.is_(True), cast(User.roles, String).like(f'%"{ADMIN}"%'))
            .order_by(User.id))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=User)
    others = [uid for uid, roles in session.execute(stmt) if ADMIN in roles and uid != user.id]
    if not others:
        raise Conflict(f"{user.email} is the last active admin: the change would leave nobody able to manage "
                       "users and roles; make another active user an admin first")


def update_user(session: Session, *, actor: Actor, user: User, name: str | None = None,
                roles: list[str] | None = None, timezone: str | None = None, password: str | None = None,
                active: bool | None = None) -> User:
    """Change identity fields; deactivation revokes every token and session of the user at once. No change may
    leave the organisation without an active admin (409)."""
    if _is_active_admin(user) and (active is False or (roles is not None and ADMIN not in roles)):
        check_not_last_admin(session, user=user)
    before = audit.snapshot(user)
    if name is not None:
        user.name = name_or(name, user.email)
    if roles is not None:
        user.roles = validate_roles(roles)
    if timezone is not None:
        user.timezone = validate_timezone(timezone)
    password_changed = False
    if password is not None:
        user.password_hash = hash_password(validate_password(password))
        password_changed = True
    if active is not None and active != user.active:
        if not active and actor.user_id == user.id:
            raise Conflict("you cannot deactivate yourself")
        user.active = active
        user.deactivated_at = None if active else clock.now()
    user.updated_at = clock.now()
    changed = audit.record_update(session, actor, user, before)
    if password_changed:
        audit.record(session, actor, "users.password_change", user, changes={"password": ["***", "***"]})
    if changed or password_changed:
        if not user.active or password_changed:
            revoke_all_credentials(session, actor=actor, user=user, keep_tokens=password_changed and user.active)
    return user


def revoke_all_credentials(session: Session, *, actor: Actor, user: User, keep_tokens: bool = False) -> None:
    now = clock.now()
    if not keep_tokens:
        tokens = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                        ApiToken.revoked_at.is_(None))).all()
        for token in tokens:
            token.revoked_at = now
            audit.record(session, actor, "api_tokens.revoke", token, changes={"revoked_at": [None, now]})
    sessions = session.scalars(select(WebSession).where(WebSession.user_id == user.id,
                                                        WebSession.revoked_at.is_(None))).all()
    for ws in sessions:
        ws.revoked_at = now
        audit.record(session, actor, "web_sessions.revoke", ws, changes={"revoked_at": [None, now]})


def count_users(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(User)) or 0


@lru_cache(maxsize=256)
def _permissions_of(roles: tuple[str, ...], scopes: tuple[str, ...] | None) -> frozenset[str]:
    perms = rbac.permissions_for(roles)
    if scopes is not None and "*" not in scopes:
        perms = perms & frozenset(scopes)
    return perms


def _permissions(roles: Iterable[str], scopes: Iterable[str] | None) -> frozenset[str]:
    """What roles narrowed by scopes allow: a pure function of constants, so one answer per combination is kept
    (the few role sets and token scopes an organisation uses), not recomputed per request."""
    return _permissions_of(tuple(roles), None if scopes is None else tuple(scopes))


def actor_for(user: User, *, via: str, scopes: Iterable[str] | None = None, token_id: int | None = None) -> Actor:
    return Actor(user_id=user.id, label=user.email, roles=tuple(user.roles),
                 permissions=_permissions(user.roles, scopes), via=via, token_id=token_id)


# -- API tokens ----------------------------------------------------------------------------------------
# A token never widens: what it reaches is a subset of what the credential that minted it reached, and it dies
# no later than that credential. Another user's tokens are `tokens:admin` business, and only for a user whose
# roles the caller could grant (the rule PATCH /api/v1/users applies).

TOKENS_ADMIN = "tokens:admin"


def check_token_owner(actor: Actor, owner: User, *, doing: str) -> None:
    """403 unless `actor` may manage `owner`'s tokens: their own, or with `tokens:admin` a user whose roles the
    actor's own roles could grant. `doing` names the act for the message ("mint", "list", "revoke")."""
    if owner.id == actor.user_id:
        return
    if TOKENS_ADMIN not in actor.permissions:
        raise Forbidden(f"to {doing} another user's tokens needs the {TOKENS_ADMIN!r} permission")
    if not rbac.permissions_for(owner.roles) <= rbac.permissions_for(actor.roles):
        raise Forbidden(f"you cannot {doing} the tokens of {owner.email}: their roles grant permissions your own "
                        "roles do not have")


def token_owner(session: Session, *, actor: Actor, user_id: int | None, doing: str) -> User:
    """The user whose tokens the request is about (None: the caller), checked before the user is even looked
    up, so that without `tokens:admin` no answer tells which user ids exist."""
    if user_id is None or user_id == actor.user_id:
        if actor.user_id is None:
            raise Invalid("user_id", "is required for the system actor")
        return get_user(session, user_id=actor.user_id)
    if TOKENS_ADMIN not in actor.permissions:
        raise Forbidden(f"to {doing} another user's tokens needs the {TOKENS_ADMIN!r} permission")
    owner = get_user(session, user_id=user_id)
    check_token_owner(actor, owner, doing=doing)
    return owner


def _token_scopes(actor: Actor, owner: User, scopes: list[str] | None) -> list[str]:
    """The new token's scopes: each one the owner's roles grant (else 422) and the calling credential reaches
    (else 403). Omitted: whatever the caller reaches of the owner's permissions (`*` when that is all of them)."""
    granted = rbac.permissions_for(owner.roles)
    reach = actor.permissions
    if scopes is None:
        if granted <= reach:
            return ["*"]
        scopes = sorted(granted & reach)
        if not scopes:
            raise Forbidden("your credential reaches none of the permissions the token's user has")
        return scopes
    scopes = list(dict.fromkeys(scopes))
    if not scopes:
        raise Invalid("scopes", "give at least one scope, or omit scopes for all the caller may")
    errors: list[tuple[str, str]] = []
    wider: list[str] = []
    for i, scope in enumerate(scopes):
        if scope == "*":
            if not granted <= reach:
                wider.append(f"scopes.{i} ('*': every permission of the user's roles)")
            continue
        if scope not in rbac.PERMISSIONS:
            errors.append((f"scopes.{i}", f"unknown scope {scope!r}"))
        elif scope not in granted:
            errors.append((f"scopes.{i}", f"the user's roles do not grant {scope!r}"))
        elif scope not in reach:
            wider.append(f"scopes.{i} ({scope!r})")
    if errors:
        raise Invalid(errors=errors)
    if wider:
        raise Forbidden("a token can only narrow the credential that mints it; yours does not reach "
                        + ", ".join(wider), errors=[{"field": w.split(" ", 1)[0], "message": "wider than the "
                                                    "calling credential"} for w in wider])
    return scopes


def _token_expiry(actor: Actor, expires_at: datetime | None) -> datetime | None:
    """No later than the calling token's expiry (omitted: that expiry); a session or the system sets no cap."""
    if expires_at is not None and expires_at <= clock.now():
        raise Invalid("expires_at", "must be in the future")
    cap = actor.expires_at
    if cap is None:
        return expires_at
    if expires_at is None:
        return cap
    if expires_at > cap:
        raise Forbidden(f"a token can only narrow the credential that mints it: yours expires at "
                        f"{cap.isoformat()}, so the new token must expire by then",
                        errors=[{"field": "expires_at", "message": "later than the calling token's expiry"}])
    return expires_at


def create_token(session: Session, *, actor: Actor, user: User, name: str, scopes: list[str] | None = None,
                 expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """Mint a token; the raw value is returned once and only its hash is stored. Its scopes and expiry are
    those asked for, each within the calling credential's (omitted: the caller's own)."""
    check_token_owner(actor, user, doing="mint")
    if not user.active:
        raise Conflict("cannot mint a token for a deactivated user")
    scopes = _token_scopes(actor, user, scopes)
    expires_at = _token_expiry(actor, expires_at)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name.strip() or "token", prefix=raw[:10], token_hash=_digest(raw),
                     scopes=scopes, expires_at=expires_at, created_at=clock.now())
    session.add(token)
    session.flush()
    audit.record_create(session, actor, token)  # the event names the actor, its changes the owner (user_id)
    return token, raw


def list_tokens(session: Session, *, actor: Actor, user_id: int | None = None, limit: int | None = None,
                cursor: str | None = None) -> tuple[list[ApiToken], str | None]:
    """A user's tokens (None: the caller's), for the user or (`tokens:admin`) for whoever could grant the
    user's roles."""
    if user_id is None or user_id == actor.user_id:
        if actor.user_id is None:
            raise Invalid("user_id", "is required for the system actor")
        user_id = actor.user_id
    else:
        token_owner(session, actor=actor, user_id=user_id, doing="list")
    stmt = select(ApiToken).where(ApiToken.user_id == user_id)
    return paginate(session, stmt, keys=[SortKey(ApiToken.id)], limit=limit, cursor=cursor)


def revoke_token(session: Session, *, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of one's own tokens, or (`tokens:admin`) one of a user whose roles the caller could grant.
    Without `tokens:admin` another user's token does not exist (404), as it never did for them."""
    token = session.get(ApiToken, token_id)
    if token is None or (token.user_id != actor.user_id and TOKENS_ADMIN not in actor.permissions):
        raise NotFound(f"token {token_id} does not exist")
    check_token_owner(actor, get_user(session, user_id=token.user_id), doing="revoke")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        audit.record(session, actor, "api_tokens.revoke", token,
                     changes={"revoked_at": [None, token.revoked_at], "user_id": [token.user_id, token.user_id]})
    return token


# One Core statement for the door: the token and its user's few columns, joined on the unique token hash. The
# ORM would map two full rows per request only to read six fields of them (about half the cost of the check).
_TOKEN_ACTOR = (
    select(ApiToken.id, ApiToken.scopes, ApiToken.expires_at, ApiToken.revoked_at,
           User.id, User.email, User.roles, User.active)
    .join_from(ApiToken, User, User.id == ApiToken.user_id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def authenticate_token(session: Session, raw: str) -> Actor:
    """The actor of a bearer token, read afresh on every request: a revoked token or a deactivated user is
    refused by the very next request, in every process."""
    row = core_connection(session).execute(_TOKEN_ACTOR, {"token_hash": _digest(raw)}).first()
    if row is None:
        raise Unauthorized("the token is not valid")
    token_id, scopes, expires_at, revoked_at, user_id, email, roles, active = row
    if revoked_at is not None:
        raise Unauthorized("the token has been revoked")
    if expires_at is not None and expires_at <= clock.now():
        raise Unauthorized("the token has expired")
    if not active:
        raise Unauthorized("the token's user is deactivated")
    return Actor(user_id=user_id, label=email, roles=tuple(roles), permissions=_permissions(roles, scopes),
                 via="token", token_id=token_id, expires_at=expires_at)


# -- web sessions --------------------------------------------------------------------------------------

def verify_login(session: Session, *, email: str, password: str, address: str) -> User | None:
    """The user whose password this is, or None (the caller records the failure in a transaction of its own:
    throttle.record_failure). Reads only; a locked-out (email, address) pair is a 429 before the password is
    even checked, the right one included."""
    email = normalise_email(email)
    throttle.check(session, email=email, address=address)
    user = get_user_by_email(session, email=email)
    if not verify_password(password, user.password_hash if user else None) or user is None or not user.active:
        return None
    return user


def start_session(session: Session, *, user: User, address: str,
                  max_age: timedelta) -> tuple[WebSession, str]:
    """A new web session for a user whose password was just verified; the pair's failures are forgotten."""
    throttle.forget(session, email=user.email, address=address)
    raw = secrets.token_urlsafe(32)
    now = clock.now()
    ws = WebSession(user_id=user.id, session_hash=_digest(raw), csrf_token=secrets.token_urlsafe(24),
                    created_at=now, expires_at=now + max_age)
    session.add(ws)
    session.flush()
    audit.record(session, actor_for(user, via="session"), "web_sessions.create", ws,
                 changes={"user_id": [None, user.id], "expires_at": [None, ws.expires_at]})
    return ws, raw


# The session cookie's twin of _TOKEN_ACTOR: the session's id, CSRF token and times, and its user's columns.
_SESSION_ACTOR = (
    select(WebSession.id, WebSession.csrf_token, WebSession.expires_at, WebSession.revoked_at,
           User.id, User.email, User.roles, User.active)
    .join_from(WebSession, User, User.id == WebSession.user_id)
    .where(WebSession.session_hash == bindparam("session_hash"))
)


@dataclass(frozen=True)
class SessionGrant:
    """What the door learns of a web session: its id (for logout) and its CSRF token."""

    id: int
    csrf_token: str


def authenticate_session(session: Session, raw: str) -> tuple[Actor, SessionGrant]:
    row = core_connection(session).execute(_SESSION_ACTOR, {"session_hash": _digest(raw)}).first()
    if row is None:
        raise Unauthorized("the session is not valid")
    session_id, csrf_token, expires_at, revoked_at, user_id, email, roles, active = row
    if revoked_at is not None or expires_at <= clock.now() or not active:
        raise Unauthorized("the session has ended; log in again")
    actor = Actor(user_id=user_id, label=email, roles=tuple(roles), permissions=_permissions(roles, None),
                  via="session")
    return actor, SessionGrant(id=session_id, csrf_token=csrf_token)


def check_csrf(ws: SessionGrant | WebSession, presented: str | None) -> None:
    if not presented or not hmac.compare_digest(presented, ws.csrf_token):
        raise Forbidden("missing or wrong X-CSRF-Token header for a cookie-authenticated change")


def logout(session: Session, *, actor: Actor, session_id: int) -> None:
    session.execute(update(WebSession).where(WebSession.id == session_id, WebSession.revoked_at.is_(None))
                    .values(revoked_at=clock.now()))
    audit.record(session, actor, "web_sessions.revoke", entity_type="web_sessions", entity_id=session_id,
                 changes={"revoked_at": [None, clock.now()]})
