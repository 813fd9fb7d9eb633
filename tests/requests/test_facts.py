"""Facts matching for high-risk requests (P-RGT-7): compare what the requester knows with what is held.

The comparison is pure (:mod:`charter.requests.facts`); the outcome is
recorded by :mod:`charter.requests.factcheck` on SQLite and PostgreSQL; the
stores are read by :class:`charter.execution.facts_lookup.StoreLookup` from
the demo's real shop and support databases (Ana's real postal code, phone
and date of birth), or from a PostgreSQL URL nobody listens on.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import create_engine, select, text

from charter.audit.models import AuditEntry
from charter.db import Database
from charter.demo import stores
from charter.errors import Unavailable
from charter.execution import service as execution
from charter.execution.facts_lookup import StoreLookup, fact_fields, lookup_for, offered
from charter.requests import factcheck, facts, review
from charter.requests.errors import InvalidRequest
from charter.requests.facts import Outcome
from charter.requests.kinds import RequestKind, Status
from charter.requests.models import RequestFacts
from charter.settings import DatabaseSettings, DatamapSettings, RequestSettings, Settings
from charter.subjects.service import Vault
from tests.conftest import EXAMPLES
from tests.requests.conftest import Recorder
from tests.requests.test_service import AT_2020, AT_2024, submit, verified

ANA = "ana@example.org"


@dataclass
class Held:
    """A :class:`factcheck.Lookup` with fixed values (or a store that is down); records what it was asked."""

    values: dict[str, list[str]] = field(default_factory=dict)
    down: bool = False
    asked: list[tuple[str, str, set[str]]] = field(default_factory=list)

    def held(self, identity_kind: str, identity: str, kinds: Collection[str]) -> Mapping[str, Sequence[str]]:
        self.asked.append((identity_kind, identity, set(kinds)))
        if self.down:
            raise Unavailable("system 'shop' is unavailable: OperationalError: connection refused")
        return {k: v for k, v in self.values.items() if k in kinds}


ANA_HELD = {"postal_code": ["1100148"], "phone_last4": ["0001"], "date_of_birth": ["2005-09-05"]}


def ana_row(home: Path) -> dict[str, Any]:
    """Ana's customer row and address in the demo shop, read directly."""
    engine = create_engine(f"sqlite:///{home / stores.SHOP_FILE}")
    try:
        with engine.connect() as conn:
            query = (
                "SELECT c.phone, c.birth_date, a.postal_code FROM customers c "
                "JOIN addresses a ON a.customer_id = c.id WHERE c.email = :email"
            )
            return dict(conn.execute(text(query), {"email": ANA}).mappings().one())
    finally:
        engine.dispose()


# -- the pure comparison ----------------------------------------------------------------


def test_facts_are_normalized_the_same_way_on_both_sides() -> None:
    """P-RGT-7: a postal code typed with or without its dash, a phone as its last digits, a date in ISO."""
    postal, phone, born = (facts.KINDS[k].normalize for k in ("postal_code", "phone_last4", "date_of_birth"))
    assert postal("1100-148") == postal(" 1100 148 ") == "1100148"
    assert postal("sw1a 1aa") == "SW1A1AA"
    assert postal("--") is None
    assert phone("+1 512 555 0001") == phone("0001") == "0001"
    assert phone("12") is None
    assert born(date(2005, 9, 5)) == born(datetime(2005, 9, 5, 0, 0)) == born("2005-09-05") == "2005-09-05"
    assert born("05/09/2005") is None
    assert facts.cleaned({"postal_code": "1100-148", "phone_last4": "", "unknown": "x"}) == {"postal_code": "1100148"}
    with pytest.raises(ValueError, match="date_of_birth"):
        facts.cleaned({"date_of_birth": "the fifth of September"})
    with pytest.raises(ValueError, match="postal_code"):
        facts.cleaned({"postal_code": "1" * (facts.MAX_FACT + 1)})


def test_every_outcome_counts_matches_and_keeps_no_value() -> None:
    """P-RGT-7: matched N of M, not matched, no facts held, a store down; the result holds counts and kinds only."""
    given = {"postal_code": "1100148", "phone_last4": "0001"}
    matched = facts.evaluate(given, ANA_HELD)
    assert (matched.outcome, matched.matched, matched.compared, matched.given) == (Outcome.MATCHED, 2, 2, 2)
    wrong = facts.evaluate({**given, "date_of_birth": "1999-01-01"}, ANA_HELD)
    assert (wrong.outcome, wrong.matched, wrong.compared) == (Outcome.NOT_MATCHED, 2, 3)
    assert wrong.kinds == {"date_of_birth": "not_matched", "phone_last4": "matched", "postal_code": "matched"}
    partly_held = facts.evaluate(given, {"postal_code": ["1100148"]})
    assert (partly_held.outcome, partly_held.compared) == (Outcome.MATCHED, 1)
    assert partly_held.kinds["phone_last4"] == "not_held"
    assert facts.evaluate(given, {}).outcome == Outcome.NO_FACTS
    assert facts.evaluate(given, None).outcome == Outcome.UNAVAILABLE
    assert "1100148" not in json.dumps(wrong.kinds)


