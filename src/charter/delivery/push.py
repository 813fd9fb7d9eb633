"""Sending a portability package over HTTPS to the third party the person named (P-RGT-5).

:func:`retry` lets the privacy office send a failed delivery once more (audited).

:func:`send` takes a confirmed delivery (``pending``), claims it with a
conditional update (two senders cannot both send it), and POSTs the zip:

* ``Content-Type: application/zip``, ``Content-Digest: sha-256=:…:`` (RFC
  9530) and ``X-Charter-Request``: the recipient can check what it got;
* the URL comes from the request's sealed details; its host is resolved and
  every address checked (:mod:`charter.delivery.addresses`), then the
  connection goes to a checked address while TLS verifies the certificate
  for the host name (``CHARTER_DELIVERY_CA_BUNDLE`` or the system's CAs);
* redirects are not followed (a 3xx fails the delivery): a redirect could
  lead anywhere, including into the organization's own network;
* a 5xx answer or a connection that fails is tried again with exponential
  backoff (``CHARTER_DELIVERY_RETRY_BASE`` × 2ⁿ, capped by ``…_RETRY_MAX``,
  jitter in the upper half) up to ``CHARTER_DELIVERY_MAX_ATTEMPTS``; a 4xx, a
  certificate that does not verify or an address that is refused fail at once.

The standard library's ``http.client`` is used rather than an HTTP client
library: Charter has none among its runtime dependencies, and ``http.client``
lets the connection go to the address that was checked (see above) while
still verifying the certificate for the host name, and never follows
redirects on its own. The outcome (status, attempts, HTTP status, a reason
without the URL) is stored on the delivery and audited.
"""

from __future__ import annotations

import base64
import http.client
import random
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from charter import audit
from charter.db import Database
from charter.db.base import rowcount, utcnow
from charter.delivery import addresses
from charter.delivery.errors import DeliveryFailed, NoCopy
from charter.delivery.models import PackageDelivery
from charter.errors import CharterError, NotFound
from charter.execution import package
from charter.execution.models import ExecutionRun
from charter.requests.models import PrivacyRequest
from charter.requests.sealing import details_of
from charter.settings import DeliverySettings, Settings
from charter.subjects.service import Vault

ACTOR = "delivery"
PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
USER_AGENT = "Charter-Delivery/1"


@dataclass(frozen=True)
class Outcome:
    delivery: str
    status: str
    attempts: int
    http_status: int | None
    error: str | None

    def as_dict(self) -> dict[str, object]:
        return {
            "delivery": self.delivery,
            "status": self.status,
            "attempts": self.attempts,
            "http_status": self.http_status,
            "error": self.error,
        }


