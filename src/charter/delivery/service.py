"""Giving the person their copy, after they prove again that the address is theirs (P-RGT-1, P-RGT-5, P-RGT-7).

A completed access or portability request has a sealed package (written by
the runner). The person gets it only after a *fresh* e-mailed code: the
status-page cookie proves they verified once, days ago; handing over
everything Charter holds about someone deserves a new proof of control of
the address, at the moment of handing it over.

1. :func:`send_code` mails a one-time code (the preference center's
   challenges, purpose ``request_copy``: hashed, expiring, single-use, the
   same per-address rate limits) to the address the request was made for —
   never to one typed in. For an id that does not exist, or a request with
   no copy to give, nothing is sent and a challenge id that matches nothing
   is returned: the answer is the same, so it tells nobody which ids exist.
2. :func:`redeem` checks the code. For ``destination: me`` (access, and
   portability to the person) it issues a one-time link
   (:mod:`charter.delivery.links`); for ``destination: third_party`` it
   records the person's confirmation as a pending delivery, which the
   caller sends after the commit (:func:`charter.delivery.push.send`).
3. :func:`staff_copy` gives the privacy office the same zip, checked
   against the run's SHA-256 and audited: the proof of what was disclosed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter import audit
from charter.db import Database
from charter.db.base import utcnow
from charter.delivery import links
from charter.delivery.errors import NoCopy
from charter.delivery.models import PackageDelivery
from charter.execution import claims, package
from charter.execution.models import ExecutionRun
from charter.mail import Mailer
from charter.preferences import challenges
from charter.preferences.errors import ChallengeInvalid, WrongCode
from charter.preferences.models import EmailChallenge
from charter.requests import review, status_access
from charter.requests.kinds import RequestKind, Status
from charter.requests.models import PrivacyRequest
from charter.requests.sealing import details_of, identity_of
from charter.settings import Settings
from charter.subjects.service import Vault

PURPOSE = "request_copy"
KINDS = frozenset({RequestKind.ACCESS.value, RequestKind.PORTABILITY.value})
ME = "me"
THIRD_PARTY = "third_party"


@dataclass(frozen=True)
class Offer:
    """What the status page offers: a download for the person, or sending to ``host``."""

    destination: str
    host: str | None = None


@dataclass(frozen=True)
class Confirmed:
    """The person confirmed sending their copy to the third party; ``delivery`` is to be sent now."""

    delivery: str
    host: str


def host_of(url: str) -> str:
    """``host[:port]`` of a recipient URL: what is kept in the clear and shown (never the path or query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{host}:{parts.port}" if parts.port else host


def _copy_of(session: Session, public_id: str) -> tuple[PrivacyRequest, ExecutionRun] | None:
    """The request and its run when it has a copy to give: access/portability, completed, package recorded."""
    row = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == public_id[:32]))
    if row is None or row.kind not in KINDS or row.status != Status.COMPLETED.value:
        return None
    run = claims.run_of(session, row.id)
    if run is None or not run.package or not run.package_sha256:
        return None
    return row, run


def offer(session: Session, row: PrivacyRequest, *, vault: Vault) -> Offer | None:
    """What the request's status page offers, or None when there is no copy to give."""
    if _copy_of(session, row.public_id) is None:
        return None
    details = details_of(vault, row)
    if details.get("destination") == THIRD_PARTY and details.get("url"):
        return Offer(THIRD_PARTY, host_of(str(details["url"])))
    return Offer(ME)


