"""What a store's error means for a run: retry it (no answer, a lost connection, a deadlock), or fail at once.

A refused login, a missing database, table or column will fail the same way however often it is tried
(issue 11, finding 5): those are permanent, named with the fix; anything else the store *answered* with is a
refusal (``StoreRefused``); no answer at all is ``Unavailable``, tried again within the retry window.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError


def retryable(exc: DBAPIError) -> bool:
    """No answer, a lost connection, a deadlock, a serialization failure, a cancelled statement: all the
    drivers report these as ``OperationalError`` (or ``InterfaceError`` for a closed connection) — and a few
    errors trying again cannot fix, which :func:`permanent` picks out first."""
    return isinstance(exc, (OperationalError, InterfaceError)) and permanent(exc.orig or exc) is None


_LOGIN = "the store refused the login (wrong user or password): fix the system's URL, then retry the request"
_NO_DATABASE = "the database does not exist: fix the system's URL, then retry the request"
_NO_TABLE = "a table the data map names does not exist: fix the data map or the store, then retry the request"
_NO_COLUMN = "a column the data map names does not exist: fix the data map or the store, then retry the request"
#: Errors trying again cannot fix, though drivers report them as OperationalError: PostgreSQL SQLSTATEs,
#: MariaDB/MySQL error numbers.
_PERMANENT = {
    "28P01": _LOGIN,  # invalid_password
    "28000": _LOGIN,  # invalid_authorization_specification (no such role, no pg_hba entry)
    "1045": _LOGIN,  # ER_ACCESS_DENIED_ERROR
    "1044": _LOGIN,  # ER_DBACCESS_DENIED_ERROR
    "3D000": _NO_DATABASE,  # invalid_catalog_name
    "1049": _NO_DATABASE,  # ER_BAD_DB_ERROR
    "42P01": _NO_TABLE,  # undefined_table
    "1146": _NO_TABLE,  # ER_NO_SUCH_TABLE
    "42703": _NO_COLUMN,  # undefined_column
    "1054": _NO_COLUMN,  # ER_BAD_FIELD_ERROR
}
#: libpq refuses a login before there is a SQLSTATE to report (psycopg's ``sqlstate`` is None), and SQLite
#: has none: their messages, in order.
_PERMANENT_TEXT = (
    (re.compile(r"password authentication failed"), "28P01"),
    (re.compile(r'role ".*" does not exist|no pg_hba\.conf entry'), "28000"),
    (re.compile(r'database ".*" does not exist'), "3D000"),
    (re.compile(r"^no such table"), "42P01"),
    (re.compile(r"^no such column"), "42703"),
)


def permanent(error: BaseException) -> tuple[str, str] | None:
    """(code, what to do) when the store's answer means trying again cannot help; None otherwise."""
    codes = [getattr(error, "sqlstate", None)]
    if getattr(error, "args", None) and isinstance(error.args[0], int):
        codes.insert(0, str(error.args[0]))  # PyMySQL: the server's error number says more than its SQLSTATE
    for code in codes:
        if code in _PERMANENT:
            return code, _PERMANENT[code]
    text = str(error)
    for pattern, code in _PERMANENT_TEXT:
        if pattern.search(text):
            return code, _PERMANENT[code]
    return None


def sqlstate(error: BaseException) -> str | None:
    state = getattr(error, "sqlstate", None)  # psycopg
    if state is None and getattr(error, "args", None):
        first = error.args[0]
        state = str(first) if isinstance(first, int) else None  # PyMySQL: the server's error number
    return state
