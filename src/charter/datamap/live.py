"""Live checks: the data map compared with what each system holds now.

For each system: can it be reached; does each collection's table (or key
pattern) exist with each field's column; would each erasure strategy work
on the live column; do foreign keys exist that the map does not follow; and
do tables or columns that look like personal data sit outside the map
("unmapped data", :mod:`charter.datamap.unmapped`, in every schema the
store's user sees). Column fits are :mod:`charter.datamap.live_fit`.
Findings point at the line of the map they are about.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from charter.connectors import Connector, LiveCollection, LiveSchema, connector_for
from charter.connectors.base import Match, match_for
from charter.connectors.folding import folded_index
from charter.connectors.redis_keys import KEY, glob_of, shape_of
from charter.datamap import live_fit, unmapped
from charter.datamap.erasure_policy import Resolver, collection_strategy
from charter.datamap.findings import Finding, drift, note, warning
from charter.datamap.identities import identity_kind
from charter.datamap.model import CollectionEntry, DataMap, FieldEntry, SystemEntry
from charter.datamap.paths import reference_path
from charter.datamap.references import references, through
from charter.datamap.unmapped import SchemaLister
from charter.errors import CharterError
from charter.settings import ConnectorSettings


def resolve_url(system: SystemEntry, env: Mapping[str, str], home: Path) -> str:
    """The system's URL: from its environment variable, or a literal SQLite URL (relative to CHARTER_HOME)."""
    model = system.model
    if model.url_env is not None:
        value = env.get(model.url_env, "")
        if not value:
            raise CharterError(f"the environment variable {model.url_env} is not set")
        return value
    assert model.url is not None  # the schema demands one of the two
    try:
        url = make_url(model.url)
    except ArgumentError:
        raise CharterError("the url is not a SQLAlchemy URL") from None
    database = url.database or ""
    if database and database != ":memory:" and not Path(database).is_absolute():
        url = url.set(database=str((home / database).resolve()))
    return url.render_as_string(hide_password=False)


