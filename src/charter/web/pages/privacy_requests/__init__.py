"""The public privacy-request pages under ``/privacy/requests`` (P-RGT-1..8).

1. ``GET /privacy/requests`` — the form: what to ask for (explained in plain
   words), where the person lives, their e-mail; details for correction and
   portability; optionally an authorized agent with proof (multipart).
2. ``POST /privacy/requests`` — record it and mail the code; the answer is the
   same "check your e-mail" page whether or not anyone holds the address
   (nobody is looked up at intake), then ``GET …/code?request=ID``.
3. ``POST /privacy/requests/verify`` — the code (or the link's token, confirmed
   from the landing page ``GET …/verify?token=…``: a GET never redeems) sets a
   signed cookie scoped to ``/privacy/requests/ID`` and opens the status page.
4. ``GET /privacy/requests/{id}`` — type, dates and status in plain language,
   for the verified requester only; ``POST …/{id}/information`` adds what the
   privacy office asked for.
5. ``…/{id}/copy/code``, ``…/{id}/copy``, ``…/download?token=…`` — a completed
   access or portability request's copy, after a fresh code (:mod:`.copy`).
6. ``POST …/{id}/facts`` — a high-risk request's requester sends facts held
   (postal code, last phone digits, date of birth), compared with the data
   stores; the same neutral answer whatever the outcome (:mod:`.facts`, P-RGT-7).
7. Without an e-mail address (a phone, a loyalty number the data map declares):
   the form takes the identity and facts held at once; the answer is a status
   link shown once, ``GET …/open?token=…`` (:mod:`.secret`, issue 11).

Every form carries a CSRF token (``preference_tokens`` with the
:data:`~charter.web.pages.preference_tokens.REQUESTS` scope); every route is
public and rate-limited per client address; errors are pages with the right
4xx (or 503), never a stack trace.
"""

from __future__ import annotations

from fastapi import APIRouter

from charter.web.pages.privacy_requests import copy, facts, intake, secret, status

router = APIRouter(include_in_schema=False)
# The fixed paths (…/code, …/verify) before the status page's …/{public_id}.
router.include_router(intake.router)
router.include_router(copy.router)  # …/download before the status page's …/{public_id}
router.include_router(secret.router)  # …/open (no e-mail: the status link) before …/{public_id} (issue 11)
router.include_router(status.router)
router.include_router(facts.router)  # POST …/{public_id}/facts: facts held, for high-risk requests (P-RGT-7)
