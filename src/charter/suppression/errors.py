"""What the suppression list refuses.

::

    Conflict
    └── SuppressedRecipient   409  marketing mail (a mail link) for someone erased who has not consented anew

Raised only to staff and machines (authenticated callers): a public route
never says whether a person was erased.
"""

from __future__ import annotations

from charter.errors import Conflict


class SuppressedRecipient(Conflict):
    code = "suppressed_recipient"
    title = "This person is on the suppression list"
