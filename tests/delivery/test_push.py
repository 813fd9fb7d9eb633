"""Sending a portability copy to the third party the person named, over real HTTPS (P-RGT-5, P-RGT-7, P-SEC-1).

The recipient is a threaded ``http.server`` behind TLS on 127.0.0.1 with a certificate signed by a CA made
in the test (``CHARTER_DELIVERY_CA_BUNDLE``); ``CHARTER_DELIVERY_ALLOW_PRIVATE_RECIPIENTS`` lets it be local.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from charter.audit.models import AuditEntry
from charter.cli.main import app
from charter.datamap.model import DataMap
from charter.db import Database
from charter.db.base import utcnow
from charter.delivery import push, retention
from charter.delivery import service as delivery
from charter.delivery.addresses import RecipientRefused
from charter.delivery.errors import DeliveryFailed, NoCopy
from charter.delivery.models import PackageDelivery
from charter.errors import NotFound
from charter.requests import intake
from charter.requests.kinds import RequestKind
from charter.settings import DeliverySettings, Settings
from charter.subjects.service import Vault
from tests.cli_runner import invoker
from tests.delivery.conftest import Recipient, completed, make_authority
from tests.execution.conftest import read_package
from tests.requests.conftest import Recorder


def _confirmed(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, recipient: Recipient
) -> tuple[str, delivery.Confirmed]:
    public_id = completed(
        database, config, vault, datamap, RequestKind.PORTABILITY, destination="third_party", url=recipient.url()
    )
    mailer = Recorder()
    challenge = delivery.send_code(database, mailer, public_id, vault=vault, settings=config)
    assert f"127.0.0.1:{recipient.port}" in mailer.texts()[0]  # the e-mail says where it goes
    given = delivery.redeem(database, public_id, challenge, mailer.code(), vault=vault, settings=config)
    assert isinstance(given, delivery.Confirmed)
    return public_id, given


def _send(database: Database, config: Settings, vault: Vault, delivery_id: str) -> push.Outcome:
    waits: list[float] = []
    outcome = push.send(database, delivery_id, vault=vault, settings=config, sleep=waits.append)
    assert all(0 < w <= config.delivery.retry_max for w in waits)
    return outcome


def test_the_copy_is_posted_to_the_named_third_party_p_rgt_5(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, home: Path, recipient: Recipient
) -> None:
    """P-RGT-5: after the person's fresh code, the zip goes over HTTPS to the URL they named, checkable."""
    public_id, given = _confirmed(database, config, vault, datamap, recipient)
    assert given.host == f"127.0.0.1:{recipient.port}"
    outcome = _send(database, config, vault, given.delivery)
    assert (outcome.status, outcome.attempts, outcome.http_status, outcome.error) == ("sent", 1, 200, None)

    [got] = recipient.received
    assert got["path"] == "/inbox/charter?account=42"
    assert got["headers"]["Content-Type"] == "application/zip"
    assert got["headers"]["X-Charter-Request"] == public_id
    digest = hashlib.sha256(got["body"]).digest()
    assert got["headers"]["Content-Digest"] == f"sha-256=:{base64.b64encode(digest).decode()}:"
    with database.session() as session:
        run_sha = session.scalars(select(PackageDelivery)).one().sha256
    assert digest.hex() == run_sha
    assert got["body"] == read_package(database, home, vault, public_id)

    with database.session() as session:
        row = session.scalars(select(PackageDelivery)).one()
        assert row.recipient_host == f"127.0.0.1:{recipient.port}" and row.sent_at is not None
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("package.%"))).all()
    assert [e.action for e in entries] == ["package.delivery_confirmed", "package.delivered"]
    assert "account=42" not in json.dumps([[e.target, e.data] for e in entries])  # the URL's query is not kept

    again = _send(database, config, vault, given.delivery)  # a second sender finds it sent: nothing is sent twice
    assert again.status == "sent" and len(recipient.received) == 1


def test_a_5xx_is_tried_again_with_backoff(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, recipient: Recipient
) -> None:
    _public_id, given = _confirmed(database, config, vault, datamap, recipient)
    recipient.answers = [500]
    outcome = _send(database, config, vault, given.delivery)
    assert (outcome.status, outcome.attempts, outcome.http_status) == ("sent", 2, 200)
    assert len(recipient.received) == 2


def test_a_recipient_that_keeps_failing_fails_the_delivery_clearly(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, recipient: Recipient
) -> None:
    _public_id, given = _confirmed(database, config, vault, datamap, recipient)
    recipient.answers = [503, 502, 500]
    outcome = _send(database, config, vault, given.delivery)
    assert outcome.status == "failed" and outcome.attempts == config.delivery.max_attempts == 3
    assert outcome.error == "the recipient answered HTTP 500; gave up after 3 tries"
    with pytest.raises(DeliveryFailed, match="gave up") as failed:
        push.require_sent(outcome)
    assert failed.value.status == 502
    with database.session() as session:
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.action == "package.delivery_failed")).one()