def test_a_value_is_compared_with_every_value_held() -> None:
    assert facts.matches("0001", ["9999", "0001", "0002"])
    assert not facts.matches("0003", ["9999", "0001", "0002"])
    assert not facts.matches("0001", [])


# -- recording the outcome and gating approval -----------------------------------------


def _state(db: Database, public_id: str) -> RequestFacts | None:
    with db.session() as session:
        state = factcheck.state_of(session, review.get(session, public_id))
        if state is not None:
            session.expunge(state)
        return state


def test_a_deletion_asks_for_facts_and_a_match_stands_for_the_reviewers_check(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """P-RGT-7: matched facts held let the office approve without its own check; nothing typed is kept."""
    received = submit(db, mailer, vault, config, RequestKind.DELETION)
    assert _state(db, received.public_id).outcome == Outcome.PENDING  # type: ignore[union-attr]
    verified(db, mailer, vault, config, received, AT_2024)
    with db.session() as session, pytest.raises(InvalidRequest, match="asked for facts"):
        review.approve(session, review.get(session, received.public_id), actor="user:po", vault=vault)
    lookup = Held(ANA_HELD)
    given = facts.cleaned({"postal_code": "1100-148", "date_of_birth": "2005-09-05"})
    factcheck.check(db, received.public_id, given, lookup=lookup, vault=vault, settings=config.requests)
    assert lookup.asked == [("email", ANA, {"postal_code", "date_of_birth"})]
    state = _state(db, received.public_id)
    assert state is not None
    assert (state.outcome, state.matched, state.compared, state.attempts) == ("matched", 2, 2, 1)
    assert factcheck.describe(state) == "facts matched: 2 of 2 (date of birth matched, postal code matched); 1 attempt"
    with db.session() as session:
        row = review.approve(session, review.get(session, received.public_id), actor="user:po", vault=vault)
        assert row.status == Status.APPROVED
        entries = session.scalars(select(AuditEntry).where(AuditEntry.target == f"request:{received.public_id}"))
        logged = {e.action: e.data for e in entries}
    assert logged["request.facts_checked"]["outcome"] == "matched"
    assert logged["request.approved"]["facts"] == "matched"
    assert logged["request.approved"]["identity_checked"] is False
    dumped = json.dumps(logged)
    assert "1100" not in dumped and "2005-09-05" not in dumped  # P-SEC-1: no fact in the audit log


def test_facts_that_do_not_match_keep_the_reviewers_confirmation_required(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """P-RGT-7: a mismatch is shown to the office (N of M); approval then needs "identity checked"."""
    received = submit(db, mailer, vault, config, RequestKind.ACCESS)
    verified(db, mailer, vault, config, received, AT_2024)
    given = facts.cleaned({"postal_code": "10115", "phone_last4": "0001"})
    factcheck.check(db, received.public_id, given, lookup=Held(ANA_HELD), vault=vault, settings=config.requests)
    state = _state(db, received.public_id)
    assert state is not None and (state.outcome, state.matched, state.compared) == ("not_matched", 1, 2)
    with db.session() as session, pytest.raises(InvalidRequest, match="facts not matched: 1 of 2"):
        review.approve(session, review.get(session, received.public_id), actor="user:po", vault=vault)
    with db.session() as session:
        row = review.approve(
            session, review.get(session, received.public_id), actor="user:po", vault=vault, identity_checked=True
        )
        assert row.status == Status.APPROVED


@pytest.mark.parametrize(
    ("lookup", "outcome", "described"),
    [
        (Held({}), "no_facts", "no facts held to compare with"),
        (Held(down=True), "unavailable", "facts could not be checked: a data store was unavailable"),
    ],
    ids=["no-facts-held", "store-down"],
)
def test_no_facts_held_and_a_store_down_are_outcomes_for_the_office(
    db: Database, mailer: Recorder, vault: Vault, config: Settings, lookup: Held, outcome: str, described: str
) -> None:
    """P-RGT-7: neither raises; the console can say why nothing matched, approval still needs the check."""
    received = submit(db, mailer, vault, config, RequestKind.PORTABILITY, email="nobody@example.org")
    verified(db, mailer, vault, config, received, AT_2024)
    factcheck.check(
        db, received.public_id, {"postal_code": "10115"}, lookup=lookup, vault=vault, settings=config.requests
    )
    state = _state(db, received.public_id)
    assert state is not None and state.outcome == outcome
    assert described in (factcheck.describe(state) or "")
    with db.session() as session:
        assert factcheck.needs_confirmation(session, review.get(session, received.public_id))


def test_attempts_are_bounded_and_only_while_in_review(
    db: Database, mailer: Recorder, vault: Vault, database: Database, tmp_path: Path
) -> None:
    """P-RGT-7: at most CHARTER_REQUESTS_FACTS_ATTEMPTS sends count; before verification none does."""
    config = Settings.load(
        env="test",
        home=tmp_path / "home",
        database=DatabaseSettings(url=database.url),
        requests=RequestSettings(facts_attempts=2),
    )
    received = submit(db, mailer, vault, config, RequestKind.DELETION)
    lookup = Held(ANA_HELD)
    check = {"lookup": lookup, "vault": vault, "settings": config.requests}
    factcheck.check(db, received.public_id, {"postal_code": "1100148"}, **check)  # type: ignore[arg-type]
    assert lookup.asked == [] and _state(db, received.public_id).attempts == 0  # type: ignore[union-attr]
    verified(db, mailer, vault, config, received, AT_2024)
    for postal in ("99999", "1100148", "99999"):
        factcheck.check(db, received.public_id, {"postal_code": postal}, **check)  # type: ignore[arg-type]
    state = _state(db, received.public_id)
    assert state is not None and (state.attempts, state.outcome) == (2, "matched")  # the third was ignored
    assert len(lookup.asked) == 2


def test_a_low_risk_request_asks_for_nothing(db: Database, mailer: Recorder, vault: Vault, config: Settings) -> None:
    """A restriction is carried out in the ledger; it is not in CHARTER_REQUESTS_FACTS_KINDS by default."""
    received = submit(db, mailer, vault, config, RequestKind.RESTRICTION, at=AT_2020)
    verified(db, mailer, vault, config, received, AT_2020)
    assert _state(db, received.public_id) is None
    lookup = Held(ANA_HELD)
    factcheck.check(db, received.public_id, {"postal_code": "1"}, lookup=lookup, vault=vault, settings=config.requests)
    assert lookup.asked == []
    with db.session() as session:
        assert not factcheck.needs_confirmation(session, review.get(session, received.public_id))


def test_the_high_risk_types_are_a_setting() -> None:
    assert factcheck.high_risk(RequestSettings()) == {RequestKind.DELETION, RequestKind.ACCESS, RequestKind.PORTABILITY}
    assert factcheck.high_risk(RequestSettings(facts_kinds="")) == frozenset()
    with pytest.raises(ValidationError, match="'erasure' is not a request type"):
        RequestSettings(facts_kinds="deletion, erasure")  # refused when the settings load, not at the first request


# -- the real stores -------------------------------------------------------------------


@pytest.fixture
def store_settings(tmp_path: Path) -> Settings:
    home = tmp_path / "home"
    stores.create(home, count=20)
    return Settings.load(env="test", home=home, datamap=DatamapSettings(path=EXAMPLES / "datamap"))


def test_the_demo_stores_hold_anas_real_facts(store_settings: Settings) -> None:
    """P-RGT-7: the kinds come from the data map's categories; the values from the shop, through references."""
    datamap = execution.load_datamap(store_settings)
    assert offered(datamap) == ["postal_code", "phone_last4", "date_of_birth"]
    assert {key for key, _ in fact_fields(datamap)["postal_code"]} == {"west_shop.addresses"}
    real = ana_row(store_settings.home)
    held = StoreLookup(datamap, store_settings).held("email", ANA, set(facts.KINDS))
    assert held == {
        "postal_code": [facts.KINDS["postal_code"].normalize(real["postal_code"])],
        "phone_last4": [real["phone"][-4:]],
        "date_of_birth": [str(real["birth_date"])[:10]],
    }
    nobody = StoreLookup(datamap, store_settings).held("email", "nobody@example.org", ["postal_code"])
    assert nobody == {"postal_code": []}


def test_an_unreachable_store_is_unavailable_and_never_named_by_its_url(
    store_settings: Settings, tmp_path: Path
) -> None:
    """The shop as a PostgreSQL URL nobody listens on: Unavailable naming the system; the outcome says so."""
    folder = tmp_path / "datamap"
    shutil.copytree(EXAMPLES / "datamap" / "datasets", folder / "datasets")
    (folder / "systems.yaml").write_text(
        "systems:\n"
        "  - {id: shop, kind: sql, url_env: FACTS_SHOP_URL, datasets: [west_shop]}\n"
        "  - {id: support, kind: sql, url: 'sqlite:///support.db', datasets: [west_support]}\n"
    )
    datamap = execution.load_datamap(store_settings, folder)
    secret_url = "postgresql+psycopg://charter:s3cret@127.0.0.1:1/shop"
    lookup = StoreLookup(datamap, store_settings, env={"FACTS_SHOP_URL": secret_url})
    with pytest.raises(Unavailable, match="system 'shop'") as caught:
        lookup.held("email", ANA, ["postal_code"])
    assert "s3cret" not in caught.value.detail
    broken = store_settings.model_copy(update={"datamap": DatamapSettings(path=tmp_path / "missing")})
    with pytest.raises(Unavailable, match="data map"):
        lookup_for(broken).held("email", ANA, ["postal_code"])
