"""Live: can each field's erasure be written into the column the store has now?

For every rewrite a deletion would plan (:func:`charter.datamap.writes.planned`,
the collection's strategy included): the column must take NULL for
``set_null``, text for the text strategies, a date for ``generalize_date``,
as many characters as the strategy writes (``varchar(n)``), not be computed
by the store, and not be a foreign key a new value would break. And the row
key the runner writes by must be the table's own, whole primary key. Each
failure is drift: the runner would meet it half-way through a deletion
(P-RGT-3). The declared ``data_type`` against the column is a warning.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from charter.connectors import LiveCollection, LiveColumn, LiveSchema
from charter.datamap.erasure_policy import Resolver
from charter.datamap.findings import Finding, drift, warning
from charter.datamap.model import CollectionEntry, FieldEntry, SystemEntry
from charter.datamap.writes import TEXT_STRATEGIES, Planned, key_columns, narrower_hint, planned, width

#: data_type → live column families that fit it
FITS = {
    "string": {"text", "json", "other", "date", "datetime"},
    "integer": {"integer", "number"},
    "float": {"number", "integer"},
    "boolean": {"boolean", "integer"},
    "object": {"json", "text", "other"},
    "object_id": {"text", "binary", "other"},
}
#: varchar(20), character varying(20), char(5), nvarchar(20) … collate …: the width in characters
CHAR_WIDTH = re.compile(r"char(?:acter)?(?: varying)?\s*\(\s*(\d+)\s*\)")


def char_width(type_name: str) -> int | None:
    found = CHAR_WIDTH.search(type_name)
    return int(found.group(1)) if found else None


def referring(live: LiveSchema, table: str, deleted: set[str]) -> dict[str, str]:
    """Columns of ``table`` that foreign keys of other tables refer to: column → ``child.column``.

    Children whose rows a deletion removes first (``deleted``, erased before
    their parent) hold nothing that still points at the column.
    """
    found: dict[str, str] = {}
    for child in live.collections.values():
        if child.name == table or child.name in deleted:
            continue
        for column, referred, referred_column in child.foreign_keys:
            if referred == table:
                found.setdefault(referred_column, f"{child.name}.{column}")
    return found


def check_table(
    system: SystemEntry,
    collection: CollectionEntry,
    table: LiveCollection,
    through: set[str],
    resolver: Resolver,
    *,
    widths: bool,
    referred: Mapping[str, str],
) -> list[Finding]:
    """Findings for one mapped table that exists; ``widths``: the store enforces varchar widths (not SQLite);
    ``referred``: its columns other tables' foreign keys point at (:func:`referring`)."""
    findings = [f for field in collection.fields.values() if (f := _declared_type(field, table)) is not None]
    rewrites = [p for p in planned(collection, through, resolver) if p.field.top and p.field.column in table.columns]
    foreign = {column: f"{referred}.{referred_column}" for column, referred, referred_column in table.foreign_keys}
    for rewrite in rewrites:
        column = table.columns[rewrite.field.column]
        message = _column_problem(system, rewrite, column, foreign.get(column.name), widths=widths)
        if message is None and column.name in referred and rewrite.erasure.strategy != "set_null":
            message = (
                f"{rewrite.erasure.strategy} would rewrite column '{column.name}', which the foreign key "
                f"{referred[column.name]} refers to in '{system.id}': the store refuses while rows there point at "
                "the old value; delete those rows first (delete_row on their collection), or erase another field"
            )
        if message:
            findings.append(drift(rewrite.problem(message)))
    if rewrites and system.model.kind == "sql":
        findings += _key(system, collection, table)
    return findings


def _declared_type(field: FieldEntry, table: LiveCollection) -> Finding | None:
    column = table.columns.get(field.column) if field.top else None
    declared = (field.model.meta.data_type or "").removesuffix("[]")
    if column is None or not declared or column.family in FITS.get(declared, {column.family}):
        return None
    message = f"data_type is {declared} but the column is {column.type}"
    return warning(field.where.problem(message, "fides_meta", "data_type"))


def _column_problem(
    system: SystemEntry, rewrite: Planned, column: LiveColumn, references: str | None, *, widths: bool
) -> str | None:
    strategy = rewrite.erasure.strategy
    name, kind, where = column.name, column.type, system.id
    by = "the collection's " if rewrite.inherited else ""
    if column.generated:
        return (
            f"{by}{strategy} cannot work: column '{name}' is computed by the store in '{where}'; mark the field "
            "fides_meta.read_only and erase the columns it is computed from"
        )
    if strategy == "set_null":
        return None if column.nullable else f"{by}set_null cannot work: column '{name}' is NOT NULL in '{where}'"
    if references is not None:
        return (
            f"{by}{strategy} would write a new value into column '{name}', which is a foreign key to {references} "
            f"in '{where}': the store refuses a value its parent does not hold; use set_null, or delete_row on the "
            "collection"
        )
    if strategy == "generalize_date":
        if column.family not in ("date", "datetime", "text"):
            return f"{by}generalize_date needs a date, but column '{name}' is {kind}"
    elif strategy in TEXT_STRATEGIES:
        if column.family not in ("text", "other"):
            return f"{by}{strategy} writes text, but column '{name}' is {kind}"
        if "uuid" in kind and strategy != "keyed_hash":
            return f"{by}{strategy} writes text, but column '{name}' is uuid; use keyed_hash or set_null"
        if kind.startswith("enum"):
            return f"{by}{strategy} writes text, but column '{name}' is an enum of fixed values; use set_null"
    needed = width(rewrite.erasure)
    room = char_width(kind) if widths and column.family == "text" else None
    if needed is not None and room is not None and room < needed:
        return (
            f"{by}{strategy} writes {needed} characters but column '{name}' is {kind} in '{where}'; widen it to at "
            f"least {needed}, {narrower_hint(rewrite.erasure, room)}"
        )
    return None


def _key(system: SystemEntry, collection: CollectionEntry, table: LiveCollection) -> list[Finding]:
    """The runner rewrites rows ``WHERE key = …`` by the map's one key: it must be the table's whole key."""
    declared = key_columns(collection)
    if len(declared) != 1 or declared[0] not in table.columns:
        return []  # a static error, or a missing column: said already
    key = declared[0]
    entry = collection.column(key)
    assert entry is not None  # key_columns names top-level fields of the collection
    where = entry.where.at("fides_meta" if entry.model.fides_meta else "fidesops_meta", "primary_key")
    live = [c.name for c in table.columns.values() if c.primary_key]
    name, system_id = collection.name, system.id
    if len(live) > 1:
        message = (
            f"table '{name}' has a composite primary key ({', '.join(live)}) in '{system_id}', but fields are "
            f"rewritten by '{key}' alone, which could change other people's rows; use delete_row on the collection"
        )
        return [drift(where.problem(message))]
    if live == [key]:
        return []
    if live:
        message = (
            f"'{key}' is not the primary key of table '{name}' in '{system_id}' ('{live[0]}' is); fields are "
            f"rewritten by '{key}', so it must be unique: declare fides_meta.primary_key on '{live[0]}' instead"
        )
    else:
        message = (
            f"table '{name}' has no primary key in '{system_id}'; fields are rewritten by '{key}', so it must be "
            "unique: give the table that primary key"
        )
    return [warning(where.problem(message))]
