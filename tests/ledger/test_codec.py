"""PersonState ⇄ JSON round-trips exactly, through real JSON text."""

from __future__ import annotations

import json
from datetime import UTC, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charter.decisions.state import EMPTY, Consent, PersonState
from charter.ledger.codec import decode, encode

WORDS = st.text(alphabet="abcdefghij_", min_size=1, max_size=8)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5, minutes=-30))])
TIMES = st.datetimes(timezones=ZONES)
CONSENTS = st.builds(Consent, given=st.booleans(), at=TIMES, statement_version=st.none() | WORDS, written=st.booleans())
STATES = st.builds(
    PersonState,
    consents=st.dictionaries(WORDS, CONSENTS, max_size=4),
    opted_out=st.frozensets(WORDS, max_size=3),
    restricted=st.frozensets(WORDS | st.just("*"), max_size=3),
    objected=st.frozensets(WORDS, max_size=3),
    sale_sharing_opt_out=st.booleans(),
    disclosure_refused=st.booleans(),
    gpc=st.booleans(),
    dnt=st.booleans(),
    unsubscribed=st.booleans(),
    preferences=st.dictionaries(WORDS, st.booleans(), max_size=3),
    birth_date=st.none() | st.dates(),
    attested_age=st.none() | st.integers(0, 130),
    attested_at=st.none() | TIMES,
    parental_proof_deadline=st.none() | TIMES,
    parental_proof_received=st.booleans(),
    transfer_consents=st.frozensets(st.sampled_from(["CN", "RU", "US"]), max_size=2),
    subscribed_services=st.frozensets(WORDS, max_size=3),
)


@given(STATES)
def test_round_trip_is_exact(state: PersonState) -> None:
    document = json.loads(json.dumps(encode(state)))
    back = decode(document)
    assert back == state
    assert encode(back) == encode(state)  # one document per state


def test_empty_state() -> None:
    assert decode(encode(EMPTY)) == EMPTY


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        decode({"v": 99})
