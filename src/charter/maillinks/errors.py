"""What can go wrong with a mail link. None of these says anything about the person.

::

    NotFound
    └── LinkNotFound         404  never minted, forged or malformed (one message for all three)
    Conflict
    └── LinkAlreadyUsed      409  the unsubscribe link was used before; nothing more is recorded
    CharterError
    └── LinkExpired          410  the link is older than CHARTER_MAIL_LINKS_VALID_DAYS
    InvalidInput
    └── NotAMailingList      422  the list is a purpose of the statement, but not a marketing one
"""

from __future__ import annotations

from datetime import datetime

from charter.errors import CharterError, Conflict, InvalidInput, NotFound


class LinkNotFound(NotFound):
    code = "mail_link_not_found"
    title = "This link is not valid"

    def __init__(self) -> None:
        super().__init__("this link is not valid; check that it was copied whole")


class LinkAlreadyUsed(Conflict):
    code = "mail_link_used"
    title = "This unsubscribe link was already used"

    def __init__(self, used_at: datetime) -> None:
        super().__init__(
            f"this link was already used on {used_at.date().isoformat()}; the address was unsubscribed then "
            "and nothing more was recorded"
        )
        self.used_at = used_at


class LinkExpired(CharterError):
    code = "mail_link_expired"
    status = 410
    title = "This link has expired"

    def __init__(self, expires_at: datetime) -> None:
        super().__init__(
            f"this link expired on {expires_at.date().isoformat()}; use the unsubscribe link of a more recent "
            "message, or write to the sender"
        )
        self.expires_at = expires_at


class NotAMailingList(InvalidInput):
    code = "not_a_mailing_list"
    status = 422
    title = "The list is not a marketing purpose"
