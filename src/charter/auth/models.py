"""Console users, their API tokens and their console sessions.

Secrets are never stored: passwords as argon2id hashes, token secrets and
session cookies as SHA-256 digests (both are 256-bit random values, so a
fast hash is enough and lookups stay cheap).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Enum, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from charter.auth.roles import Role
from charter.db.base import Base, utcnow

USERNAME_MAX = 64
DISPLAY_NAME_MAX = 200
EMAIL_MAX = 320
TOKEN_NAME_MAX = 100

_ROLE = Enum(
    Role,
    name="role",
    native_enum=False,
    length=32,
    values_callable=lambda roles: [role.value for role in roles],
)


class User(Base):
    """A person who signs in to the console. Disabled, never deleted (the audit log names them)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX), default="")
    email: Mapped[str | None] = mapped_column(String(EMAIL_MAX), default=None)
    role: Mapped[Role] = mapped_column(_ROLE)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(default=None)

    def __repr__(self) -> str:  # no e-mail, no hash
        return f"<User {self.id} {self.username!r} {self.role}>"


class ApiToken(Base):
    """A scoped bearer token for machines: ``cht_<token_id>_<secret>``."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_id: Mapped[str] = mapped_column(String(12), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(TOKEN_NAME_MAX))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)

    owner: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:  # never the hash
        return f"<ApiToken {self.token_id} of user {self.owner_id}>"


class ConsoleSession(Base):
    """A signed-in browser: the cookie's digest, its CSRF token and its lifetime."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)

    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:  # never the digest or the CSRF token
        return f"<ConsoleSession {self.id} of user {self.user_id}>"
