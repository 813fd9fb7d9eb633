"""Proving an erasure against the store, not inferring it from the absence of an error.

The first verification re-ran the discovery with the requested identity. Once
an erase step had rewritten the identity column, that search found nothing,
and passed, whatever the rows now held (issue 11, finding 3): a hash a
non-strict MariaDB session had cut to fit, an e-mail a table-level strategy
had skipped. A ``verify`` step now checks three things by reading the store
again (one query for the three where the connector can, ``connectors.base.find``):

1. **every row the erase step touched, by its key** (the map's primary key,
   all its columns when it is composite; a Redis hash's key): a deleted row
   must be gone; a rewritten row must hold *exactly* what its strategy writes
   in every erased field (recomputed from the stored original: every strategy
   is deterministic), so a truncation or a skipped field fails;
2. **the discovery's own search again** (its inputs): a ``delete_row``
   collection must now have no row matching; a rewritten one only rows it
   touched, as checked in 1;
3. **every identity value discovery found anywhere** (not only the one
   requested: the e-mail on the support ticket, the phone on the account),
   in each identity field of the collection, compared as identities are
   (case-insensitive e-mail, phone by its digits): nothing may be found but
   rows checked in 1.

The summary counts what was checked (``rows_checked``, ``identity_values``);
the certificate lists it. Any failure is :class:`VerificationFailed`: no
certificate, the run fails with the collection named.
"""

from __future__ import annotations

import json
from typing import Any

from charter.connectors.base import Connector, Hit, Read, Wanted, find, match_for, matching
from charter.connectors.redis_keys import KEY
from charter.datamap.check import identity_kind
from charter.datamap.erasure_policy import own_strategy
from charter.datamap.model import CollectionEntry, FieldEntry
from charter.errors import CharterError, Misconfigured
from charter.execution.context import READ_AHEAD, StepContext, declared, search_of, searched
from charter.execution.erasure import plain, plain_row
from charter.execution.steps import Action, Step


class VerificationFailed(CharterError):
    """After erasure, a store still holds rows or values that identify the requester."""

    code = "verification_failed"
    status = 409
    title = "Erasure could not be verified"


def row_key(collection: CollectionEntry, kind: str) -> list[str]:
    """The fields that name a row: a Redis hash's key, else every primary key field the map declares."""
    if kind == "redis":
        return [KEY]
    return [f.column for f in collection.fields.values() if f.top and f.model.meta.primary_key]


def _identity(row: dict[str, Any], key: list[str]) -> str:
    return json.dumps([row.get(k) for k in key] if key else row, sort_keys=True, default=str)


def holds(actual: Any, expected: Any, strategy: str) -> bool:
    """Does the field now hold its erasure? A generalized date matches whatever the store's form of it is."""
    value = plain(actual)
    if strategy == "generalize_date" and isinstance(value, str) and isinstance(expected, str):
        return value[:10] == expected[:10] and value[11:19] in ("", "00:00:00")
    return bool(value == expected)


