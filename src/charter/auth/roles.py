"""Roles and what each may do. The single table of authority in Charter."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    PRIVACY_OFFICER = "privacy_officer"
    ANALYST = "analyst"
    ENGINEER = "engineer"
    AUDITOR = "auditor"
    INVESTIGATOR = "investigator"


class Permission(StrEnum):
    CONSOLE_VIEW = "console:view"
    POLICY_READ = "policy:read"
    POLICY_PUBLISH = "policy:publish"
    USERS_MANAGE = "users:manage"
    TOKENS_MANAGE = "tokens:manage"
    AUDIT_READ = "audit:read"
    DECISIONS_ASK = "decisions:ask"
    CONSENT_WRITE = "consent:write"
    SUBJECTS_READ = "subjects:read"
    MAIL_LINKS = "mail:links"  # mint unsubscribe and open-pixel links for outgoing e-mail (P-TRK-3)


_EVERYONE = {Permission.CONSOLE_VIEW, Permission.POLICY_READ}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.PRIVACY_OFFICER: frozenset(
        _EVERYONE
        | {
            Permission.POLICY_PUBLISH,
            Permission.AUDIT_READ,
            Permission.DECISIONS_ASK,
            Permission.CONSENT_WRITE,
            Permission.SUBJECTS_READ,
            Permission.MAIL_LINKS,
        }
    ),
    Role.ANALYST: frozenset(_EVERYONE),
    Role.ENGINEER: frozenset(_EVERYONE | {Permission.DECISIONS_ASK, Permission.CONSENT_WRITE, Permission.MAIL_LINKS}),
    Role.AUDITOR: frozenset(_EVERYONE | {Permission.AUDIT_READ}),
    Role.INVESTIGATOR: frozenset(_EVERYONE),
}


def permissions_of(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]
