"""Unmapped data: what a store holds that looks personal but that no dataset describes.

A requester's data in such a place is missed by an access request (P-RGT-1)
and survives a deletion (P-RGT-3), so the live check names it, as a warning:
tables and columns of mapped schemas the map leaves out, and tables of every
other schema the store's user can see (a ``backup_schema.customer`` full of
e-mail addresses). Names are read in any style (``email_address``,
``EmailAddress``, ``e-mail``, ``DOB``, ``ipAddr``): split into words, then
matched, alone and joined with their neighbours, against a vocabulary.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from charter.connectors import LiveSchema
from charter.connectors.redis_keys import glob_of, shape_of
from charter.datamap.findings import Finding, warning
from charter.datamap.model import CollectionEntry, SystemEntry

#: Words (and words run together, separators dropped) that name personal data.
PERSONAL_WORDS = frozenset(
    {
        # contact
        "email", "mail", "emailaddress", "mailaddress", "phone", "phonenumber", "telephone", "mobile",
        "mobilenumber", "msisdn",
        # names
        "name", "firstname", "lastname", "fullname", "surname", "givenname", "familyname", "middlename",
        # places
        "address", "addr", "street", "streetaddress", "postcode", "postalcode", "zip", "zipcode",
        # birth
        "birth", "birthday", "birthdate", "dateofbirth", "dob",
        # network and devices
        "ip", "ipaddr", "ipaddress", "deviceid", "cookieid", "clientid",
        # documents and money
        "ssn", "socialsecurity", "socialsecuritynumber", "passport", "iban", "cardnumber",
        # identifiers of a person
        "userid", "customerid", "accountid", "personid",
    }
)  # fmt: skip
#: the longest run of words joined in PERSONAL_WORDS ("social security number", "date of birth")
LONGEST_RUN = 3
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def words(name: str) -> list[str]:
    """``EmailAddress``, ``email_address``, ``e-mail``, ``IPAddress``, ``Date of Birth`` → lower-case words."""
    return [w.lower() for w in _WORD.findall(name)]


def looks_personal(name: str) -> bool:
    split = words(name)
    for start in range(len(split)):
        for end in range(start + 1, min(start + LONGEST_RUN, len(split)) + 1):
            if "".join(split[start:end]) in PERSONAL_WORDS:
                return True
    return False


@runtime_checkable
class SchemaLister(Protocol):
    """A connector that can say which schemas its user sees (``SqlConnector``)."""

    def schemas(self) -> list[str]: ...

    def default_schema(self) -> str | None: ...

    def describe(self, *, schema: str | None = None) -> LiveSchema: ...


def other_schemas(connector: SchemaLister, mapped: Iterable[str | None]) -> list[str]:
    """Every schema the store's user sees that holds no mapped dataset."""
    default = connector.default_schema()
    taken = {default if name is None else name for name in mapped}
    return [name for name in connector.schemas() if name not in taken]


def in_mapped_schema(system: SystemEntry, collections: list[CollectionEntry], live: LiveSchema) -> list[Finding]:
    """Tables the map leaves out of a schema it maps, and columns it leaves out of tables it maps."""
    where = system.where
    by_name = {c.name: c for c in collections}
    findings: list[Finding] = []
    if system.model.kind == "redis":
        globs = [glob_of(c.model.charter.key) for c in collections if c.model.charter and c.model.charter.key]
        for name in sorted(live.collections):
            if not any(fnmatch.fnmatchcase(name, g) or shape_of(g) == name for g in globs):
                message = f"keys '{name}' in '{system.id}' are not in the data map"
                findings.append(warning(where.problem(message, "datasets")))
        return findings
    for name, table in sorted(live.collections.items()):
        personal = sorted(c for c in table.columns if looks_personal(c))
        entry = by_name.get(name)
        if entry is None:
            if personal:
                message = (
                    f"unmapped data: table '{name}' in '{system.id}' is not in the data map and has columns "
                    f"that look personal ({', '.join(personal)})"
                )
                findings.append(warning(where.problem(message, "datasets")))
            continue
        if entry.model.meta.skip_processing:
            continue  # the map says it holds nothing Charter processes
        missing = [c for c in personal if entry.column(c) is None]
        if missing:
            message = f"unmapped data: columns of '{name}' that look personal are not in the map ({', '.join(missing)})"
            findings.append(warning(entry.where.problem(message, "fields")))
    return findings


def in_other_schema(system: SystemEntry, schema: str, live: LiveSchema) -> list[Finding]:
    """Tables with personal-looking columns in a schema no dataset maps."""
    findings = []
    for name, table in sorted(live.collections.items()):
        personal = sorted(c for c in table.columns if looks_personal(c))
        if personal:
            message = (
                f"unmapped data: table '{schema}.{name}' in '{system.id}' is in a schema no dataset maps and has "
                f"columns that look personal ({', '.join(personal)}); map it, or give the store's user no access "
                "to that schema"
            )
            findings.append(warning(system.where.problem(message, "datasets")))
    return findings
