"""Redis worlds for the model-based test (``test_model_redis.py``): collections of hashes, people, erasure choices.

A world is drawn independent of any prefix; :meth:`World.realize` names its keys under one (the test's
own, plus a tag per example). What is the target's, and what a deletion must leave, is computed here from
the drawn world alone, never by asking Charter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

DATASET = "kv"
SYSTEM = "kv"
URL_ENV = "KV_URL"
#: what each field strategy writes, by shape: (length, alphabet) of a hex token, a constant, or absent
HEX = "0123456789abcdef"
UNDECLARED = "Passwort-Hash"
REDACTED = "(erased)"
TOKEN = 24  # random_token, the default for an identity field
HASH = 32  # keyed_hash

#: field names as people write them: mixed case, dashes, dots, unicode (a dot is part of the name: the map
#: writes nesting with ``fields:``, never with dots; the model once found ``Addr.Line1`` left out)
FIELD_NAMES = [
    "Notes",
    "full-name",
    "Addr-Line1",
    "Addr.Line1",
    "ville",
    "Straße",
    "phone_No",
    "Nick_Name",
    "préférence",
    "X-Tag",
]
IDENTITY_NAMES = ["email", "E-Mail", "contact-Mail", "mél", "contact.mail"]
COLLECTION_NAMES = ["carts", "Profiles", "sessions-v2", "Kundenkörbe", "audit.trail"]
CATEGORIES = ["user.name", "user.content", "user.behavior", "user.contact.address"]
FIELD_STRATEGIES = ["set_null", "keyed_hash", "redact_text"]
#: None: the map says nothing, so the identity takes the policy's default (random_token)
IDENTITY_STRATEGIES = [None, "keyed_hash", "set_null"]


@dataclass(frozen=True)
class Extra:
    name: str
    personal: bool  # a user.* category and erased by ``strategy`` (when the collection is not deleted)
    category: str
    strategy: str


@dataclass(frozen=True)
class Collection:
    name: str
    keyed: bool  # ``{identity}`` in the key pattern; else scanned (``*``) and matched on the identity field
    identity: str
    extras: tuple[Extra, ...]
    delete: bool
    identity_strategy: str | None
    undeclared: bool = False  # each hash also holds a field the map does not declare (a password hash)

    def slug(self, index: int) -> str:
        """The key segment: the name without glob characters or colons, made unique by the index."""
        return f"{self.name.replace('.', '-')}{index}"


@dataclass(frozen=True)
class Spelling:
    """How an e-mail is written in a stored value: case (0 lower, 1 upper, 2 title) and padding."""

    case: int
    left: str
    right: str

    def write(self, email: str) -> str:
        text = email.upper() if self.case == 1 else email.title() if self.case == 2 else email
        return f"{self.left}{text}{self.right}"


PLAIN = Spelling(0, "", "")
spellings = st.builds(Spelling, st.integers(0, 2), st.sampled_from(["", " ", "  "]), st.sampled_from(["", " "]))


@dataclass(frozen=True)
class Hash:
    """One hash: its owner (a person's number, 0 the target), where the e-mail is spelt out, and its values."""

    owner: int
    collection: int
    number: int
    identity_spelling: Spelling
    mail_in: frozenset[str]  # the personal extras that hold the owner's e-mail (some spelling)
    extra_spelling: Spelling


@dataclass
class World:
    collections: list[Collection]
    people: int
    hashes: list[Hash]
    typed: Spelling  # how the target types their e-mail in the request

    def email(self, person: int, domain: str) -> str:
        return f"p{person}.user@{domain}"

    def realize(self, prefix: str, domain: str) -> Realized:
        return Realized(self, prefix, domain)


@dataclass
class Realized:
    """A world under a key prefix: every key and value, and what is the target's."""

    world: World
    prefix: str
    domain: str
    data: dict[str, dict[str, str]] = field(default_factory=dict)
    owner_of: dict[str, Hash] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for h in self.world.hashes:
            spec = self.world.collections[h.collection]
            email = self.world.email(h.owner, self.domain)
            segment = email if spec.keyed else f"h{h.owner}-{h.number}"
            key = f"{self.prefix}:{spec.slug(h.collection)}:{segment}"
            values = {spec.identity: h.identity_spelling.write(email)}
            for extra in spec.extras:
                if extra.name in h.mail_in:
                    values[extra.name] = h.extra_spelling.write(email)
                else:
                    values[extra.name] = f"{extra.name} of {h.owner}/{h.number}: ünï {h.owner * 7 + h.number}"
            if spec.undeclared:
                values[UNDECLARED] = f"pbkdf2${h.owner}${h.number}"
            self.data[key] = values
            self.owner_of[key] = h

    @property
    def target(self) -> str:
        return self.world.email(0, self.domain)

    @property
    def typed(self) -> str:
        return self.world.typed.write(self.target)

    def pattern(self, index: int) -> str:
        spec = self.world.collections[index]
        tail = "{" + spec.identity + "}" if spec.keyed else "*"
        return f"{self.prefix}:{spec.slug(index)}:{tail}"

    def collection_id(self, index: int) -> str:
        return f"{DATASET}.{self.world.collections[index].name}"

    def mine(self, index: int) -> dict[str, dict[str, str]]:
        return {
            k: v for k, v in self.data.items() if self.owner_of[k].owner == 0 and self.owner_of[k].collection == index
        }

    def theirs(self) -> dict[str, dict[str, str]]:
        return {k: v for k, v in self.data.items() if self.owner_of[k].owner != 0}

    def keyed_rewrite(self) -> bool:
        """A collection keyed by the e-mail whose hashes a deletion would rewrite: the map check refuses it."""
        return any(spec.keyed and not spec.delete for spec in self.world.collections)

    def found_anything(self) -> bool:
        return any(self.mine(i) for i in range(len(self.world.collections)))

    def declared(self, index: int) -> set[str]:
        spec = self.world.collections[index]
        return {spec.identity, *(e.name for e in spec.extras)}

    def write_map(self, folder: Path) -> Path:
        """The data map, as the example test writes it (``charter: {key: ...}``), dumped by YAML (odd names)."""
        collections = []
        for index, spec in enumerate(self.world.collections):
            identity: dict[str, Any] = {
                "name": spec.identity,
                "data_categories": ["user.contact.email"],
                "fides_meta": {"identity": "email"},
            }
            if spec.identity_strategy and not spec.delete:
                identity["charter"] = {"erasure": spec.identity_strategy}
            fields = [identity]
            for extra in spec.extras:
                entry: dict[str, Any] = {"name": extra.name, "data_categories": [extra.category]}
                if extra.personal and not spec.delete:
                    entry["charter"] = {"erasure": extra.strategy}
                fields.append(entry)
            charter: dict[str, Any] = {"key": self.pattern(index)}
            if spec.delete:
                charter["erasure"] = "delete_row"
            collections.append({"name": spec.name, "charter": charter, "fields": fields})
        document = {
            "systems": [{"id": SYSTEM, "kind": "redis", "url_env": URL_ENV, "datasets": [DATASET]}],
            "dataset": [{"fides_key": DATASET, "collections": collections}],
        }
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "kv.yaml").write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
        return folder


