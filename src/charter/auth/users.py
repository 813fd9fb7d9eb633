"""Console users: create, change role or password, disable, sign in with a password."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from charter.audit import service as audit
from charter.auth import passwords
from charter.auth.models import DISPLAY_NAME_MAX, EMAIL_MAX, User
from charter.auth.roles import Role
from charter.auth.sessions import end_user_sessions
from charter.db.base import utcnow
from charter.errors import Conflict, InvalidInput, NotFound

USERNAME = re.compile(r"[a-z0-9._-]{3,64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def normalize_username(raw: str) -> str:
    """Usernames are compared in lower case, without surrounding blanks."""
    return raw.strip().lower()


def check_username(raw: str) -> str:
    username = normalize_username(raw)
    if not USERNAME.fullmatch(username):
        raise InvalidInput("a username is 3 to 64 characters of a-z, 0-9, '.', '_' and '-'")
    return username


def parse_role(value: str | Role) -> Role:
    try:
        return Role(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(role.value for role in Role)
        raise InvalidInput(f"unknown role; choose one of: {choices}") from None


def find_user(session: Session, username: str) -> User | None:
    name = normalize_username(username)
    if not USERNAME.fullmatch(name):  # cannot exist; and PostgreSQL refuses NUL bytes in a query
        return None
    return session.scalars(select(User).where(User.username == name)).one_or_none()


def get_user(session: Session, username: str) -> User:
    user = find_user(session, username)
    if user is None:
        raise NotFound("no user has this username")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def _target(user: User | str) -> str:
    return f"user:{user.username if isinstance(user, User) else user}"


def _clean_profile(display_name: str, email: str | None) -> tuple[str, str | None]:
    display_name = display_name.strip()
    if len(display_name) > DISPLAY_NAME_MAX or any(ord(c) < 32 for c in display_name):
        raise InvalidInput(f"a display name is at most {DISPLAY_NAME_MAX} printable characters")
    if email is not None:
        email = email.strip() or None
    if email is not None and (len(email) > EMAIL_MAX or not _EMAIL.fullmatch(email)):
        raise InvalidInput("the e-mail address is not in the form name@example.org")
    return display_name, email


def create_user(
    session: Session,
    *,
    username: str,
    role: str | Role,
    password: str,
    display_name: str = "",
    email: str | None = None,
    actor: str,
) -> User:
    """Add a user. Weak passwords and bad names are InvalidInput; a taken username is Conflict."""
    name = check_username(username)
    parsed = parse_role(role)
    passwords.check_policy(password, username=name)
    display_name, email = _clean_profile(display_name, email)
    if find_user(session, name) is not None:
        raise Conflict("a user with this username already exists")
    user = User(
        username=name,
        display_name=display_name,
        email=email,
        role=parsed,
        password_hash=passwords.hash_password(password),
        active=True,
        created_at=utcnow(),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # created by someone else since the check above
        raise Conflict("a user with this username already exists") from exc
    audit.record(session, actor=actor, action="user.created", target=_target(user), data={"role": parsed.value})
    return user


def _active_admins(session: Session) -> int:
    query = select(func.count()).select_from(User).where(User.role == Role.ADMIN, User.active)
    return int(session.scalar(query) or 0)


def _guard_last_admin(session: Session, user: User) -> None:
    if user.active and user.role is Role.ADMIN and _active_admins(session) <= 1:
        raise Conflict("this is the last active admin; make another admin first")


def set_role(session: Session, *, username: str, role: str | Role, actor: str) -> User:
    """Change a user's role; their sessions and tokens follow at the next request."""
    parsed = parse_role(role)
    user = get_user(session, username)
    if parsed is user.role:
        return user
    if parsed is not Role.ADMIN:
        _guard_last_admin(session, user)
    previous = user.role
    user.role = parsed
    audit.record(
        session,
        actor=actor,
        action="user.role_changed",
        target=_target(user),
        data={"from": previous.value, "to": parsed.value},
    )
    return user


def set_password(session: Session, *, username: str, password: str, actor: str) -> User:
    """Replace a user's password and sign them out everywhere."""
    user = get_user(session, username)
    passwords.check_policy(password, username=user.username)
    user.password_hash = passwords.hash_password(password)
    ended = end_user_sessions(session, user)
    audit.record(
        session, actor=actor, action="user.password_changed", target=_target(user), data={"sessions_ended": ended}
    )
    return user


def disable_user(session: Session, *, username: str, actor: str) -> User:
    """Stop a user signing in; ends their sessions; their tokens stop working. Idempotent."""
    user = get_user(session, username)
    if not user.active:
        return user
    _guard_last_admin(session, user)
    user.active = False
    ended = end_user_sessions(session, user)
    audit.record(session, actor=actor, action="user.disabled", target=_target(user), data={"sessions_ended": ended})
    return user


def authenticate_password(session: Session, username: str, password: str) -> User | None:
    """The user if the password is right and the user active, else None; audits both outcomes.

    An unknown username costs one dummy verification, so timing does not
    tell which usernames exist. Failed attempts are recorded against
    ``user:<username>`` only when that user exists, else ``user:?``.
    """
    user = find_user(session, username)
    if user is None:
        passwords.burn(password)
        audit.record(
            session, actor="anonymous", action="auth.login_failed", target="user:?", data={"reason": "unknown_user"}
        )
        return None
    if not passwords.verify(user.password_hash, password):
        reason = "wrong_password"
    elif not user.active:
        reason = "disabled"
    else:
        reason = ""
    if reason:
        audit.record(
            session, actor="anonymous", action="auth.login_failed", target=_target(user), data={"reason": reason}
        )
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    audit.record(session, actor=_target(user), action="auth.login", target=_target(user))
    return user
