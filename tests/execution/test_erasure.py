"""The erasure strategies (pure): what each field becomes, the same again on a re-run.

Promises: P-RGT-3 (erasure per the map's strategy), P-SEC-1 (keyed, so a
pseudonym cannot be tested against a guess without the secret key).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from charter.errors import InvalidInput
from charter.execution.erasure import Strategies, generalize, plain
from charter.execution.steps import FieldErasure

WHERE = ("req1", "west_shop.customers", 7)


def test_each_strategy_gives_the_same_value_again() -> None:
    strategies = Strategies(b"a secret key of enough length!!")
    for erasure, original, expected in [
        (FieldErasure("phone", "set_null"), "+15125550001", None),
        (FieldErasure("first_name", "redact_text"), "Ana", "(erased)"),
        (FieldErasure("first_name", "redact_text", replacement="[gone]"), "Ana", "[gone]"),
        (FieldErasure("birth_date", "generalize_date"), "2001-05-17", "2001-01-01"),
        (FieldErasure("birth_date", "generalize_date", to="month"), date(2001, 5, 17), "2001-05-01"),
    ]:
        assert strategies.new_value(erasure, original, where=WHERE) == expected
    hashed = strategies.new_value(FieldErasure("email", "keyed_hash"), "ana@example.org", where=WHERE)
    assert len(hashed) == 32 and hashed == strategies.keyed_hash("ana@example.org")
    assert hashed != Strategies(b"another secret key, long enough").keyed_hash("ana@example.org")
    token = strategies.new_value(FieldErasure("email", "random_token"), "ana@example.org", where=WHERE)
    assert len(token) == 24 and token == strategies.token(*WHERE, "email")[:24]
    longer = strategies.new_value(FieldErasure("email", "random_token", length=40), "ana@example.org", where=WHERE)
    assert len(longer) == 40 and longer.startswith(token)
    assert token != strategies.token("req2", "west_shop.customers", 7, "email")
    assert strategies.new_value(FieldErasure("email", "keyed_hash"), None, where=WHERE) is None


def test_dates_and_errors() -> None:
    assert generalize(datetime(2001, 5, 17, 10, 30), "year") == "2001-01-01T00:00:00"
    assert plain(datetime(2001, 5, 17, tzinfo=UTC)) == "2001-05-17T00:00:00+00:00"
    assert plain(b"\x01\x02") == "0102"
    with pytest.raises(InvalidInput):
        generalize("n/a", "year")
    with pytest.raises(InvalidInput):
        Strategies(b"a secret key of enough length!!").new_value(FieldErasure("x", "delete_row"), "v", where=WHERE)