# -- strategies ---------------------------------------------------------------------


@st.composite
def collections(draw: st.DrawFn, index: int) -> Collection:
    names = draw(st.lists(st.sampled_from(FIELD_NAMES), min_size=1, max_size=4, unique=True))
    identity = draw(st.sampled_from(IDENTITY_NAMES))
    extras = tuple(
        Extra(
            name,
            personal := draw(st.booleans()),
            draw(st.sampled_from(CATEGORIES)) if personal else "system.operations",
            draw(st.sampled_from(FIELD_STRATEGIES)),
        )
        for name in names
        if name != identity
    )
    keyed = draw(st.booleans())
    return Collection(
        name=draw(st.sampled_from(COLLECTION_NAMES)) + str(index),
        keyed=keyed,
        identity=identity,
        extras=extras,
        # a keyed collection rewritten is refused by the map check (the key names the person): drawn rarely
        delete=draw(st.sampled_from([True, True, True, True, False]) if keyed else st.booleans()),
        identity_strategy=draw(st.sampled_from(IDENTITY_STRATEGIES)),
        undeclared=draw(st.booleans()),
    )


@st.composite
def worlds(draw: st.DrawFn) -> World:
    count = draw(st.integers(1, 3))
    specs = [draw(collections(i)) for i in range(count)]
    people = draw(st.integers(2, 6))
    hashes = []
    for owner in range(people):
        for index, spec in enumerate(specs):
            # a keyed collection holds one hash per e-mail; a scanned one any number
            for number in range(draw(st.integers(0, 1 if spec.keyed else 3))):
                personal = [e.name for e in spec.extras if e.personal]
                hashes.append(
                    Hash(
                        owner=owner,
                        collection=index,
                        number=number,
                        # the key is normalized (as promised); the identity field inside spelt any way
                        identity_spelling=draw(spellings),
                        mail_in=frozenset(draw(st.lists(st.sampled_from(personal), unique=True)) if personal else []),
                        extra_spelling=draw(spellings),
                    )
                )
    return World(specs, people, hashes, typed=draw(spellings))
