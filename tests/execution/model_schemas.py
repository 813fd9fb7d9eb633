"""Random stores for the model-based test of issue 11: a schema, its Fides-style data map, several people's rows.

``worlds()`` draws a :class:`World`: 2–6 tables with mixed-case names (``Order``
and ``User`` among them: reserved words, quoted by SQLAlchemy), always a root
table whose e-mail is an identity, and around it

* **child** tables holding their owner's ``Id`` (``direction: from``), nested up to
  three deep, some with an e-mail identity of their own;
* **parent** tables a root or child row points at (``direction: to``);
* a **log** without a primary key (found by e-mail, or by its owner's id) and a
  table with a **composite** key, both erased with the collection-level
  ``delete`` override (a composite table without it cannot be rewritten: the
  run must not pretend otherwise);
* a **catalogue** table with no personal data (``skip_processing``), which the
  root points at;
* a second identity kind (``phone_number``, written with separators), nested
  JSON with a personal field, and a column the map does not declare.

E-mails are stored mixed-case and space-padded, phones in several formats of
the same digits. Identity columns a token is written into are either wide
enough (≥ 24, Charter's ``random_token``) or *narrow*: they hold every stored
value but not a token, which a strict store (PostgreSQL, MariaDB) refuses;
SQLite does not enforce widths.

The rows of 3–6 people are generated with their owner, so the model of what is
the target's (:meth:`Realized.mine`) is the ground truth of the generation, not
a second reading of the store. Values are unique per person by construction
(every personal text carries its table, person and row), except by design: a
log row in another spelling of the target's e-mail is the target's; another
person's e-mail may *contain* the target's (``xana1@…`` beside ``ana1@…``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import yaml
from hypothesis import strategies as st
from sqlalchemy import JSON, Column, ForeignKey, Integer, MetaData, String, Table
from sqlalchemy.sql.type_api import TypeEngine

TOKEN = 24  # the length of Charter's random_token, written into identity fields
DATASET = "model_db"
SYSTEM_ID = "model_store"
URL_ENV = "MODEL_STORE_URL"
PHONE_MARKS = " -().+/"

Role = Literal["root", "child", "parent", "log", "composite", "catalogue"]
#: id: the single primary key; seq: the second part of a composite key; owner: the owner row's Id (from);
#: link: a parent row's Id (to); code: the catalogue's key (to); email/phone: identities; text/number: personal;
#: label/plain: not personal; json: nested JSON (a personal field inside); extra: a column the map leaves out
Kind = Literal[
    "id", "seq", "owner", "link", "code", "email", "phone", "text", "number", "label", "plain", "json", "extra"
]
ROOT_NAMES = ("Customer", "AppUser", "User", "MemberAccount")
NAMES: dict[Role, tuple[str, ...]] = {
    "child": ("Order", "Support Ticket", "cardInfo", "order-item", "LoginEvent"),
    "parent": ("ShipAddress", "BillingPlace"),
    "log": ("VisitLog", "auditTrail"),
    "composite": ("PrefsByChannel", "DeviceSlot"),
    "catalogue": ("CountryRef",),
}
TEXT_CATEGORIES = ("user.name", "user.contact.address.street", "user.financial", "user.content")
LOCALS = ("ana", "ben", "eda", "li", "jo_ao", "mia")  # "_" is a LIKE wildcard: never a pattern
CATALOGUE = (("PT", "Portugal"), ("DE", "Germany"), ("BR", "Brasil"))


@dataclass(frozen=True)
class Col:
    name: str
    kind: Kind
    width: int = 0  # varchar width (text-like kinds)
    category: str = "system.operations"
    points_to: str | None = None  # the referenced table (owner, link, code); its key column is Id or Code
    key: bool = False  # part of the primary key
    narrow: bool = False  # an identity column too narrow for a token (its width is set when the values are known)

    @property
    def identity(self) -> str | None:
        return {"email": "email", "phone": "phone_number"}.get(self.kind)


@dataclass(frozen=True)
class Spec:
    name: str
    role: Role
    columns: tuple[Col, ...]
    delete: bool = False  # fides_meta.masking_strategy_override: delete on the collection
    owner: str | None = None  # the table whose rows own this one's (its Id in the owner column)
    unmarked: bool = False  # the store has a primary key the map does not mark (no primary_key: true)

    def col(self, kind: Kind) -> Col | None:
        return next((c for c in self.columns if c.kind == kind), None)


@dataclass(frozen=True)
class Spelling:
    """How one row writes an e-mail: which letters are upper case (cycled), spaces (or ``pad``) around it."""

    upper: tuple[bool, ...]
    left: int
    right: int
    pad: str = " "

    def apply(self, text: str) -> str:
        cased = "".join(c.upper() if self.upper[i % len(self.upper)] else c for i, c in enumerate(text))
        return self.pad * self.left + cased + self.pad * self.right


@dataclass(frozen=True)
class Mail:
    """An e-mail cell before its domain is known (each run gets a domain of its own)."""

    local: str
    spelling: Spelling


@dataclass(frozen=True)
class Person:
    number: int
    local: str  # the e-mail's part before @, already unique among the people
    phone: str | None  # eleven digits


@dataclass
class World:
    """A schema and rows, with each row's owner (a person's number, None for nobody's)."""

    tables: list[Spec]
    people: list[Person]
    target: int
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    owners: dict[str, list[int | None]] = field(default_factory=dict)
    #: the spelling the requester types the e-mail in
    typed: Spelling = Spelling((False,), 0, 0)

    def spec(self, name: str) -> Spec:
        return next(t for t in self.tables if t.name == name)

    def realize(self, domain: str) -> Realized:
        return Realized(self, domain)


