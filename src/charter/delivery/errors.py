"""What can go wrong when a person fetches their copy or Charter sends it; no message names a person.

::

    NotFound
    └── LinkUnknown          404  no such download link (the same body shape as every other answer)
    CharterError
    ├── LinkGone             410  the link was used, replaced or has expired: ask for a new one
    │   ├── LinkUsed
    │   ├── LinkReplaced
    │   └── LinkExpired
    └── DeliveryFailed       502  the recipient could not be reached, refused the package or its certificate
    Conflict
    └── NoCopy               409  the request has no package to give (not access/portability, not completed)
    InvalidRequest (charter.requests.errors)
    └── RecipientRefused     422  (charter.delivery.addresses) the third party's address is not allowed

``PackageDamaged`` (409, a missing or altered package file) lives next to the
reader, in :mod:`charter.execution.package`.
"""

from __future__ import annotations

from charter.errors import CharterError, Conflict, NotFound

ASK_AGAIN = "ask for a new one from your request's page"


class LinkUnknown(NotFound):
    code = "link_unknown"
    title = "This download link is not valid"


class LinkGone(CharterError):
    code = "link_gone"
    status = 410
    exit_code = 1
    title = "This download link no longer works"


class LinkUsed(LinkGone):
    code = "link_used"
    title = "This download link was already used"


class LinkReplaced(LinkGone):
    code = "link_replaced"
    title = "This download link was replaced by a newer one"


class LinkExpired(LinkGone):
    code = "link_expired"
    title = "This download link has expired"


class NoCopy(Conflict):
    code = "no_copy"
    title = "This request has no copy of data to give"


class DeliveryFailed(CharterError):
    code = "delivery_failed"
    status = 502
    title = "The copy could not be sent to the third party"
