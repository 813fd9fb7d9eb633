"""What can go wrong proving control of an address or saving choices.

Each is an :class:`~charter.errors.InvalidInput` (or a ``Conflict``) with a
message a visitor can act on; none repeats the address or the code.

::

    InvalidInput
    └── ChallengeError
        ├── ChallengeInvalid   400  forged, unknown or malformed code/link
        │   └── WrongCode      400  a real challenge, the wrong code (tries left in the message)
        ├── ChallengeExpired   410  too old: ask for a new code
        ├── ChallengeUsed      410  already worked once
        └── ChallengeLocked    410  too many wrong codes
    InvalidInput
    └── InvalidChoice          400  a form value that is not one of the offered choices
    Conflict
    └── StatementChanged       409  the statement in force changed while the form was open
"""

from __future__ import annotations

from charter.errors import Conflict, InvalidInput


class ChallengeError(InvalidInput):
    code = "challenge_error"
    title = "The code or link does not work"


class ChallengeInvalid(ChallengeError):
    code = "challenge_invalid"
    title = "The code or link is not valid"


class WrongCode(ChallengeInvalid):
    code = "code_wrong"
    title = "The code is not right"

    def __init__(self, detail: str, *, tries_left: int) -> None:
        super().__init__(detail)
        self.tries_left = tries_left


class ChallengeExpired(ChallengeError):
    code = "challenge_expired"
    status = 410
    title = "The code has expired"


class ChallengeUsed(ChallengeError):
    code = "challenge_used"
    status = 410
    title = "The code was already used"


class ChallengeLocked(ChallengeError):
    code = "challenge_locked"
    status = 410
    title = "Too many wrong codes"


class InvalidChoice(InvalidInput):
    code = "invalid_choice"
    title = "A choice in the form is not valid"


class StatementChanged(Conflict):
    code = "statement_changed"
    title = "The privacy statement changed"
