"""``package.json`` reads back as exactly the document it was written from, whatever the rows hold
(P-RGT-1, P-RGT-5: the copy is the person's data, machine-readable), and stays readable: one row a line."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from charter.execution.package import _cell, _csv, _readable

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
values = st.recursive(
    scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3)
)
rows = st.lists(st.dictionaries(st.text(), values, max_size=5), max_size=5)
collections = st.lists(st.fixed_dictionaries({"collection": st.text(), "system": st.text(), "rows": rows}), max_size=4)


@settings(max_examples=200)
@given(collections, st.lists(st.dictionaries(st.text(), scalars, max_size=2), max_size=2))
def test_the_readable_form_is_the_same_document(found: list[dict[str, Any]], notes: list[dict[str, Any]]) -> None:
    document = {"schema": "charter.package/1", "request": "r", "collections": found, "not_searched": notes}
    text = _readable(document)
    assert json.loads(text) == json.loads(json.dumps(document))
    assert text == _readable(document)  # the same inputs, the same bytes
    text.encode("utf-8")  # what the zip stores (a lone surrogate in a value is escaped, never an error)
    lines = text.splitlines()
    assert len(lines) >= sum(len(c["rows"]) for c in found)  # a row a line (at least)


def _csv_by_dictwriter(rows: list[dict[str, Any]]) -> str:
    """The CSV as ``csv.DictWriter`` writes it: the form the package had, kept here as the reference."""
    header: list[str] = []
    for row in rows:
        header.extend(k for k in row if k not in header)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _cell(v) for k, v in row.items()})
    return out.getvalue()


@settings(max_examples=200)
@given(
    st.lists(st.dictionaries(st.sampled_from(["id", "email", "Name", "a b", "=x"]), scalars, max_size=5), max_size=6)
)
def test_each_csv_is_what_a_dict_writer_writes(found: list[dict[str, Any]]) -> None:
    """P-RGT-5: a field one row lacks is an empty cell, formulas are quoted out, whatever the rows' keys."""
    assert _csv(found) == _csv_by_dictwriter(found)