class Realized:
    """A world with its domain: the store's tables and rows, the data map, and the model of the target's data."""

    def __init__(self, world: World, domain: str) -> None:
        self.world = world
        self.domain = domain
        values = {
            name: [{k: self._value(v) for k, v in row.items()} for row in rows] for name, rows in world.rows.items()
        }
        self.widths = self._widths(values)
        self.rows = values
        self.metadata = MetaData()
        self.tables: dict[str, Table] = {}
        for spec in world.tables:
            self.tables[spec.name] = Table(spec.name, self.metadata, *[self._column(spec, c) for c in spec.columns])

    # -- the store ---------------------------------------------------------
    def _value(self, value: Any) -> Any:
        if isinstance(value, Mail):
            return value.spelling.apply(f"{value.local}@{self.domain}")
        return value

    def _widths(self, values: dict[str, list[dict[str, Any]]]) -> dict[tuple[str, str], int]:
        """Each text column's width: a narrow identity column holds every value stored but not a token."""
        out = {}
        for spec in self.world.tables:
            for col in spec.columns:
                if col.width or col.narrow:
                    longest = max((len(r[col.name]) for r in values[spec.name] if r.get(col.name)), default=0)
                    width = max(col.width, longest)
                    if col.narrow:
                        width = max(longest, TOKEN - 4)
                    assert not col.narrow or width < TOKEN, (spec.name, col.name, width)
                    out[(spec.name, col.name)] = width
        return out

    def _column(self, spec: Spec, col: Col) -> Column[Any]:
        kind: TypeEngine[Any] | type[TypeEngine[Any]]
        if col.kind == "json":
            kind = JSON
        elif (spec.name, col.name) in self.widths:
            kind = String(self.widths[(spec.name, col.name)])
        else:
            kind = Integer
        args: list[Any] = []
        if col.points_to is not None:
            target = "Code" if col.kind == "code" else "Id"
            args.append(ForeignKey(f"{col.points_to}.{target}"))
        nullable = not col.key and not (spec.role == "root" and col.kind == "email")
        return Column(col.name, kind, *args, primary_key=col.key, autoincrement=False, nullable=nullable)

    # -- the data map ------------------------------------------------------
    def dataset_yaml(self, schema: str | None) -> str:
        collections = [self._collection(spec) for spec in self.world.tables]
        dataset: dict[str, Any] = {
            "fides_key": DATASET,
            "name": "A store drawn by hypothesis",
            "collections": collections,
        }
        if schema:
            dataset["fides_meta"] = {"namespace": {"schema": schema}}
        return yaml.safe_dump({"dataset": [dataset]}, sort_keys=False)

    def _collection(self, spec: Spec) -> dict[str, Any]:
        out: dict[str, Any] = {"name": spec.name, "fields": [self._field(spec, c) for c in spec.columns]}
        out["fields"] = [f for f in out["fields"] if f is not None]
        if spec.delete:
            out["fides_meta"] = {"masking_strategy_override": {"strategy": "delete"}}
        if spec.role == "catalogue":
            out["fides_meta"] = {"skip_processing": True}
        return out

    def _field(self, spec: Spec, col: Col) -> dict[str, Any] | None:
        if col.kind == "extra":
            return None  # in the store, not in the map
        out: dict[str, Any] = {"name": col.name}
        meta: dict[str, Any] = {}
        if col.kind == "json":
            out["fields"] = [
                {"name": "nick", "data_categories": ["user.name"]},
                {"name": "tz", "data_categories": ["system.operations"]},
            ]
            return out
        out["data_categories"] = [col.category]
        if col.key and not spec.unmarked:
            meta["primary_key"] = True
        if col.identity:
            meta["identity"] = col.identity
        if col.points_to is not None:
            direction = "from" if col.kind == "owner" else "to"
            target = "Code" if col.kind == "code" else "Id"
            meta["references"] = [{"dataset": DATASET, "field": f"{col.points_to}.{target}", "direction": direction}]
        if meta:
            out["fides_meta"] = meta
        return out

    def write_map(self, folder: Path, schema: str | None) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "dataset.yml").write_text(self.dataset_yaml(schema))
        system = {"systems": [{"id": SYSTEM_ID, "kind": "sql", "url_env": URL_ENV, "datasets": [DATASET]}]}
        (folder / "system.yml").write_text(yaml.safe_dump(system, sort_keys=False))
        return folder

    # -- the model ---------------------------------------------------------
    @property
    def target_email(self) -> str:
        person = self.world.people[self.world.target - 1]
        return f"{person.local}@{self.domain}"

    @property
    def typed(self) -> str:
        """The target's e-mail as they type it in the request form."""
        return self.world.typed.apply(self.target_email)

    def mine(self, name: str) -> list[dict[str, Any]]:
        """The target's rows of table ``name`` (the generation's ground truth)."""
        owners = self.world.owners[name]
        return [row for row, owner in zip(self.rows[name], owners, strict=True) if owner == self.world.target]

    def theirs(self, name: str) -> list[dict[str, Any]]:
        owners = self.world.owners[name]
        return [row for row, owner in zip(self.rows[name], owners, strict=True) if owner != self.world.target]

    def searched(self) -> list[Spec]:
        """The collections a request reaches: every one but the catalogue (all hang off the root)."""
        return [spec for spec in self.world.tables if spec.role != "catalogue"]

    def declared(self, spec: Spec) -> list[str]:
        return [c.name for c in spec.columns if c.kind != "extra"]

    def found_anything(self) -> bool:
        return any(self.mine(spec.name) for spec in self.searched())

    def erased(self, spec: Spec, row: dict[str, Any]) -> dict[str, Any] | None:
        """What a deletion leaves of one of the target's rows: None (deleted), else the row with identity
        fields as :data:`TOKEN` (a fresh 24-character token) and personal fields null. Keys, references, what is
        not personal, the undeclared column and nested JSON stay (a nested field is left, and warned about)."""
        if spec.delete:
            return None
        out = dict(row)
        for col in spec.columns:
            if col.kind in ("email", "phone") and row[col.name] is not None:
                out[col.name] = TOKEN
            elif col.kind in ("text", "number"):
                out[col.name] = None
        return out

    def identifying(self) -> tuple[set[str], set[str]]:
        """The target's identifying values: (text values folded: e-mail and user.* texts, phone digits)."""
        texts = {self.target_email.lower()}
        phones: set[str] = set()
        for spec in self.searched():
            for row in self.mine(spec.name):
                for col in spec.columns:
                    value = row.get(col.name)
                    if value is None:
                        continue
                    if col.kind in ("email", "text"):
                        texts.add(str(value).strip().lower())
                    elif col.kind == "phone":
                        phones.add(digits(str(value)))
        return texts, phones

    def narrow_hit(self) -> bool:
        """Must a token be written where it does not fit (a narrow identity column of one of the target's rows)?"""
        return any(
            col.narrow and row[col.name] is not None
            for spec in self.searched()
            if not spec.delete
            for row in self.mine(spec.name)
            for col in spec.columns
        )

    def narrow_anywhere(self) -> bool:
        return any(col.narrow for spec in self.searched() if not spec.delete for col in spec.columns)

    def unkeyed_rewrite(self) -> bool:
        """A table whose fields must be rewritten without one key the map marks (a composite key, a key the map
        does not mark): Charter rewrites rows by one key only."""
        return any((spec.role == "composite" or spec.unmarked) and not spec.delete for spec in self.world.tables)

    def features(self) -> list[str]:
        """What this world exercises, for hypothesis' statistics (``--hypothesis-show-statistics``)."""
        tables = self.world.tables
        out = [f"{len(tables)} tables", *sorted({f"has {t.role}" for t in tables[1:]})]
        kinds = {c.kind for t in tables for c in t.columns}
        out += [f"has {k}" for k in ("phone", "json", "link", "extra") if k in kinds]
        out += ["narrow column hit"] if self.narrow_hit() else ["narrow column"] if self.narrow_anywhere() else []
        out += ["rewrite without a marked key"] if self.unkeyed_rewrite() else []
        out += ["target has two accounts"] if len(self.mine(tables[0].name)) == 2 else []
        out += ["target has no rows"] if not self.found_anything() else []
        target = self.world.people[self.world.target - 1].local
        out += ["decoy e-mail"] if any(p.local == "x" + target for p in self.world.people) else []
        return out

    def must_fail(self, strict: bool) -> bool:
        """A deletion that cannot be made right: a token into a narrow column of a strict store, a rewrite
        without a single key."""
        return self.unkeyed_rewrite() or (strict and self.narrow_hit())

    def may_refuse(self, strict: bool) -> bool:
        """A map a careful runner may refuse up front, whatever the data: it holds a column the deletion could
        not write on this store, or a table it could not rewrite."""
        return self.unkeyed_rewrite() or (strict and self.narrow_anywhere())


