"""The edge every data store sits behind: the ``Connector`` protocol and what it reports.

A connector reads (for now) one system of the data map: ``ping`` proves it
answers, ``describe`` says what it holds (tables and columns, or key
patterns), ``fetch`` reads the rows whose field holds one of many values, in
chunks, one query per chunk. Drivers' errors are translated here, naming the
system, never its URL: into :class:`charter.errors.Unavailable` when trying
again may work (no answer, a lost connection, a deadlock, a serialization
failure, a statement cancelled by its timeout), into :class:`StoreRefused`
when it will not (a constraint, a bad value, a missing column).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from charter.errors import Conflict, Unavailable

Row = dict[str, Any]
#: How values compare to a field: as they are, or as an identity of that kind is matched (case-insensitive
#: e-mail, phone by its digits), so ``Eduardo@Example.com`` is found for ``eduardo@example.com`` on every store.
Match = Literal["exact", "email", "phone"]
#: What a phone number may be written with besides its digits.
PHONE_MARKS = (" ", "-", "(", ")", ".", "+", "/")


def matching(match: Match, values: Sequence[Any]) -> list[Any]:
    """The values folded as :func:`compared` folds the column (a value that folds to nothing is dropped)."""
    if match == "exact":
        return list(values)
    if match == "email":  # the blanks the store's side trims (connectors.sql.compared), no more
        folded = [str(v).strip(" \t\n\r").lower() for v in values]
    else:
        folded = ["".join(ch for ch in str(v) if ch not in PHONE_MARKS) for v in values]
    return [v for v in folded if v]


def match_for(identity_kind: str | None) -> Match:
    """The way values of an identity kind compare (``exact`` for ids, and for values a reference carries)."""
    if identity_kind == "email":
        return "email"
    if identity_kind == "phone":
        return "phone"
    return "exact"


@dataclass(frozen=True)
class LiveColumn:
    name: str
    type: str  # the store's own type name, lower case: "varchar(320)", "integer", "hash"
    nullable: bool = True
    primary_key: bool = False
    #: computed by the store (a generated column): it cannot be written
    generated: bool = False

    @property
    def family(self) -> str:
        """text, integer, number, boolean, date, datetime, binary, json or other."""
        return type_family(self.type)


@dataclass(frozen=True)
class LiveCollection:
    """A table (SQL) or a key pattern (Redis) as the store has it."""

    name: str
    columns: dict[str, LiveColumn] = field(default_factory=dict)
    #: (column, referred table, referred column) for SQL foreign keys
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    #: each SQL index as the text of what it indexes, lower case, without spaces or quotes:
    #: ``email``, ``lower(trim(email))``, ``a,b`` (the live check looks for one serving the folded matches)
    indexes: tuple[str, ...] = ()


@dataclass(frozen=True)
class LiveSchema:
    system: str
    collections: dict[str, LiveCollection] = field(default_factory=dict)


@runtime_checkable
class Connector(Protocol):
    """One system of the data map, reachable."""

    system_id: str

    def ping(self) -> None:
        """Return if the store answers within the connect timeout; raise Unavailable otherwise."""

    def describe(self, *, schema: str | None = None) -> LiveSchema:
        """What the store holds now (in ``schema``, for SQL stores that have several)."""

    def fetch(
        self, collection: str, field: str, values: Sequence[Any], *, schema: str | None = None, match: Match = "exact"
    ) -> Iterator[list[Row]]:
        """Rows of ``collection`` whose ``field`` is one of ``values``, a chunk of rows per query; ``match``
        says how an identity compares (``email``: case and surrounding spaces ignored; ``phone``: digits)."""

    def close(self) -> None:
        """Release connections."""


@runtime_checkable
class Writer(Protocol):
    """A connector that can also change rows: erase (delete or rewrite) and correct.

    Each call is one transaction on the store, one statement per chunk of
    rows (never one per row), values always bound as parameters.
    """

    def delete(
        self, collection: str, field: str, values: Sequence[Any], *, schema: str | None = None, match: Match = "exact"
    ) -> int:
        """Delete the rows whose ``field`` is one of ``values`` (compared as ``match`` says); return how many."""

    def rewrite(
        self, collection: str, key: str, changes: Sequence[tuple[Any, Mapping[str, Any]]], *, schema: str | None = None
    ) -> int:
        """Set, for each (primary key value, {field: new value}), those fields of that row; return rows changed.

        Every mapping must name the same fields (one statement shape per call).
        """


@dataclass(frozen=True)
class Wanted:
    """One condition of a search: ``field`` is one of ``values``, compared as ``match`` says."""

    field: str
    values: Sequence[Any]
    match: Match = "exact"


#: A row a search found, with the indexes of the conditions (``Wanted``) it matched.
Hit = tuple[Row, frozenset[int]]


@runtime_checkable
class Searcher(Protocol):
    """A connector that matches several conditions in one query (:func:`find` falls back to one each)."""

    def find(self, collection: str, wanted: Sequence[Wanted], *, schema: str | None = None) -> Iterator[list[Hit]]:
        """Rows matching any of ``wanted``, each with the conditions it matched, a chunk per query."""


def find(connector: Connector, collection: str, wanted: Sequence[Wanted], *, schema: str | None = None) -> list[Hit]:
    """Rows of ``collection`` matching any of ``wanted``, each with the indexes of the conditions it matched:
    one query per chunk where the connector can (a verification's three searches are one round trip, not
    three), else a fetch per condition. A row several conditions find may come once or once per condition."""
    if isinstance(connector, Searcher):
        return [hit for chunk in connector.find(collection, wanted, schema=schema) for hit in chunk]
    hits: list[Hit] = []
    for index, one in enumerate(wanted):
        if one.values:
            for chunk in connector.fetch(collection, one.field, one.values, schema=schema, match=one.match):
                hits.extend((row, frozenset({index})) for row in chunk)
    return hits


@dataclass(frozen=True)
class Read:
    """One read of several sent together (``Pipelined``): rows of ``collection`` matching any of ``wanted``."""

    collection: str
    wanted: tuple[Wanted, ...]
    schema: str | None = None


@runtime_checkable
class Pipelined(Protocol):
    """A connector that sends several reads in one round trip (a layer of a run's fetches, its verifications)."""

    def read_many(self, reads: Sequence[Read]) -> list[list[Hit]] | None:
        """Each read's hits, in order; None when it cannot now (the caller then reads one by one)."""


class Miscounted(Conflict):
    """A queued write (``begin(queued=True)``) changed another number of rows than the discovery found: the unit
    was rolled back, nothing of it holds; write the batch again one statement at a time."""

    code = "miscounted"


@runtime_checkable
class Transactional(Protocol):
    """A writer whose writes can share one store transaction: a runner's batch of erase steps is one commit
    on the store (one WAL flush, not one per statement), and a batch that fails half-way changes nothing."""

    def begin(self, *, queued: bool = False) -> None:
        """Until :meth:`commit` or :meth:`rollback`, every write of this connector goes in one transaction.
        ``queued``: writes by primary key may wait and go together at the commit, where a count that is not
        the expected one raises :class:`Miscounted` (a store that cannot queue ignores it)."""

    def send_queued(self) -> None:
        """Send the writes ``queued`` so far (Miscounted if a count is not the one expected); nothing to do for
        a store that does not queue. ``Units`` sends every store's before any commits."""

    def commit(self) -> None:
        """Make the writes since :meth:`begin` durable; raise as a write would if the store refuses."""

    def rollback(self) -> None:
        """Undo the writes since :meth:`begin` (a lost connection has undone them already); never raises."""


_FAMILIES = (
    ("datetime", ("timestamp", "datetime")),
    ("date", ("date",)),
    ("boolean", ("bool",)),
    ("integer", ("int", "serial")),
    ("number", ("numeric", "decimal", "float", "double", "real", "money")),
    ("json", ("json",)),
    ("binary", ("blob", "bytea", "binary")),
    ("text", ("char", "text", "string", "clob", "uuid", "enum", "citext")),
)


def type_family(type_name: str) -> str:
    name = type_name.lower()
    for family, markers in _FAMILIES:
        if any(marker in name for marker in markers):
            return family
    return "other"


def unavailable(system_id: str, exc: BaseException, *, secret: str | None = None) -> Unavailable:
    """Our error for a driver's: names the system and the failure, never the URL or its password."""
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if secret:
        reason = reason.replace(secret, "***")
    reason = reason[:300]
    return Unavailable(f"system '{system_id}' is unavailable: {type(exc).__name__}: {reason}")


class StoreRefused(Conflict):
    """The store answered and refused the statement: trying again would fail the same way."""

    code = "store_refused"
    title = "A data store refused a change"


def refused(
    system_id: str, exc: BaseException, *, sqlstate: str | None = None, reason: str | None = None
) -> StoreRefused:
    """Our error for a refusal. Only the error's class and SQLSTATE (and, for the errors a connector knows,
    ``reason``: what to fix, in Charter's words): a refusal's message can quote the row's values (MariaDB's
    "Duplicate entry 'ana@…'"), and this text reaches the console and the log."""
    code = f" (SQLSTATE {sqlstate})" if sqlstate else ""
    if reason:
        number = "" if not sqlstate else f", {'error' if sqlstate.isdigit() else 'SQLSTATE'} {sqlstate}"
        return StoreRefused(f"system '{system_id}': {reason} ({type(exc).__name__}{number})")
    return StoreRefused(f"system '{system_id}' refused the statement: {type(exc).__name__}{code}")