def test_a_certificate_that_does_not_verify_is_refused_at_once(
    database: Database,
    config: Settings,
    vault: Vault,
    datamap: DataMap,
    recipient: Recipient,
    tmp_path: Path,
) -> None:
    """P-SEC-1: the person's data never goes to a server whose certificate does not chain to a trusted CA."""
    _public_id, given = _confirmed(database, config, vault, datamap, recipient)
    stranger = make_authority(tmp_path / "other-ca")
    strict = config.model_copy(update={"delivery": config.delivery.model_copy(update={"ca_bundle": stranger.ca_pem})})
    outcome = _send(database, strict, vault, given.delivery)
    assert outcome.status == "failed" and outcome.attempts == 1
    assert outcome.error is not None and "certificate could not be verified" in outcome.error
    assert recipient.received == []


@pytest.mark.parametrize(("answer", "says"), [(302, "redirect"), (403, "refused the package (HTTP 403)")])
def test_redirects_are_not_followed_and_4xx_is_final(
    database: Database,
    config: Settings,
    vault: Vault,
    datamap: DataMap,
    recipient: Recipient,
    answer: int,
    says: str,
) -> None:
    _public_id, given = _confirmed(database, config, vault, datamap, recipient)
    recipient.answers = [answer]
    outcome = _send(database, config, vault, given.delivery)
    assert outcome.status == "failed" and outcome.attempts == 1 and outcome.http_status == answer
    assert outcome.error is not None and says in outcome.error
    assert len(recipient.received) == 1


def test_a_local_recipient_is_refused_when_the_setting_is_off(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, recipient: Recipient
) -> None:
    """The SSRF guard holds at sending time too: the address is checked again (and resolved) before connecting."""
    _public_id, given = _confirmed(database, config, vault, datamap, recipient)
    guarded = config.model_copy(update={"delivery": DeliverySettings(ca_bundle=config.delivery.ca_bundle)})
    outcome = _send(database, guarded, vault, given.delivery)
    assert outcome.status == "failed" and outcome.error is not None and "private or local" in outcome.error
    assert recipient.received == []


def test_an_unreachable_recipient_is_tried_again_then_fails(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, recipient: Recipient
) -> None:
    public_id, given = _confirmed(database, config, vault, datamap, recipient)
    # a port nobody listens on: the connection is refused at every try
    with database.session() as session:
        row = session.scalars(select(PackageDelivery)).one()
        assert row.public_id == given.delivery

    def nowhere(_host: str, _port: int) -> list[str]:
        return ["127.0.0.2"]

    outcome = push.send(database, given.delivery, vault=vault, settings=config, resolver=nowhere, sleep=lambda _s: None)
    assert outcome.status == "failed" and outcome.attempts == 3
    assert outcome.error is not None and "could not be reached" in outcome.error and public_id not in outcome.error


def test_http_urls_are_refused_at_intake(database: Database, config: Settings, vault: Vault) -> None:
    """Bad input: a third party's http:// address is refused before anything is stored (422, naming the field)."""
    submission = intake.Submission(
        kind=RequestKind.PORTABILITY,
        identity_kind="email",
        identity="ana@example.org",
        jurisdiction="eu",
        details={"destination": "third_party", "url": "http://import.example.com/in"},
    )
    with pytest.raises(RecipientRefused) as refused:
        intake.submit(database, Recorder(), submission, vault=vault, settings=config)
    assert refused.value.status == 422 and refused.value.problems[0].path == "details.url"


def test_an_unknown_delivery_is_not_found(database: Database, config: Settings, vault: Vault) -> None:
    with pytest.raises(NotFound):
        push.send(database, "0" * 32, vault=vault, settings=config)


def test_charter_requests_push_sends_a_failed_delivery_again(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, home: Path, recipient: Recipient
) -> None:
    """``charter requests push ID [--json]``: the privacy office sends a failed delivery once more (audited);
    nothing failed, or a copy deleted since, is refused with one line."""
    public_id, given = _confirmed(database, config, vault, datamap, recipient)
    recipient.answers = [503, 503, 503]
    assert _send(database, config, vault, given.delivery).status == "failed"
    env = {
        "CHARTER_ENV": "test",
        "CHARTER_DELIVERY_CA_BUNDLE": str(config.delivery.ca_bundle),
        "CHARTER_DELIVERY_ALLOW_PRIVATE_RECIPIENTS": "true",
    }
    invoke = invoker(app, database, home, **env)
    sent = invoke("requests", "push", public_id, "--json")
    assert sent.exit_code == 0, sent.output
    assert json.loads(sent.output) == {
        "delivery": given.delivery,
        "status": "sent",
        "attempts": 1,
        "http_status": 200,
        "error": None,
    }
    with database.session() as session:
        retried = session.scalars(select(AuditEntry).where(AuditEntry.action == "package.delivery_retried")).one()
    assert retried.actor == "cli" and retried.data["delivery"] == given.delivery
    nothing = invoke("requests", "push", public_id)
    assert nothing.exit_code == 1 and "no failed delivery" in nothing.output
    assert invoke("requests", "push", "f" * 32).exit_code == 1


def test_a_delivery_of_a_deleted_copy_is_not_sent_again(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, recipient: Recipient
) -> None:
    public_id, given = _confirmed(database, config, vault, datamap, recipient)
    recipient.answers = [503, 503, 503]
    assert _send(database, config, vault, given.delivery).status == "failed"
    with database.session() as session:
        assert (
            retention.drop_expired(
                session, settings=config, now=utcnow() + timedelta(days=config.requests.package_days + 1)
            )
            == 1
        )
    with pytest.raises(NoCopy, match="no longer exists"):
        push.retry(database, public_id, actor="user:po", via="api")
