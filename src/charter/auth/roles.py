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
    REQUESTS_READ = "requests:read"  # the privacy requests queue (P-RGT-8)
    REQUESTS_DECIDE = "requests:decide"  # approve, deny, extend, ask for more verification
    HOLDS_MANAGE = "holds:manage"  # place and release legal holds (P-RET-3)
    DATAMAP_READ = "datamap:read"  # check the data map, read what it says the systems hold
    DATAMAP_MANAGE = "datamap:manage"  # change the data map and its connections


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
            Permission.REQUESTS_READ,
            Permission.REQUESTS_DECIDE,
            Permission.HOLDS_MANAGE,
            Permission.DATAMAP_READ,
            Permission.DATAMAP_MANAGE,
        }
    ),
    Role.ANALYST: frozenset(_EVERYONE | {Permission.REQUESTS_READ}),
    Role.ENGINEER: frozenset(
        _EVERYONE
        | {
            Permission.DECISIONS_ASK,
            Permission.CONSENT_WRITE,
            Permission.MAIL_LINKS,
            Permission.DATAMAP_READ,
            Permission.DATAMAP_MANAGE,
        }
    ),
    Role.AUDITOR: frozenset(_EVERYONE | {Permission.AUDIT_READ, Permission.REQUESTS_READ}),
    Role.INVESTIGATOR: frozenset(_EVERYONE),
}


def permissions_of(role: Role) -> frozenset[Permission]:
    return ROLE_PERMISSIONS[role]
