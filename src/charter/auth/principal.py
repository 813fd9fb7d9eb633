"""Who is calling: the result of authentication, the input of authorization."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from charter.auth.roles import Permission, Role


@dataclass(frozen=True)
class Principal:
    kind: Literal["user", "token"]
    name: str
    role: Role
    permissions: frozenset[Permission]
    csrf_token: str | None = None
    """Set for console sessions: forms must echo it back (double submit)."""

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        return f"{self.kind}:{self.name}"

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions
