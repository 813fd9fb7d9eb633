"""The forms a store may hold one phone number in (``charter.subjects.phones``; issue 11, P-RGT-1)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from charter.subjects.phones import forms


def test_a_national_form_is_searched_only_in_the_installations_own_country() -> None:
    assert forms(["+15125550102"], "US") == ["+15125550102", "(512) 555-0102"]
    assert forms(["512-555-0102"], "US") == ["512-555-0102", "+15125550102", "(512) 555-0102"]
    assert forms(["+447700900123"], "GB") == ["+447700900123", "07700 900123"]
    assert forms(["+447700900123"], "US") == ["+447700900123"]  # at home in the UK, someone else's number here
    assert forms(["not a number", "12"], "US") == ["not a number", "12"]


@given(st.lists(st.text(max_size=30), max_size=5), st.sampled_from(["US", "GB", "FR", "DE", "IN", "BR"]))
def test_forms_keep_every_value_as_given_and_never_raise(values: list[str], region: str) -> None:
    out = forms(values, region)
    assert [v for v in out if v in values] == list(dict.fromkeys(values))
    assert len(out) == len(set(out))