def digits(text: str) -> str:
    return "".join(ch for ch in text if ch not in PHONE_MARKS)


def phone_format(number: str, style: int) -> str:
    """The same eleven digits as people write them: +1 415 555 0101, +1-415-555-0101, +1 (415) 555.0101, …"""
    c, a, b, d = number[0], number[1:4], number[4:7], number[7:]
    return (f"+{c} {a} {b} {d}", f"+{c}-{a}-{b}-{d}", f"+{c} ({a}) {b}.{d}", f"+{c}{a}{b}{d}")[style % 4]


# -- strategies ------------------------------------------------------------------

spellings = st.builds(
    Spelling,
    upper=st.lists(st.booleans(), min_size=1, max_size=4).map(tuple),
    left=st.integers(0, 1),
    right=st.integers(0, 1),
)


@st.composite
def _people(draw: st.DrawFn) -> tuple[list[Person], int]:
    count = draw(st.integers(3, 6))
    target = draw(st.integers(1, count))
    names = draw(st.lists(st.sampled_from(LOCALS), min_size=count, max_size=count))
    locals_ = [f"{name}{n}" for n, name in enumerate(names, start=1)]
    # another person's e-mail may contain the target's whole: xana1@… is not ana1@…
    decoy = draw(st.sampled_from([n for n in range(1, count + 1) if n != target]))
    if draw(st.booleans()):
        locals_[decoy - 1] = "x" + locals_[target - 1]
    people = []
    for n, local in enumerate(locals_, start=1):
        # distinct digits per person; a neighbour differs from the target's in one digit only
        phone = f"1415555{n:02d}{n % 10}0" if draw(st.booleans()) or n == target else None
        people.append(Person(n, local, phone))
    return people, target


