"""The person's copy: a fresh code, then a one-time expiring link (P-RGT-1, P-RGT-5, P-RGT-7, P-SEC-1)."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from charter.audit.models import AuditEntry
from charter.datamap.model import DataMap
from charter.db import Database
from charter.db.base import utcnow
from charter.delivery import links
from charter.delivery import service as delivery
from charter.delivery.errors import LinkExpired, LinkReplaced, LinkUnknown, LinkUsed
from charter.delivery.models import PackageDownload
from charter.errors import CharterError, NotFound
from charter.execution import claims, package
from charter.preferences.errors import ChallengeInvalid, ChallengeUsed, WrongCode
from charter.requests import notices, review
from charter.requests.kinds import RequestKind
from charter.requests.models import RequestNotice
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.delivery.conftest import completed
from tests.execution.conftest import ANA, approved, sealed_package, store_package
from tests.requests.conftest import Recorder


def _link(database: Database, config: Settings, vault: Vault, public_id: str, **kw: object) -> links.Issued:
    mailer = Recorder()
    challenge = delivery.send_code(database, mailer, public_id, vault=vault, settings=config)
    assert len(mailer.messages) == 1 and mailer.messages[0]["To"] == ANA
    given = delivery.redeem(database, public_id, challenge, mailer.code(), vault=vault, settings=config, **kw)  # type: ignore[arg-type]
    assert isinstance(given, links.Issued)
    return given


def test_access_copy_after_a_fresh_code_downloads_once_p_rgt_1_p_rgt_7(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, home: Path
) -> None:
    """P-RGT-1 / P-RGT-7: a new code to the request's own address, then a link that gives the zip once."""
    public_id = completed(database, config, vault, datamap)
    issued = _link(database, config, vault, public_id)
    assert issued.url.startswith(f"{config.base_url}{links.PATH}?token=")
    hours = (issued.expires_at - utcnow()).total_seconds() / 3600
    assert config.requests.download_hours - 1 < hours <= config.requests.download_hours

    got = links.use(database, issued.token, vault=vault, home=home)
    assert got.filename == f"charter-access-{public_id}.zip"
    archive = zipfile.ZipFile(io.BytesIO(got.data))
    document = json.loads(archive.read("package.json"))
    assert document["schema"] == package.SCHEMA and document["request"] == public_id
    assert "csv/west_shop.customers.csv" in archive.namelist()
    assert ANA in archive.read("csv/west_shop.customers.csv").decode()
    assert got.collections == len(document["collections"]) == 7 and got.rows > 0

    with pytest.raises(LinkUsed, match="already used") as used:
        links.use(database, issued.token, vault=vault, home=home)
    assert used.value.status == 410

    with database.session() as session:
        stored = session.scalars(select(PackageDownload)).one()
        assert stored.used_at is not None and stored.token_hash != issued.token
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action.like("package.%"))).all()
    assert [e.action for e in entries] == ["package.link_issued", "package.downloaded"]
    dumped = json.dumps([[e.actor, e.target, e.data] for e in entries])
    assert issued.token not in dumped and ANA not in dumped  # P-SEC-1


def test_an_expired_link_says_so(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, home: Path
) -> None:
    """P-RGT-7: the link works for CHARTER_REQUESTS_DOWNLOAD_HOURS, then 410 with its own message."""
    public_id = completed(database, config, vault, datamap)
    issued = _link(database, config, vault, public_id)
    later = issued.expires_at + timedelta(seconds=1)
    with pytest.raises(LinkExpired, match="expired") as gone:
        links.use(database, issued.token, vault=vault, home=home, now=later)
    assert gone.value.status == 410
    # expiry spends nothing: within its time the same link still works
    assert links.use(database, issued.token, vault=vault, home=home).rows > 0


def test_a_new_link_replaces_the_older_one(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, home: Path
) -> None:
    public_id = completed(database, config, vault, datamap)
    first = _link(database, config, vault, public_id)
    second = _link(database, config, vault, public_id)
    with pytest.raises(LinkReplaced):
        links.use(database, first.token, vault=vault, home=home)
    assert links.use(database, second.token, vault=vault, home=home).rows > 0


@pytest.mark.parametrize("token", ["", "short", "x" * 43, "a/b" * 20, "é" * 43])
def test_unknown_or_malformed_tokens_are_404(database: Database, vault: Vault, home: Path, token: str) -> None:
    with pytest.raises(LinkUnknown) as unknown:
        links.use(database, token, vault=vault, home=home)
    assert unknown.value.status == 404 and isinstance(unknown.value, NotFound)


