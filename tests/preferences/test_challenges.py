"""E-mail challenges: codes and links that work once, for a while, for a few tries.

Promises: P-RGT-7 (a request is completed only after identity is verified),
P-SEC-1 (no address, code or token stored in the clear).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from charter.audit.models import AuditEntry
from charter.db import Database
from charter.errors import RateLimited
from charter.preferences import challenges
from charter.preferences.challenges import Started
from charter.preferences.errors import (
    ChallengeExpired,
    ChallengeInvalid,
    ChallengeLocked,
    ChallengeUsed,
    WrongCode,
)
from charter.preferences.models import EmailChallenge
from charter.preferences.service import verify_code
from charter.settings import PreferenceSettings
from charter.subjects import service as subjects
from charter.subjects.models import Person
from charter.subjects.normalize import InvalidIdentity
from charter.subjects.service import Vault
from tests.preferences.conftest import NOW


def _start(
    db: Database, vault: Vault, prefs: PreferenceSettings, email: str = "Ana@Example.org", **kw: object
) -> Started:
    with db.session() as session:
        return challenges.start(session, email, vault=vault, settings=prefs, now=kw.get("now", NOW))  # type: ignore[arg-type]


def _people(db: Database) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(Person)) or 0


def _row(db: Database, challenge_id: str) -> EmailChallenge:
    with db.session() as session:
        return session.get_one(EmailChallenge, challenge_id)


def test_a_challenge_stores_no_address_code_or_token_and_creates_nobody(
    db: Database, vault: Vault, prefs: PreferenceSettings
) -> None:
    """P-SEC-1: keyed hashes and a sealed value only; asking for a code creates no person."""
    started = _start(db, vault, prefs)
    assert started.email == "ana@example.org"
    assert len(started.code) == 6 and started.code.isdigit()
    assert started.expires_at == NOW + timedelta(minutes=15)
    row = _row(db, started.challenge_id)
    stored = " ".join([row.id, row.email_hash, row.code_hash, row.link_hash]).encode() + row.sealed_email
    for secret in (started.email, started.code, started.link_token):
        assert secret.encode() not in stored
    assert row.email_hash == vault.lookup_hash(*vault.normalize("email", "ana@example.org"))
    assert row.attempts == 0 and row.used_at is None
    assert _people(db) == 0
    assert "ana@example.org" not in repr(started) and started.code not in repr(started)


def test_a_malformed_address_is_refused_and_nothing_is_stored(
    db: Database, vault: Vault, prefs: PreferenceSettings
) -> None:
    with pytest.raises(InvalidIdentity, match=r"name@domain\.tld") as caught:
        _start(db, vault, prefs, email="ana-at-example.org")
    assert "ana-at-example.org" not in caught.value.detail
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(EmailChallenge)) == 0


def test_the_right_code_verifies_once_and_creates_the_person_then(
    db: Database, vault: Vault, prefs: PreferenceSettings
) -> None:
    """P-RGT-7: the person exists from the moment they proved the address, not before."""
    started = _start(db, vault, prefs)
    verified = verify_code(db, started.challenge_id, started.code, vault=vault, settings=prefs, now=NOW)
    assert verified.via == "code"
    with db.session() as session:
        person = subjects.resolve(session, "email", "ana@example.org", vault=vault, create=False)
        assert person is not None and person.public_id == verified.person_public_id
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.action != "policy.published")))
    assert actions == ["preferences.verified"]
    assert _row(db, started.challenge_id).used_at == NOW
    with pytest.raises(ChallengeUsed, match="already used"):
        verify_code(db, started.challenge_id, started.code, vault=vault, settings=prefs, now=NOW)


def test_a_known_address_verifies_as_the_person_who_holds_it(
    db: Database, vault: Vault, prefs: PreferenceSettings
) -> None:
    with db.session() as session:
        known = subjects.resolve(session, "email", "ana@example.org", vault=vault, create=True)
        assert known is not None
        public_id = known.public_id
    started = _start(db, vault, prefs, email="  ANA@example.ORG ")
    verified = verify_code(
        db, started.challenge_id, f" {started.code[:3]} {started.code[3:]} ", vault=vault, settings=prefs, now=NOW
    )
    assert verified.person_public_id == public_id
    assert _people(db) == 1


def test_the_link_verifies_once(db: Database, vault: Vault, prefs: PreferenceSettings) -> None:
    started = _start(db, vault, prefs)
    with db.session() as session:
        verified = challenges.redeem_link(session, started.link_token, vault=vault, settings=prefs, now=NOW)
    assert verified.via == "link"
    with db.session() as session, pytest.raises(ChallengeUsed):
        challenges.redeem_link(session, started.link_token, vault=vault, settings=prefs, now=NOW)
    with pytest.raises(ChallengeUsed):  # the code of a challenge whose link was used is used too
        verify_code(db, started.challenge_id, started.code, vault=vault, settings=prefs, now=NOW)


@pytest.mark.parametrize(
    ("challenge_id", "code"),
    [
        ("0" * 32, "123456"),  # well-formed id nobody was given
        ("not-an-id", "123456"),
        ("", ""),
        ("A" * 32, "123456"),
    ],
)
def test_forged_challenges_are_invalid_and_count_nothing(
    db: Database, vault: Vault, prefs: PreferenceSettings, challenge_id: str, code: str
) -> None:
    started = _start(db, vault, prefs)
    with pytest.raises(ChallengeInvalid, match="not valid") as caught:
        verify_code(db, challenge_id, code, vault=vault, settings=prefs, now=NOW)
    assert not isinstance(caught.value, WrongCode)
    assert _row(db, started.challenge_id).attempts == 0
    assert _people(db) == 0


@pytest.mark.parametrize("token", ["x" * 43, "short", "", "has spaces in it, which no token has", "é" * 43])
def test_forged_link_tokens_are_invalid(db: Database, vault: Vault, prefs: PreferenceSettings, token: str) -> None:
    _start(db, vault, prefs)
    with db.session() as session, pytest.raises(ChallengeInvalid):
        challenges.redeem_link(session, token, vault=vault, settings=prefs, now=NOW)
    assert _people(db) == 0


def test_wrong_codes_count_and_the_sixth_attempt_is_locked(
    db: Database, vault: Vault, prefs: PreferenceSettings
) -> None:
    """Five tries, each committed even though it fails; then even the right code is refused."""
    started = _start(db, vault, prefs)
    wrong = f"{(int(started.code) + 1) % 1_000_000:06d}"
    for left in (4, 3, 2, 1, 0):
        with pytest.raises(WrongCode) as caught:
            verify_code(db, started.challenge_id, wrong, vault=vault, settings=prefs, now=NOW)
        assert caught.value.tries_left == left
    assert "no tries are left" in caught.value.detail
    assert _row(db, started.challenge_id).attempts == 5
    with pytest.raises(ChallengeLocked, match="too many wrong codes"):
        verify_code(db, started.challenge_id, started.code, vault=vault, settings=prefs, now=NOW)
    with db.session() as session, pytest.raises(ChallengeLocked):
        challenges.redeem_link(session, started.link_token, vault=vault, settings=prefs, now=NOW)
    assert _people(db) == 0


def test_a_malformed_code_counts_as_a_wrong_attempt(db: Database, vault: Vault, prefs: PreferenceSettings) -> None:
    started = _start(db, vault, prefs)
    with pytest.raises(WrongCode, match="4 tries left"):
        verify_code(db, started.challenge_id, "12ab", vault=vault, settings=prefs, now=NOW)


def test_an_expired_code_and_link_are_refused(db: Database, vault: Vault, prefs: PreferenceSettings) -> None:
    started = _start(db, vault, prefs)
    later = NOW + timedelta(minutes=15)
    with pytest.raises(ChallengeExpired, match="expired; ask for a new code"):
        verify_code(db, started.challenge_id, started.code, vault=vault, settings=prefs, now=later)
    with db.session() as session, pytest.raises(ChallengeExpired):
        challenges.redeem_link(session, started.link_token, vault=vault, settings=prefs, now=later)
    with db.session() as session:  # a row set to expire in the past (as the web tests do) is the same
        session.execute(update(EmailChallenge).values(expires_at=NOW - timedelta(seconds=1)))
    with pytest.raises(ChallengeExpired):
        verify_code(db, started.challenge_id, started.code, vault=vault, settings=prefs, now=NOW)
    assert _people(db) == 0


def test_codes_per_address_are_limited_per_hour(db: Database, vault: Vault, prefs: PreferenceSettings) -> None:
    for _ in range(prefs.codes_per_address_per_hour):
        _start(db, vault, prefs, email="ana@example.org")
    with pytest.raises(RateLimited, match="this address"):
        _start(db, vault, prefs, email="ANA@example.org")
    _start(db, vault, prefs, email="bo@example.org")  # another address is not affected
    _start(db, vault, prefs, email="ana@example.org", now=NOW + timedelta(hours=1, seconds=1))


def test_guesses_per_address_are_capped_per_day(db: Database, vault: Vault, prefs: PreferenceSettings) -> None:
    """Asking again and again does not buy more guesses: after a day's cap no new code is sent."""
    hour = NOW
    tried = 0
    while tried < prefs.wrong_codes_per_address_per_day:
        started = _start(db, vault, prefs, email="ana@example.org", now=hour)
        wrong = f"{(int(started.code) + 1) % 1_000_000:06d}"
        for _ in range(prefs.max_attempts):
            with pytest.raises((WrongCode, ChallengeLocked)):
                verify_code(db, started.challenge_id, wrong, vault=vault, settings=prefs, now=hour)
            tried += 1
        hour += timedelta(hours=1, seconds=1)  # stay under the per-hour limit on codes
    with pytest.raises(RateLimited, match="tried for this address today"):
        _start(db, vault, prefs, email="ana@example.org", now=hour)
    _start(db, vault, prefs, email="bo@example.org", now=hour)  # another address is not affected
    _start(db, vault, prefs, email="ana@example.org", now=hour + timedelta(days=1))


def test_old_challenges_are_pruned(db: Database, vault: Vault, prefs: PreferenceSettings) -> None:
    old = _start(db, vault, prefs, now=NOW - timedelta(days=2))
    fresh = _start(db, vault, prefs, email="bo@example.org")
    with db.session() as session:
        assert session.get(EmailChallenge, old.challenge_id) is None
        assert session.get(EmailChallenge, fresh.challenge_id) is not None