@st.composite
def _schema(draw: st.DrawFn) -> list[Spec]:
    """The tables: a root and 1–5 others, each new one hanging off the tables drawn before it."""
    owners: list[Spec] = []  # root and child tables: they can own rows of others
    root_cols = [
        Col("Id", "id", key=True, category=draw(st.sampled_from(["user.unique_id", "system.operations"]))),
        Col("eMail", "email", width=draw(st.sampled_from([24, 64, 120])), category="user.contact.email"),
        Col("FullName", "text", width=40, category="user.name"),
        Col("Visits", "plain"),
    ]
    if draw(st.booleans()):
        root_cols.append(Col("PhoneNo", "phone", width=32, category="user.contact.phone_number"))
    if draw(st.booleans()):
        root_cols.append(Col("Profile", "json"))
    if draw(st.booleans()):
        root_cols.append(Col("BirthYear", "number", category="user.sensor"))
    root_cols = _maybe_narrow(draw, root_cols)
    tables: list[Spec] = [Spec(draw(st.sampled_from(ROOT_NAMES)), "root", tuple(root_cols))]
    owners.append(tables[0])
    others: list[Role] = ["child", "parent", "log", "composite", "catalogue", "child"]
    roles = draw(st.lists(st.sampled_from(others), min_size=1, max_size=5))
    for index, role in enumerate(roles, start=1):
        if role == "catalogue" and any(t.role == "catalogue" for t in tables):
            role = "child"
        used = {t.name for t in tables}
        name = next(n for n in (*NAMES[role], f"{role.title()}_{index}") if n not in used)
        spec = _table(draw, role, name, owners)
        if role == "parent":  # one or two root or child tables point at it
            for referrer in draw(st.lists(st.sampled_from(owners), min_size=1, max_size=2, unique=True)):
                _replace(tables, owners, referrer, _with(referrer, Col(f"{name}Ref", "link", points_to=name)))
        elif role == "catalogue":  # the root points at it; nothing follows that reference
            _replace(tables, owners, tables[0], _with(tables[0], Col("CountryCode", "code", width=8, points_to=name)))
        elif role == "child":
            owners.append(spec)
        tables.append(spec)
    return tables