def send_code(
    database: Database,
    mailer: Mailer,
    public_id: str,
    *,
    vault: Vault,
    settings: Settings,
    now: datetime | None = None,
) -> str:
    """Mail a code that releases the copy of ``public_id``; the challenge id (a dummy when there is none)."""
    now = now or utcnow()
    with database.session() as session:
        found = _copy_of(session, public_id)
        if found is None:
            return secrets.token_hex(16)
        row, _run = found
        what = offer(session, row, vault=vault) or Offer(ME)
        started = challenges.start(
            session, identity_of(vault, row), vault=vault, settings=settings.preferences, now=now, purpose=PURPOSE
        )
        action = (
            f"send a copy of your data to {what.host}, as you asked"
            if what.destination == THIRD_PARTY
            else "download a copy of your data"
        )
        message = status_access.code_message(
            settings,
            started,
            subject=f"Your code to get the copy for privacy request {row.public_id}",
            asked=[
                f"Someone asked to {action}, for your privacy request {row.public_id}.",
                "Before we do, we check again that it is you. Enter this code on the page:",
            ],
            if_not_you="nothing is sent to anyone.",
        )
    return status_access.send_code_message(database, mailer, message, started.challenge_id)


def redeem(
    database: Database,
    public_id: str,
    challenge_id: str,
    code: str,
    *,
    vault: Vault,
    settings: Settings,
    now: datetime | None = None,
) -> links.Issued | Confirmed:
    """Check the code; a one-time link, or a confirmed delivery. A wrong try is counted and committed."""
    now = now or utcnow()
    wrong: WrongCode | None = None
    with database.session() as session:
        try:
            claimed = challenges.claim_code(
                session, challenge_id, code, vault=vault, settings=settings.preferences, now=now, purpose=PURPOSE
            )
        except WrongCode as exc:
            wrong = exc
        else:
            challenge = session.get_one(EmailChallenge, claimed.challenge_id)
            found = _copy_of(session, public_id)
            if found is None or challenge.email_hash != found[0].identity_hash:
                raise ChallengeInvalid(challenges.INVALID)
            return release(session, found[0], vault=vault, settings=settings, now=now)
    assert wrong is not None
    raise wrong


def release(
    session: Session, row: PrivacyRequest, *, vault: Vault, settings: Settings, now: datetime
) -> links.Issued | Confirmed:
    """The requester proved it is them again (a fresh code, or a request's status secret): a one-time link, or a
    confirmed delivery to the third party they named. NoCopy when the request has no copy to give."""
    found = _copy_of(session, row.public_id)
    if found is None:
        raise NoCopy("this request has no copy to give")
    row, run = found
    what = offer(session, row, vault=vault) or Offer(ME)
    if what.destination == ME:
        return links.issue(session, row, vault=vault, settings=settings, now=now)
    delivery = PackageDelivery(
        request_id=row.id,
        recipient_host=(what.host or "")[:260],
        status="pending",
        attempts=0,
        sha256=run.package_sha256 or "",
        created_at=now,
    )
    session.add(delivery)
    session.flush()
    audit.record(
        session,
        actor="requester",
        action="package.delivery_confirmed",
        target=f"request:{row.public_id}",
        data={"delivery": delivery.public_id, "package_sha256": delivery.sha256},
    )
    return Confirmed(delivery.public_id, delivery.recipient_host)


def staff_copy(
    database: Database, public_id: str, *, vault: Vault, settings: Settings, actor: str, via: str
) -> links.Download:
    """The package of a completed access/portability request for the privacy office: checked, audited."""
    with database.session() as session:
        row = review.get(session, public_id)
        if row.kind not in KINDS:
            raise NoCopy(f"request {row.public_id} is a {row.kind} request; only access and portability have a copy")
        run = claims.run_of(session, row.id)
        if row.status != Status.COMPLETED.value or run is None or not run.package_sha256:
            raise NoCopy(f"request {row.public_id} is {row.status}; its copy exists once it is completed")
        if not run.package:
            raise NoCopy(
                f"the copy of request {row.public_id} was deleted after CHARTER_REQUESTS_PACKAGE_DAYS "
                f"({settings.requests.package_days}); its SHA-256 {run.package_sha256} is on the run and in the "
                "audit log"
            )
        opened = package.open_checked(session, settings.home, vault.keys, row.public_id, run.package_sha256)
        audit.record(
            session,
            actor=actor,
            action="package.staff_downloaded",
            target=f"request:{row.public_id}",
            data={"package_sha256": opened.sha256, "via": via},
        )
        return links.Download(links.filename_for(row), opened.sha256, opened.collections, opened.rows, opened.data)
