"""Users, tokens and sessions for tests, made through the real service functions."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.audit.models import AuditEntry
from charter.auth import service as auth
from charter.auth.models import User
from charter.auth.roles import Role
from charter.db import Database

PASSWORD = "correct horse battery staple"


def make_user(
    session: Session,
    username: str = "alice",
    role: Role = Role.ADMIN,
    password: str = PASSWORD,
    **extra: object,
) -> User:
    return auth.create_user(session, username=username, role=role, password=password, actor="test", **extra)  # type: ignore[arg-type]


def audit_rows(database: Database) -> list[dict[str, object]]:
    with database.session() as session:
        return [entry.as_dict() for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


def audit_text(database: Database) -> str:
    """Every audit entry as one JSON string, for 'this secret never appears' checks."""
    return json.dumps(audit_rows(database))


def actions(database: Database) -> list[str]:
    return [str(row["action"]) for row in audit_rows(database)]
