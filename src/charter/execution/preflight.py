"""Before a deletion writes anything: can every erase step be written where the plan says? (issue 11)

``charter datamap check --live`` finds these problems when someone runs it; a
run must not rely on that. Without this, an erase step that cannot be written
(a token wider than its ``varchar``, ``set_null`` on a ``NOT NULL`` column, a
column renamed since) fails only when its turn comes, after the erase steps
ordered before it have already changed the person's rows elsewhere: a
half-done deletion. So the runner asks here first, against the live tables the
erase steps write (reflected once, as the steps themselves will), and fails
the run before any store is changed, naming every problem and the fix.

Only SQL stores are checked: a Redis hash takes any value. SQLite does not
enforce ``varchar`` widths, so widths are checked where the store enforces
them (and ``STRICT_ALL_TABLES`` makes MariaDB refuse instead of cutting).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from charter.connectors.base import Connector
from charter.datamap.model import DataMap
from charter.datamap.schema import Erasure
from charter.datamap.writes import width
from charter.execution.steps import Action, FieldErasure, Plan


def _erasure(field: FieldErasure) -> Erasure:
    options: dict[str, Any] = {}
    if field.replacement is not None:
        options["replacement"] = field.replacement
    if field.length is not None:
        options["length"] = field.length
    return Erasure(strategy=field.strategy, **options)


def problems(plan: Plan, datamap: DataMap, connector_of: Callable[[str], Connector]) -> list[str]:
    """What would stop an erase step of ``plan`` half-way, each with its fix; empty when every one can be
    written. Reads table definitions only (a connector without ``columns`` is not checked)."""
    found: list[str] = []
    for step in plan.of(Action.ERASE):
        if not step.fields or datamap.systems[step.system].model.kind != "sql":
            continue
        collection = datamap.collection(step.collection)
        if collection is None:
            continue
        connector = connector_of(step.system)
        columns_of = getattr(connector, "columns", None)
        if columns_of is None:
            continue
        schema = datamap.datasets[collection.dataset].model.schema_name
        columns, enforces_width = columns_of(collection.name, schema=schema)
        for field in step.fields:
            where = f"{step.collection}.{field.field}"
            column = columns.get(field.field)
            if column is None:
                found.append(f"{where}: the column does not exist in system '{step.system}' (fix the data map)")
                continue
            length, nullable = column
            if field.strategy == "set_null" and not nullable:
                found.append(
                    f"{where}: set_null on a NOT NULL column; give the field another strategy "
                    "(e.g. random_token) in the data map"
                )
            needed = width(_erasure(field))
            if enforces_width and needed is not None and length is not None and length < needed:
                found.append(
                    f"{where}: {field.strategy} writes {needed} characters into varchar({length}); widen the "
                    "column or give the field a strategy that fits (set_null, or a shorter replacement)"
                )
    return found
