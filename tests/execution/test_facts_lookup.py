"""The facts lookup reads a field of a fetched row by its path in the map (issue 11: never by splitting a name)."""

from __future__ import annotations

import json

from charter.execution import facts_lookup

FLAT, NESTED = "1 Flat Street", "2 Nested Road"


def test_the_facts_lookup_reads_a_nested_field_by_its_path_and_a_dotted_column_by_its_name() -> None:
    """P-RGT-7's lookup: ``("addr", "line1")`` inside the document (a mapping, or JSON text), ``("addr.line1",)``
    the column so named."""
    row = {"addr.line1": FLAT, "addr": {"line1": NESTED}}
    assert facts_lookup._value(row, ("addr.line1",)) == FLAT
    assert facts_lookup._value(row, ("addr", "line1")) == NESTED
    assert facts_lookup._value({"addr": json.dumps({"line1": NESTED})}, ("addr", "line1")) == NESTED
    assert facts_lookup._value({"addr": "not json"}, ("addr", "line1")) is None
    assert facts_lookup._value({"addr.line1": FLAT}, ("addr", "line1")) is None  # never the dotted column
