"""Properties: a token that was not minted is refused, whatever it looks like (P-TRK-3).

Drawn tokens are arbitrary text (control characters, NUL, non-ASCII, path
pieces) and well-formed 43-character tokens that were never minted; both
must meet the same "not valid" answer, record nothing and reveal nothing.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from charter.db import Database, utcnow
from charter.ledger.models import LedgerEvent
from charter.maillinks.errors import LinkNotFound
from charter.maillinks.keys import LinkKeys
from charter.maillinks.models import MailOpen
from charter.maillinks.service import MailLinks, OpenOutcome
from tests.maillinks.conftest import Mint, count, token_of

WELL_FORMED = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=43, max_size=43)
TOKENS = st.one_of(st.text(max_size=100), WELL_FORMED)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(token=TOKENS)
def test_any_token_not_minted_is_refused(links_db: Database, links: MailLinks, mint: Mint, token: str) -> None:
    minted = mint()
    if token in (token_of(minted.unsubscribe_url), token_of(minted.open_pixel_url)):  # pragma: no cover - 2^-256
        return
    with links_db.session() as session:
        with pytest.raises(LinkNotFound) as caught:
            links.unsubscribe(session, token, at=utcnow())
        assert caught.value.detail == "this link is not valid; check that it was copied whole"
        with pytest.raises(LinkNotFound):
            links.status(session, token, at=utcnow())
        assert links.record_open(session, token, at=utcnow()) is OpenOutcome.UNKNOWN
    assert count(links_db, LedgerEvent) == 0
    assert count(links_db, MailOpen) == 0


@given(secret=st.binary(min_size=1, max_size=64), other=st.binary(min_size=1, max_size=64))
def test_tokens_are_well_formed_and_hashes_keyed(secret: bytes, other: bytes) -> None:
    keys = LinkKeys(secret)
    token = keys.new_token()
    assert keys.well_formed(token)
    assert keys.candidates(token) == [keys.digest(token)]
    assert len(keys.digest(token)) == 64 and token not in keys.digest(token)
    if other != secret:
        assert LinkKeys(other).digest(token) != keys.digest(token)
    assert LinkKeys(other, previous=[secret]).candidates(token)[1] == keys.digest(token)


@given(text=st.text(max_size=60).filter(lambda t: len(t) != 43))
def test_a_token_of_the_wrong_length_is_never_looked_up(text: str) -> None:
    assert LinkKeys(b"k").candidates(text) == []