def _table(draw: st.DrawFn, role: Role, name: str, owners: list[Spec]) -> Spec:
    owner = draw(st.sampled_from(owners))
    linking = draw(st.sampled_from(["user.unique_id", "system.operations"]))
    if role == "child":
        cols = [
            Col("Id", "id", key=True),
            Col("OwnerId", "owner", points_to=owner.name, category=linking),
            Col("Note", "text", width=60, category=draw(st.sampled_from(TEXT_CATEGORIES))),
            Col("Amount", "plain"),
            Col("Label", "label", width=20),
        ]
        if draw(st.booleans()):
            width = draw(st.sampled_from([24, 80]))
            cols.append(Col("ContactMail", "email", width=width, category="user.contact.email"))
        if draw(st.integers(0, 3)) == 3:
            cols.append(Col("Mobile", "phone", width=32, category="user.contact.phone_number"))
        if draw(st.booleans()):
            cols.append(Col("RowVersion", "extra"))
        unmarked = draw(st.integers(0, 9)) == 9  # now and then the map forgets to mark the key
        return Spec(name, "child", tuple(_maybe_narrow(draw, cols)), owner=owner.name, unmarked=unmarked)
    if role == "parent":
        street = Col("Street", "text", width=60, category="user.contact.address.street")
        return Spec(name, "parent", (Col("Id", "id", key=True), street, Col("Label", "label", width=20)))
    if role == "log":
        if draw(st.booleans()):  # found by e-mail alone
            cols = [Col("Mail", "email", width=64, category="user.contact.email"), Col("SeenAt", "plain")]
            return Spec(name, "log", tuple(cols), delete=True)
        agent = Col("Agent", "text", width=60, category="user.behavior")
        cols = [Col("OwnerId", "owner", points_to=owner.name, category=linking), agent, Col("SeenAt", "plain")]
        return Spec(name, "log", tuple(cols), delete=True, owner=owner.name)
    if role == "composite":
        cols = [
            Col("OwnerId", "owner", points_to=owner.name, key=True),
            Col("Seq", "seq", key=True),
            Col("Setting", "text", width=40, category="user.content"),
        ]
        # mostly deleted whole; now and then left to a rewrite Charter cannot do (no single key)
        delete = draw(st.sampled_from([True, True, True, False]))
        return Spec(name, "composite", tuple(cols), delete=delete, owner=owner.name)
    return Spec(name, "catalogue", (Col("Code", "label", width=8, key=True), Col("Label", "label", width=40)))


