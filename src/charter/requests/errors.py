"""What can go wrong with a privacy request; each names what to do, never the requester's data.

::

    Conflict
    ├── IllegalTransition     409  the request is not in a state that allows this step
    ├── HeldByLegalHold       409  a legal hold covers the person: deletion cannot be approved (P-RET-3)
    ├── AlreadyExtended       409  the deadline was extended once already
    └── RequestClosed         409  the request is answered: nothing is due any more
    InvalidInput
    ├── InvalidRequest        422  a field of a request is missing or wrong
    └── GroundNotAllowed      422  the refusal ground is not one the statement allows for this request
"""

from __future__ import annotations

from charter.errors import Conflict, InvalidInput


class IllegalTransition(Conflict):
    code = "illegal_transition"
    title = "The request is not in a state that allows this"


class HeldByLegalHold(Conflict):
    code = "legal_hold"
    title = "A legal hold blocks this"


class AlreadyExtended(Conflict):
    code = "already_extended"
    title = "The deadline was already extended"


class InvalidRequest(InvalidInput):
    code = "invalid_request"
    status = 422
    title = "The request is not valid"


class GroundNotAllowed(InvalidInput):
    code = "ground_not_allowed"
    status = 422
    title = "This ground cannot be given for this request"


class RequestClosed(Conflict):
    code = "request_closed"
    title = "The request is closed"
