"""The auth operations, in one namespace for the web and CLI layers.

The logic lives in ``users``, ``tokens`` and ``sessions``; this module only
gathers it, so callers write ``from charter.auth import service as auth``.
Every function takes the caller's ``Session`` and never commits; every
change of state is also written to the audit log in the same transaction.
"""

from __future__ import annotations

from charter.auth.sessions import (
    end_session,
    end_user_sessions,
    principal_from_session,
    start_session,
)
from charter.auth.tokens import (
    create_token,
    get_token,
    list_tokens,
    parse_scopes,
    principal_from_token,
    revoke_token,
)
from charter.auth.users import (
    authenticate_password,
    create_user,
    disable_user,
    find_user,
    get_user,
    list_users,
    parse_role,
    set_password,
    set_role,
)

__all__ = [
    "authenticate_password",
    "create_token",
    "create_user",
    "disable_user",
    "end_session",
    "end_user_sessions",
    "find_user",
    "get_token",
    "get_user",
    "list_tokens",
    "list_users",
    "parse_role",
    "parse_scopes",
    "principal_from_session",
    "principal_from_token",
    "revoke_token",
    "set_password",
    "set_role",
    "start_session",
]