class _Retry(Exception):
    """One try failed in a way worth another (5xx, connection): the reason, without the URL."""

    def __init__(self, reason: str, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status


class _Final(Exception):
    def __init__(self, reason: str, http_status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.http_status = http_status


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a checked IP address, the certificate verified for the host name (SNI and Host as usual)."""

    def __init__(self, host: str, port: int, *, address: str, context: ssl.SSLContext, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            raw.close()
            raise


def tls_context(settings: DeliverySettings) -> ssl.SSLContext:
    cafile = str(settings.ca_bundle) if settings.ca_bundle else None
    context = ssl.create_default_context(cafile=cafile)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _post_once(
    url: str, body: bytes, headers: dict[str, str], settings: DeliverySettings, resolver: addresses.Resolver
) -> int:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or 443
    found = addresses.public_addresses(host, port, resolver, allow_private=settings.allow_private_recipients)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection = _PinnedHTTPS(host, port, address=found[0], context=tls_context(settings), timeout=settings.timeout)
    try:
        connection.request("POST", target, body=body, headers=headers)
        response = connection.getresponse()
        response.read(65_536)  # what the recipient wrote back is not kept
        return response.status
    except ssl.SSLCertVerificationError as exc:
        raise _Final(f"the recipient's certificate could not be verified ({exc.verify_message})") from None
    except ssl.SSLError as exc:
        raise _Final(f"the TLS handshake with the recipient failed ({exc.reason})") from None
    except (OSError, http.client.HTTPException) as exc:
        raise _Retry(f"the recipient could not be reached ({type(exc).__name__})") from None
    finally:
        connection.close()


def _post(
    url: str,
    body: bytes,
    headers: dict[str, str],
    settings: DeliverySettings,
    *,
    resolver: addresses.Resolver,
    sleep: Callable[[float], None],
    tried: Callable[[int, int | None, str | None], None],
) -> int:
    """POST until a final answer; ``tried(n, http_status, reason)`` after each try. The final HTTP status."""
    for attempt in range(1, settings.max_attempts + 1):
        status: int | None = None
        try:
            status = _post_once(url, body, headers, settings, resolver)
        except _Retry as exc:
            reason = exc.reason
        except _Final as exc:
            tried(attempt, exc.http_status, exc.reason)
            raise
        else:
            if 200 <= status <= 299:
                tried(attempt, status, None)
                return status
            if 300 <= status <= 399:
                final = f"the recipient answered with a redirect (HTTP {status}); Charter does not follow redirects"
            elif not 500 <= status <= 599:
                final = f"the recipient refused the package (HTTP {status})"
            else:
                final = ""
            if final:
                tried(attempt, status, final)
                raise _Final(final, status)
            reason = f"the recipient answered HTTP {status}"
        tried(attempt, status, reason)
        if attempt == settings.max_attempts:
            raise _Final(f"{reason}; gave up after {attempt} tries", status)
        delay = min(settings.retry_max, settings.retry_base * 2 ** (attempt - 1))
        sleep(delay * (0.5 + random.random() / 2))  # noqa: S311 - jitter, not a secret
    raise AssertionError("unreachable")  # pragma: no cover


def send(
    database: Database,
    delivery_id: str,
    *,
    vault: Vault,
    settings: Settings,
    resolver: addresses.Resolver = addresses.system_resolver,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], datetime] = utcnow,
) -> Outcome:
    """Send a pending delivery; its outcome (also stored and audited). Never raises for the recipient's failures."""
    with database.session() as session:
        delivery = session.scalar(select(PackageDelivery).where(PackageDelivery.public_id == delivery_id[:32]))
        if delivery is None:
            raise NotFound("no delivery has this id")
        if not _move(session, delivery.id, PENDING, status=SENDING):
            session.refresh(delivery)
            return _outcome(delivery)
        row = session.get_one(PrivacyRequest, delivery.request_id)
        public_id, internal_id, sha256 = row.public_id, delivery.id, delivery.sha256
        url = str(details_of(vault, row).get("url") or "")
    last: dict[str, object] = {"attempts": 0, "http_status": None, "error": None}

    def tried(attempt: int, http_status: int | None, reason: str | None) -> None:
        last.update(attempts=attempt, http_status=http_status, error=reason)
        with database.session() as session:
            session.execute(
                update(PackageDelivery)
                .where(PackageDelivery.id == internal_id)
                .values(attempts=attempt, http_status=http_status, error=reason)
            )

    status, error = SENT, None
    try:
        with database.session() as session:
            opened = package.open_checked(session, settings.home, vault.keys, public_id, sha256)
        addresses.check_url(url, allow_private=settings.delivery.allow_private_recipients)
        digest = base64.b64encode(bytes.fromhex(opened.sha256)).decode()
        headers = {
            "Content-Type": "application/zip",
            "Content-Digest": f"sha-256=:{digest}:",
            "Content-Disposition": f'attachment; filename="charter-portability-{public_id}.zip"',
            "X-Charter-Request": public_id,
            "User-Agent": USER_AGENT,
        }
        _post(url, opened.data, headers, settings.delivery, resolver=resolver, sleep=sleep, tried=tried)
    except _Final as exc:
        status, error = FAILED, exc.reason
    except CharterError as exc:  # the package is damaged or gone, the address is refused
        status, error = FAILED, exc.detail
    with database.session() as session:
        values: dict[str, object] = {"status": status, "error": error[:300] if error else None}
        values["http_status"] = last["http_status"]
        if status == SENT:
            values["sent_at"] = now()
        session.execute(update(PackageDelivery).where(PackageDelivery.id == internal_id).values(**values))
        audit.record(
            session,
            actor=ACTOR,
            action="package.delivered" if status == SENT else "package.delivery_failed",
            target=f"request:{public_id}",
            data={
                "delivery": delivery_id,
                "attempts": last["attempts"],
                "http_status": last["http_status"],
                "package_sha256": sha256,
            },
        )
        delivery = session.get_one(PackageDelivery, internal_id, populate_existing=True)
        return _outcome(delivery)


def retry(database: Database, request_id: str, *, actor: str, via: str) -> str:
    """Make the request's last failed delivery pending again, for the privacy office to send it once more (the
    recipient was down past the last try, its certificate is fixed); its id. Audited. NoCopy when there is no
    failed delivery to retry, or the copy was deleted since (charter.delivery.retention)."""
    with database.session() as session:
        row = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == request_id[:32]))
        if row is None:
            raise NotFound("no request has this id; `charter requests list` shows them")
        failed = session.scalar(
            select(PackageDelivery)
            .where(PackageDelivery.request_id == row.id, PackageDelivery.status == FAILED)
            .order_by(PackageDelivery.id.desc())
            .limit(1)
        )
        if failed is None:
            raise NoCopy(f"request {row.public_id} has no failed delivery to send again")
        run = session.scalar(select(ExecutionRun).where(ExecutionRun.request_id == row.id))
        if run is None or not run.package:
            raise NoCopy(f"the copy of request {row.public_id} no longer exists; a new request makes a new one")
        if not _move(session, failed.id, FAILED, status=PENDING, attempts=0, http_status=None, error=None):
            raise NoCopy(f"the delivery of request {row.public_id} is being sent again already")
        audit.record(
            session,
            actor=actor,
            action="package.delivery_retried",
            target=f"request:{row.public_id}",
            data={"delivery": failed.public_id, "via": via, "previous_error": (failed.error or "")[:200]},
        )
        return failed.public_id


def _move(session: Session, delivery_id: int, current: str, **values: object) -> bool:
    """Change the delivery only if it is still ``current`` (of two callers at once, one wins)."""
    changed = session.execute(
        update(PackageDelivery)
        .where(PackageDelivery.id == delivery_id, PackageDelivery.status == current)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(changed) == 1


def _outcome(delivery: PackageDelivery) -> Outcome:
    return Outcome(delivery.public_id, delivery.status, delivery.attempts, delivery.http_status, delivery.error)


def require_sent(outcome: Outcome) -> Outcome:
    """``outcome`` if it was sent, else :class:`DeliveryFailed` with its reason (for callers that must fail)."""
    if outcome.status != SENT:
        raise DeliveryFailed(f"delivery {outcome.delivery} {outcome.status}: {outcome.error or 'not sent yet'}")
    return outcome