def _replace(tables: list[Spec], owners: list[Spec], old: Spec, new: Spec) -> None:
    tables[tables.index(old)] = new
    if old in owners:
        owners[owners.index(old)] = new


def _with(spec: Spec, col: Col) -> Spec:
    return replace(spec, columns=(*spec.columns, col))


def _maybe_narrow(draw: st.DrawFn, cols: list[Col]) -> list[Col]:
    """Now and then one identity column too narrow for a token (it still holds every value stored)."""
    identities = [n for n, c in enumerate(cols) if c.identity]
    if identities and draw(st.integers(0, 2)) == 2:
        n = draw(st.sampled_from(identities))
        c = cols[n]
        cols[n] = Col(c.name, c.kind, 0, c.category, c.points_to, c.key, narrow=True)
    return cols


class _Rows:
    """Rows drawn table by table: each row knows its owner, and a row that points at a parent row makes it."""

    def __init__(self, draw: st.DrawFn, world: World) -> None:
        self.draw = draw
        self.world = world
        self.index = {spec.name: n for n, spec in enumerate(world.tables)}
        for spec in world.tables:
            world.rows[spec.name], world.owners[spec.name] = [], []

    def add(self, spec: Spec, owner: int | None, values: dict[str, Any]) -> dict[str, Any]:
        table = self.world.rows[spec.name]
        row = {"Id": 100 * self.index[spec.name] + len(table) + 1} if spec.col("id") else {}
        person = self.world.people[owner - 1] if owner else None
        for col in spec.columns:
            if col.name in values or col.kind == "id":
                continue
            row[col.name] = self.value(spec, col, person, len(table))
        row.update(values)
        table.append(row)
        self.world.owners[spec.name].append(owner)
        return row

    def value(self, spec: Spec, col: Col, person: Person | None, n: int) -> Any:
        draw: st.DrawFn = self.draw
        tag = f"{self.index[spec.name]}.{person.number if person else 0}.{n}"
        if col.kind == "email":
            assert person is not None
            keep = spec.role == "root" or draw(st.booleans())
            return Mail(person.local, draw(spellings)) if keep else None
        if col.kind == "phone":
            assert person is not None
            return phone_format(person.phone, draw(st.integers(0, 3))) if person.phone else None
        if col.kind == "text":
            return f"{col.name} {tag}" if draw(st.integers(0, 5)) else None
        if col.kind == "number":
            return 1950 + 3 * (person.number if person else 0) + n
        if col.kind == "label":
            return draw(st.sampled_from(["gold", "silver", None]))
        if col.kind == "extra":  # an undeclared column: a number, or text when it has a width
            return f"h{tag}" if col.width else draw(st.integers(0, 9))
        if col.kind == "plain":  # in a table without a key, distinct: two equal rows are a known gap (see tests)
            return n if spec.role == "log" else draw(st.integers(0, 9))
        if col.kind == "json":
            return {"nick": f"nick {tag}", "tz": "UTC"} if draw(st.booleans()) else None
        if col.kind == "code":
            return draw(st.sampled_from([code for code, _ in CATALOGUE] + [None]))
        if col.kind == "link":
            if not draw(st.booleans()):
                return None
            parent = self.world.spec(str(col.points_to))
            owner = person.number if person else None
            rows, owners = self.world.rows[parent.name], self.world.owners[parent.name]
            theirs = [r["Id"] for r, o in zip(rows, owners, strict=True) if o == owner]
            reuse: bool = draw(st.booleans())  # one the same person's other rows already point at
            if theirs and reuse:
                return draw(st.sampled_from(theirs))
            return self.add(parent, owner, {})["Id"]
        raise AssertionError(col.kind)  # owner and seq are given by the caller

    def fill(self) -> None:
        world, draw = self.world, self.draw
        root = world.tables[0]
        catalogue = next((s for s in world.tables if s.role == "catalogue"), None)
        if catalogue is not None:
            for code, label in CATALOGUE:
                self.add(catalogue, None, {"Code": code, "Label": label})
        for person in world.people:
            # the target may have no account, or two (their e-mail in two spellings)
            count = draw(st.sampled_from([1, 2, 0, 1])) if person.number == world.target else 1
            for _ in range(count):
                self.add(root, person.number, {})
        for spec in world.tables[1:]:
            if spec.role in ("child", "composite") or (spec.role == "log" and spec.owner):
                self.owned(spec)
            elif spec.role == "log":
                for person in world.people:
                    for _ in range(draw(st.integers(0, 2))):
                        self.add(spec, person.number, {"Mail": Mail(person.local, draw(spellings))})
            elif spec.role == "parent":
                for _ in range(draw(st.integers(0, 1))):  # nobody points at it
                    self.add(spec, None, {})

    def owned(self, spec: Spec) -> None:
        """0–2 rows per row of the owner table, each with its owner's person."""
        owner = self.world.spec(str(spec.owner))
        for row, person in zip(self.world.rows[owner.name], self.world.owners[owner.name], strict=True):
            for seq in range(1, self.draw(st.integers(0, 2)) + 1):
                values = {"OwnerId": row["Id"]} | ({"Seq": seq} if spec.col("seq") else {})
                self.add(spec, person, values)


@st.composite
def worlds(draw: st.DrawFn) -> World:
    """A schema, its people and their rows (see the module's docstring)."""
    tables = draw(_schema())
    people, target = draw(_people())
    world = World(tables, people, target, typed=draw(spellings))
    _Rows(draw, world).fill()
    return world


def describe(world: World) -> str:
    """The world in a few lines, for a failing example's report."""
    lines = [f"target {world.target} of {len(world.people)}: {world.people}"]
    for spec in world.tables:
        cols = ", ".join(f"{c.name}:{c.kind}{'*' if c.key else ''}{'!' if c.narrow else ''}" for c in spec.columns)
        extra = (" delete" if spec.delete else "") + (" key-unmarked" if spec.unmarked else "")
        lines.append(f"{spec.role} {spec.name}({cols}){extra} owner={spec.owner}")
        for row, owner in zip(world.rows[spec.name], world.owners[spec.name], strict=True):
            lines.append(f"    [{owner}] {json.dumps(row, default=str)}")
    return "\n".join(lines)