class LiveChecker:
    def __init__(self, datamap: DataMap, settings: ConnectorSettings, env: Mapping[str, str], home: Path) -> None:
        self.map = datamap
        self.settings = settings
        self.env = env
        self.home = home
        self.findings: list[Finding] = []
        self.checked: list[str] = []
        #: fields references go through: a collection's strategy leaves them alone, as the planner does
        self.through = through(references(datamap))
        #: what a deletion writes into each field: the planner's own resolver (charter.datamap.erasure_policy)
        self.resolver = Resolver(datamap)

    def run(self) -> list[Finding]:
        for system in self.map.systems.values():
            self._system(system)
        return self.findings

    def _system(self, system: SystemEntry) -> None:
        try:
            url = resolve_url(system, self.env, self.home)
        except CharterError as exc:
            where = "url_env" if system.model.url_env else "url"
            self.findings.append(drift(system.where.problem(f"system '{system.id}': {exc.detail}", where)))
            return
        connector: Connector | None = None
        try:
            connector = connector_for(system.model.kind, system.id, url, self.settings)
            connector.ping()
            schemas: dict[str | None, LiveSchema] = {}
            for dataset in self.map.datasets_of(system.id):
                schema = dataset.model.schema_name
                if schema not in schemas:
                    schemas[schema] = connector.describe(schema=schema)
                for collection in dataset.collections.values():
                    if system.model.kind == "redis":
                        self._redis_collection(system, collection, schemas[schema])
                    else:
                        self._sql_collection(system, collection, schemas[schema], widths=_enforces_width(url))
            others = self._other_schemas(system, connector, schemas)
        except CharterError as exc:
            self.findings.append(drift(system.where.problem(exc.detail, "id")))
            return
        finally:
            if connector is not None:
                connector.close()
        self.checked.append(system.id)
        for schema, live in schemas.items():
            mapped = [
                c
                for d in self.map.datasets_of(system.id)
                if d.model.schema_name == schema
                for c in d.collections.values()
            ]
            self.findings += unmapped.in_mapped_schema(system, mapped, live)
        for name, live in sorted(others.items()):
            self.findings += unmapped.in_other_schema(system, name, live)

    def _other_schemas(
        self, system: SystemEntry, connector: Connector, mapped: dict[str | None, LiveSchema]
    ) -> dict[str, LiveSchema]:
        """The schemas no dataset maps, described; one that cannot be read is a warning, not a failed system."""
        if not isinstance(connector, SchemaLister):
            return {}
        described = {}
        for name in unmapped.other_schemas(connector, mapped):
            try:
                described[name] = connector.describe(schema=name)
            except CharterError as exc:
                message = f"schema '{name}' in '{system.id}' could not be read for unmapped data: {exc.detail}"
                self.findings.append(warning(system.where.problem(message, "datasets")))
        return described

    # -- SQL ---------------------------------------------------------------
    def _sql_collection(
        self, system: SystemEntry, collection: CollectionEntry, live: LiveSchema, *, widths: bool
    ) -> None:
        table = live.collections.get(collection.name)
        if table is None:
            close = difflib.get_close_matches(collection.name, list(live.collections), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            message = f"table '{collection.name}' does not exist in system '{system.id}'{hint}"
            self.findings.append(drift(collection.where.problem(message, "name")))
            return
        for field in collection.fields.values():
            if not field.top:
                continue  # nested fields live inside a JSON column; the column is checked
            if field.column not in table.columns:
                close = difflib.get_close_matches(field.column, list(table.columns), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                message = f"column '{field.column}' is missing from table '{collection.name}' in '{system.id}'{hint}"
                self.findings.append(drift(field.where.problem(message, "name")))
        deleted = {c.name for c in self.map.datasets[collection.dataset].collections.values() if _deletes_rows(c)}
        referred = live_fit.referring(live, collection.name, deleted)
        self.findings += live_fit.check_table(
            system, collection, table, self.through, self.resolver, widths=widths, referred=referred
        )
        self._foreign_keys(collection, table)
        self._folded_indexes(system, collection, table)

    def _folded_indexes(self, system: SystemEntry, collection: CollectionEntry, table: LiveCollection) -> None:
        """A note where an identity column is matched folded (e-mail: ``lower(trim(c))``, phone: digits) and no
        index serves that comparison: fine on a small table, a full scan per request on a large one."""
        if collection.model.meta.skip_processing:
            return
        for entry in collection.identities():
            kind = identity_kind(entry.model.meta.identity or "")
            match = match_for(kind)
            column = entry.column
            if match == "exact" or not entry.top or column not in table.columns:
                continue
            dialect = system_dialect(system, self.env)
            if any(_serves(index, column, match, dialect) for index in table.indexes):
                continue
            how = "case and surrounding spaces ignored" if match == "email" else "digits only"
            hint = _index_hint(dialect, collection.name, column, match)
            article = "an" if kind[:1] in ("a", "e", "i", "o", "u") else "a"
            message = (
                f"'{collection.name}.{column}' is matched as {article} {kind} ({how}); no index serves that "
                f"comparison, so each request reads the whole table. {hint}"
            )
            self.findings.append(note(entry.where.problem(message, "name")))

    def _foreign_keys(self, collection: CollectionEntry, table: LiveCollection) -> None:
        """Live foreign keys between mapped tables that no reference of the map follows."""
        dataset = self.map.datasets[collection.dataset]
        unfollowed = set((collection.model.charter.unfollowed if collection.model.charter else None) or [])
        for column, referred_table, referred_column in table.foreign_keys:
            target = dataset.collections.get(referred_table)
            if target is None:
                continue
            here = collection.column(column)
            there = target.column(referred_column)
            if here is None or there is None or column in unfollowed:
                continue
            if _linked(here, there) or _linked(there, here):
                continue
            message = (
                f"foreign key {collection.name}.{column} → {referred_table}.{referred_column} is not a reference "
                "in the map; requests will not follow it: add a reference, or list the field in the collection's "
                "charter.unfollowed if that is deliberate"
            )
            self.findings.append(warning(here.where.problem(message, "name")))

    # -- Redis -------------------------------------------------------------
    def _redis_collection(self, system: SystemEntry, collection: CollectionEntry, live: LiveSchema) -> None:
        pattern = collection.model.charter.key if collection.model.charter else None
        if pattern is None:
            return  # a static error already
        shape = live.collections.get(shape_of(glob_of(pattern)))
        if shape is None:
            message = f"no keys match '{glob_of(pattern)}' in '{system.id}' now (sampled)"
            self.findings.append(warning(collection.where.problem(message, "charter", "key")))
            return
        kind = shape.columns[KEY].type if KEY in shape.columns else "hash"
        if kind != "hash":
            message = f"keys matching '{glob_of(pattern)}' are {kind}s; Charter reads hashes"
            self.findings.append(drift(collection.where.problem(message, "charter", "key")))


def _deletes_rows(collection: CollectionEntry) -> bool:
    whole = collection_strategy(collection)
    return whole is not None and whole.strategy == "delete_row"


def _enforces_width(url: str) -> bool:
    """SQLite stores any length of text whatever the declared varchar width."""
    try:
        return make_url(url).get_backend_name() != "sqlite"
    except ArgumentError:
        return True


def _linked(a: FieldEntry, b: FieldEntry) -> bool:
    return any(
        r.dataset == b.dataset and reference_path(r.field) == (b.collection, *b.path)
        for r in (a.model.meta.references or [])
    )


def _serves(index: str, column: str, match: str, dialect: str) -> bool:
    """Does an index (as ``LiveCollection.indexes`` writes it) hold the expression Charter compares by?"""
    column = column.lower()
    if column not in index:
        return False
    if match == "email":  # PostgreSQL trims with btrim(c, E' \t\n\r'); SQLite with trim(c, ' ' || char(9) …)
        marker = "btrim(" if dialect == "postgresql" else "char(13)"
        return index.startswith("lower(") and marker in index and "," not in index.split(")")[-1]
    return index.startswith("replace(")


def _index_hint(dialect: str, table: str, column: str, match: Match) -> str:
    statement = folded_index(dialect, table, column, match)
    if statement is None:
        return (
            "MariaDB cannot index an expression: keep the values normalized (trimmed, lower case) in the column "
            "instead, or accept the scan"
        )
    return f"On a large table: {statement}"


def system_dialect(system: SystemEntry, env: Mapping[str, str]) -> str:
    """The store's SQL dialect from its URL's scheme (``postgresql``, ``mysql``, ``sqlite``), without connecting."""
    url = system.model.url or env.get(system.model.url_env or "", "")
    scheme = url.split(":", 1)[0].split("+", 1)[0].lower()
    return "mysql" if scheme in ("mysql", "mariadb") else scheme


def check_live(
    datamap: DataMap, settings: ConnectorSettings, env: Mapping[str, str], home: Path
) -> tuple[list[Finding], list[str]]:
    """Findings, and the ids of the systems that could be checked."""
    checker = LiveChecker(datamap, settings, env, home)
    return checker.run(), checker.checked