def test_two_downloads_at_once_give_one_file(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, home: Path
) -> None:
    """The conditional UPDATE spends the link in the transaction that checks it: one success, one 410."""
    public_id = completed(database, config, vault, datamap)
    issued = _link(database, config, vault, public_id)
    barrier = threading.Barrier(2)
    results: list[object] = []

    def fetch() -> None:
        barrier.wait()
        try:
            results.append(links.use(database, issued.token, vault=vault, home=home))
        except CharterError as exc:
            results.append(exc)

    threads = [threading.Thread(target=fetch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(r).__name__ for r in results) == ["Download", "LinkUsed"]


def test_a_damaged_package_is_refused_and_does_not_burn_the_link(
    database: Database, config: Settings, vault: Vault, datamap: DataMap, home: Path
) -> None:
    public_id = completed(database, config, vault, datamap)
    issued = _link(database, config, vault, public_id)
    original = sealed_package(database, public_id)
    assert original is not None
    store_package(database, public_id, original[:-1] + bytes([original[-1] ^ 1]))
    with pytest.raises(package.PackageDamaged, match="altered"):
        links.use(database, issued.token, vault=vault, home=home)
    store_package(database, public_id, None)
    with pytest.raises(NotFound, match="missing"):
        links.use(database, issued.token, vault=vault, home=home)
    with database.session() as session:  # put back as it was (its run keeps its id)
        run = claims.run_of(session, review.get(session, public_id).id)
        assert run is not None
        package.store(session, run.id, package.Built("", "", 0, 0, original), now=utcnow())
    assert links.use(database, issued.token, vault=vault, home=home).rows > 0


def test_a_wrong_code_counts_and_gives_no_link(
    database: Database, config: Settings, vault: Vault, datamap: DataMap
) -> None:
    """P-RGT-7: codes are checked like every e-mailed code: counted tries, single use."""
    public_id = completed(database, config, vault, datamap)
    mailer = Recorder()
    challenge = delivery.send_code(database, mailer, public_id, vault=vault, settings=config)
    right = mailer.code()
    wrong = "000000" if right != "000000" else "111111"
    with pytest.raises(WrongCode) as refused:
        delivery.redeem(database, public_id, challenge, wrong, vault=vault, settings=config)
    assert refused.value.tries_left == config.preferences.max_attempts - 1
    with database.session() as session:
        assert session.scalars(select(PackageDownload)).all() == []
    assert isinstance(
        delivery.redeem(database, public_id, challenge, right, vault=vault, settings=config), links.Issued
    )
    with pytest.raises(ChallengeUsed):  # single use
        delivery.redeem(database, public_id, challenge, right, vault=vault, settings=config)


def test_no_enumeration_the_same_answer_without_a_copy(
    database: Database, config: Settings, vault: Vault, datamap: DataMap
) -> None:
    """P-RGT-7: unknown ids, and requests with nothing to give, get a challenge id and no e-mail."""
    waiting = approved(database, config, vault, RequestKind.ACCESS)  # approved, not carried out
    for public_id in ("0" * 32, waiting, "not an id"):
        mailer = Recorder()
        challenge = delivery.send_code(database, mailer, public_id, vault=vault, settings=config)
        assert len(challenge) == 32 and int(challenge, 16) >= 0
        assert mailer.messages == []
        with pytest.raises(ChallengeInvalid):
            delivery.redeem(database, public_id, challenge, "123456", vault=vault, settings=config)


def test_a_code_for_one_request_does_not_release_another(
    database: Database, config: Settings, vault: Vault, datamap: DataMap
) -> None:
    mine = completed(database, config, vault, datamap)
    theirs = completed(database, config, vault, datamap, email="ben@example.org")
    mailer = Recorder()
    challenge = delivery.send_code(database, mailer, mine, vault=vault, settings=config)
    with pytest.raises(ChallengeInvalid):
        delivery.redeem(database, theirs, challenge, mailer.code(), vault=vault, settings=config)


def test_the_completed_e_mail_says_how_to_get_the_copy(
    database: Database, config: Settings, vault: Vault, datamap: DataMap
) -> None:
    public_id = completed(database, config, vault, datamap)
    mailer = Recorder()
    notices.deliver(database, mailer, vault=vault, settings=config)
    texts = [m.get_content() for m in mailer.messages if m["Subject"] == notices.SUBJECTS[notices.COMPLETED]]
    assert len(texts) == 1 and '"Get my copy"' in texts[0] and public_id in texts[0]
    with database.session() as session:
        assert session.scalars(select(RequestNotice).where(RequestNotice.sent_at.is_(None))).all() == []