class Verifier:
    """One ``verify`` step, on the store's connector."""

    def __init__(
        self, step: Step, ctx: StepContext, connector: Connector, where: tuple[str | None, str, str | None]
    ) -> None:
        self.step = step
        self.ctx = ctx
        self.connector = connector
        _, self.table, self.schema = where
        collection = ctx.datamap.collection(step.collection)
        if collection is None:
            raise Misconfigured(f"the data map has no collection '{step.collection}'")
        self.collection: CollectionEntry = collection
        self.kind = ctx.datamap.systems[step.system].model.kind
        self.key = row_key(collection, self.kind)
        self.declared = declared(collection, self.kind)  # the columns the fetch kept (context.declared)
        self.erased = next(s for s in ctx.plan.of(Action.ERASE) if s.collection == step.collection)
        fetch = next(s for s in ctx.plan.of(Action.FETCH) if s.collection == step.collection)
        self.touched = {_identity(r, self.key): r for r in ctx.found(fetch.id).rows}
        self.problems: list[str] = []
        self.checked = 0
        self.searched = 0

    def _judge(self, row: dict[str, Any], how: str) -> None:
        """A row found now that matches the person: only an erased, touched row may be there."""
        ident = _identity(row, self.key)
        original = self.touched.get(ident) if self.key else None
        if self.erased.strategy == "delete_row":
            self.problems.append(f"a row deleted by the erase step is still there ({how})")
            return
        if original is None:
            self.problems.append(f"a row discovery did not see matches the person ({how})")
            return
        pk = original.get(self.key[0]) if len(self.key) == 1 else tuple(original.get(k) for k in self.key)
        expected = self.ctx.strategies.changes(
            self.erased.fields, original, where=(self.ctx.request, self.step.collection, pk)
        )
        if self.kind == "redis":  # a hash field holds text: what the rewrite wrote (``RedisConnector.rewrite``)
            expected = {name: None if value is None else str(value) for name, value in expected.items()}
        wrong = sorted(
            f.field for f in self.erased.fields if not holds(row.get(f.field), expected[f.field], f.strategy)
        )
        if wrong:
            self.problems.append(f"field(s) {', '.join(wrong)} do not hold their erasure ({how})")

    def searches(self) -> list[tuple[str, Wanted]]:
        """What the three checks search for, each named by its check: ``key`` (1), ``input`` (2),
        ``identity`` (3); sent to the store as one query (``connectors.base.find``)."""
        out: list[tuple[str, Wanted]] = []
        if self.key:  # without a key: 2 and 3 still search (delete_row by its inputs); a Redis hash by its key
            first = self.key[0]
            values = list(dict.fromkeys(r.get(first) for r in self.touched.values() if r.get(first) is not None))
            out.append(("key", Wanted(first, values)))
        for wanted in self.step.inputs:
            values, match = search_of(self.ctx, self.step, wanted)
            out.append(("input", Wanted(wanted.field, values, match)))
        known = self.found_identities()
        for entry in self.collection.identities():
            if entry.top and not self._kept(entry):
                kind = identity_kind(entry.model.meta.identity or "")
                self.searched += len(known.get(kind, ()))
                match = match_for(kind)
                values = searched(sorted(known.get(kind, set())), match, self.ctx)
                out.append((f"identity:{kind}", Wanted(entry.column, values, match)))
        return out

    def check(self, searches: list[tuple[str, Wanted]], hits: list[Hit]) -> None:
        """Judge what the searches found. 1: every touched row found by its key holds its erasure (a deleted
        one is gone); 2: a row the discovery's search finds again is a touched, rewritten one; 3: no row holds
        an identity value of the person."""
        seen: set[str] = set()
        for found, matched in hits:
            row = {k: v for k, v in plain_row(found).items() if k in self.declared}
            ident = _identity(row, self.key)
            for index in sorted(matched):
                what, wanted = searches[index]
                if what == "key":
                    if ident in self.touched and ident not in seen:
                        seen.add(ident)
                        self._judge(row, "re-read by its key")
                elif what == "input":
                    if self.erased.strategy == "delete_row" or ident not in self.touched:
                        self._judge(row, f"found again by {wanted.field}")
                else:
                    self.problems.append(f"{wanted.field} still holds the person's {what.split(':', 1)[1]}")
        if searches and searches[0][0] == "key":
            # every touched row was looked up: a deleted one is gone (or judged above), a rewritten one holds
            # its erasure (or was judged), or is gone since, which leaves nothing of the person in it either
            self.checked = len(self.touched)

    def _kept(self, entry: FieldEntry) -> bool:
        """An identity field the map keeps on purpose (``keep`` with a reason) is not expected to change."""
        own = own_strategy(entry)
        return own is not None and own.strategy == "keep"

    def found_identities(self) -> dict[str, set[str]]:
        """The request's identity values and every identity field's value in the rows discovery found: the
        same for every verify step of the run (every fetch is done before the first), so worked out once."""
        known: dict[str, set[str]] | None = self.ctx.memo.get("found_identities")
        if known is None:
            known = self.ctx.memo["found_identities"] = self._found_identities()
        return known

    def _found_identities(self) -> dict[str, set[str]]:
        known: dict[str, set[str]] = {}
        for kind, values in self.ctx.identities.items():
            known.setdefault(identity_kind(kind), set()).update(
                str(v) for v in matching(match_for(identity_kind(kind)), values)
            )
        for fetch in self.ctx.plan.of(Action.FETCH):
            collection = self.ctx.datamap.collection(fetch.collection)
            if collection is None:
                continue
            fields = [(f.column, identity_kind(f.model.meta.identity or "")) for f in collection.identities() if f.top]
            if not fields:
                continue
            for row in self.ctx.found(fetch.id).rows:
                for name, kind in fields:
                    value = row.get(name)
                    if value is not None and value != "":
                        known.setdefault(kind, set()).update(str(v) for v in matching(match_for(kind), [value]))
        return known

    def read(self) -> Read:
        """The three searches as one read (``read_ahead`` sends a layer's reads together)."""
        return Read(self.table, tuple(wanted for _, wanted in self.searches()), self.schema)

    def run(self) -> dict[str, Any]:
        searches = self.searches()
        hits = self.ctx.memo.get(READ_AHEAD, {}).pop(("verify", self.step.id), None)
        if hits is None:
            hits = find(self.connector, self.table, [w for _, w in searches], schema=self.schema)
        self.check(searches, hits)
        if self.problems:
            unique = sorted(set(self.problems))
            raise VerificationFailed(
                f"{self.step.collection} in system '{self.step.system}' still identifies the requester: "
                + "; ".join(unique)
            )
        return {
            "rows": len(self.touched),
            "rows_checked": self.checked,
            "identity_values": self.searched,
            "remaining": 0,
        }
