"""Charter's one error hierarchy.

Every failure a user can cause or meet is one of these. Each error carries a
stable ``code`` (for machines and docs), an HTTP ``status`` and a CLI
``exit_code``; the web layer maps them to problem+json in one handler
(``charter.web.problems``) and the CLI maps them to exits in one place
(``charter.cli.output``). Messages never contain personal data or secrets.
Domain packages may subclass these next to the code that raises them; the
tree below names where.

::

    CharterError                      500  exit 1
    ├── InvalidInput                  400  exit 2
    │   ├── PolicyInvalid             422  exit 2   (carries Problems with line/col)
    │   ├── DatamapInvalid            422  exit 2   (charter.datamap.errors: data-map files, with line/col)
    │   ├── InputTooLarge             413  exit 2
    │   ├── InvalidIdentity                      (charter.subjects.normalize)
    │   ├── UnknownPurpose, UnknownStatement     (charter.ledger.service)
    │   ├── UnknownCookieClass, IncompleteChoice (charter.banner.choices, 422)
    │   ├── InvalidCookieId                      (charter.banner.service, 422)
    │   ├── ChallengeError (400/410), InvalidChoice (charter.preferences.errors: e-mail codes, choices)
    │   └── SealBroken                           (charter.crypto: wrong key or tampered ciphertext)
    ├── NotFound                      404  exit 1
    │   └── LinkUnknown                          (charter.delivery.errors: a download token nobody issued)
    ├── LinkGone (Used/Replaced/Expired) 410     (charter.delivery.errors: a one-time link spent or stale)
    ├── DeliveryFailed                           (charter.delivery.errors: a push to a third party failed)
    ├── Conflict                      409  exit 1
    │   ├── IllegalTransition, HeldByLegalHold, RequestClosed … (charter.requests.errors)
    │   ├── NoCopy, PackageDamaged               (charter.delivery, charter.execution.package)
    │   ├── StoreRefused                         (charter.connectors.base: a data store refused a statement)
    │   ├── SuppressedRecipient                  (charter.suppression.errors: erased, not contacted again)
    │   ├── VersionExists             409
    │   ├── StaleBanner               409   (charter.banner.choices: the banner shown is not in force)
    │   ├── StatementChanged          409   (charter.preferences.errors: the form showed another version)
    │   └── EffectiveDateRegression   409
    ├── NotAuthenticated              401  exit 1
    ├── Forbidden                     403  exit 1
    ├── RateLimited                   429  exit 1
    ├── Misconfigured                 500  exit 1   (stops start-up)
    │   ├── JobsMisconfigured                exit 2   (charter.jobs.base: `charter worker` without celery)
    │   └── SettingInvalid                   exit 2   (a CHARTER_* variable has a value it cannot take)
    └── Unavailable                   503  exit 1   (a database or server is down; the runner retries it)
        └── BrokerUnavailable                exit 2   (charter.jobs.base: the jobs' Redis cannot be reached)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is and what to do about it."""

    path: str
    message: str
    source: str | None = None
    line: int | None = None
    column: int | None = None

    def render(self) -> str:
        """``FILE:LINE:COL: field.path: message``, the shape editors jump to."""
        where = self.source or "<input>"
        if self.line is not None:
            where = f"{where}:{self.line}:{self.column or 1}"
        path = f" {self.path}:" if self.path else ""
        return f"{where}:{path} {self.message}"

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "message": self.message,
            "source": self.source,
            "line": self.line,
            "column": self.column,
        }


class CharterError(Exception):
    code = "internal_error"
    status = 500
    exit_code = 1
    title = "Internal error"

    def __init__(self, detail: str, *, problems: list[Problem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems: list[Problem] = list(problems or [])


class InvalidInput(CharterError):
    code = "invalid_input"
    status = 400
    exit_code = 2
    title = "Invalid input"


class PolicyInvalid(InvalidInput):
    code = "policy_invalid"
    status = 422
    title = "The statement is not valid"


class InputTooLarge(InvalidInput):
    code = "input_too_large"
    status = 413
    title = "Input too large"


class NotFound(CharterError):
    code = "not_found"
    status = 404
    title = "Not found"


class Conflict(CharterError):
    code = "conflict"
    status = 409
    title = "Conflict"


class VersionExists(Conflict):
    code = "version_exists"
    title = "This version is already published"


class EffectiveDateRegression(Conflict):
    code = "effective_date_regression"
    title = "Effective date is earlier than the version in force"


class NotAuthenticated(CharterError):
    code = "not_authenticated"
    status = 401
    title = "Authentication required"


class Forbidden(CharterError):
    code = "forbidden"
    status = 403
    title = "Not allowed"


class RateLimited(CharterError):
    code = "rate_limited"
    status = 429
    title = "Too many requests"


class Misconfigured(CharterError):
    code = "misconfigured"
    title = "Charter is not configured correctly"


class SettingInvalid(Misconfigured):
    """A ``CHARTER_*`` environment variable (or ``.env`` line) holds a value its setting cannot take."""

    code = "setting_invalid"
    title = "A setting has a value it cannot take"
    exit_code = 2  # the operator's environment is wrong: the same exit as bad input


class Unavailable(CharterError):
    code = "unavailable"
    status = 503
    title = "A service Charter depends on is unavailable"


@dataclass
class ProblemList:
    """Collects problems while checking, then raises them all at once."""

    source: str | None = None
    items: list[Problem] = field(default_factory=list)

    def add(self, path: str, message: str) -> None:
        self.items.append(Problem(path=path, message=message, source=self.source))

    def __bool__(self) -> bool:
        return bool(self.items)


_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,79}")


def shown(value: str) -> str:
    """``value`` if it looks like an identifier (a purpose, a list), else a placeholder.

    Error messages name what was wrong, but a field meant for an identifier
    may hold an e-mail address or anything else a caller pasted; that is
    never echoed back.
    """
    return value if _IDENTIFIER.fullmatch(value) else "(not an identifier)"
