"""The model-based test of privacy requests on Redis stores, checked with a raw redis-py client.

Hypothesis draws a Redis "world" (``model_redis.worlds``) under the test's own key prefix: 1–3
collections of hashes, each keyed by the e-mail (``PREFIX:carts0:{email}``) or scanned
(``PREFIX:carts0:*``, matched on the identity field), with 1–4 more fields named as people name them
(mixed case, dashes, unicode; dots in collection and field names), personal (a ``user.*`` category) or
not; 2–6 people, each with 0–3 hashes per collection (at most one in a keyed collection: its key is the
e-mail); the target's e-mail spelt in several ways inside hash fields; an erasure per collection
(``delete_row``, or field strategies ``set_null``/``keyed_hash``/``redact_text`` on the personal fields
and the identity field always erased: its default ``random_token``, ``keyed_hash`` or ``set_null``).
Other people share nothing with the target. The target asks for access, then for deletion, through the
real :class:`Runner`.

What is generated is what Charter promises for Redis, no more (docs/guide/datamap.md: "In Redis a key is
looked up as given and in its normalized form (trimmed, lower case): keep e-mail keys normalized"). So a
key always holds the normalized e-mail, while the identity field inside a hash, keyed or scanned, is
spelt any way (upper, title case, spaces around): a scanned hash's field is compared as an e-mail is
everywhere (trimmed, lower case) since the model found the bytes compared; personal fields hold the
e-mail in any spelling too. The request itself is typed in any spelling (intake normalizes it).

What the store holds is read with redis-py (``HGETALL``, ``SCAN``), never with Charter's connector:

* access (P-RGT-1): the package holds, for every collection, exactly the target's hashes, on the
  fields the map declares; the store is unchanged;
* deletion (P-RGT-3): every other person's hash is byte-identical and no key appears or goes; each of
  the target's keys in a ``delete_row`` collection is gone, each other one holds exactly its erasure
  (a token of 24 hex characters, a keyed hash of 32, ``(erased)``, the field gone for ``set_null``,
  non-personal fields as they were); no hash value equal (trimmed, case-insensitively) to the target's
  e-mail and no key naming it remains under the prefix; the certificate says ``erased`` and
  ``verified`` exactly then, ``no_record_found`` (never verified) when the target had no hash, and
  counts every one of the target's hashes as read again by its key (``rows_checked``).

A collection keyed by the e-mail and erased field by field (its key would still spell the address) is
refused when the map is loaded; the model draws it now and then and expects that refusal. What the model
found is kept at the end: that refusal (before it, every such deletion failed after rewriting the hash);
an e-mail spelt otherwise in a scanned hash, missed by a verified deletion (compared as bytes before);
and a field whose own name holds a dot (``Addr.Line1``), once taken for a path into a nested field and
left out of the package (the loader now records nesting from the YAML, never from dots in a name).

More examples: ``CHARTER_MODEL_EXAMPLES=200``; what they exercised: ``--hypothesis-show-statistics``.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import event as hypothesis_event
from hypothesis.control import currently_in_test_context

from charter.datamap import paths
from charter.datamap.errors import DatamapInvalid
from charter.db import Database
from charter.errors import NotFound
from charter.execution import service
from charter.execution.certificate import certificate_of
from charter.execution.runner import Runner
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import approved, package_collections
from tests.execution.model_redis import (
    HASH,
    HEX,
    PLAIN,
    REDACTED,
    TOKEN,
    UNDECLARED,
    URL_ENV,
    Collection,
    Extra,
    Hash,
    Realized,
    Spelling,
    World,
    worlds,
)

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)
#: examples; CHARTER_MODEL_EXAMPLES=200 explores further (each example is a prefix of its own)
EXAMPLES = int(os.environ.get("CHARTER_MODEL_EXAMPLES") or 15)
Snapshot = dict[str, dict[str, str]]


@contextmanager
def store(url: str, realized: Realized) -> Iterator[redis.Redis]:
    """The world's hashes written under its prefix with redis-py; every key under the prefix deleted after."""
    client = redis.Redis.from_url(url, decode_responses=True)
    try:
        pipe = client.pipeline(transaction=False)
        for key, values in realized.data.items():
            pipe.hset(key, mapping=values)
        pipe.execute()
        yield client
    finally:
        for key in client.scan_iter(match=f"{realized.prefix}:*", count=500):
            client.delete(key)
        client.close()


def snapshot(client: redis.Redis, prefix: str) -> Snapshot:
    """Every key under the prefix with its hash, read by SCAN and HGETALL (not by Charter)."""
    return {key: client.hgetall(key) for key in client.scan_iter(match=f"{prefix}:*", count=500)}


def _package(database: Database, config: Settings, vault: Vault, public_id: str) -> dict[str, list[dict[str, Any]]]:
    return package_collections(database, config.home, vault, public_id)


def _certificate(database: Database, public_id: str) -> dict[str, Any] | None:
    try:
        return certificate_of(database, public_id)
    except NotFound:
        return None


def _runner(database: Database, config: Settings, vault: Vault, url: str, folder: Path) -> Runner:
    datamap = service.load_datamap(config, folder)
    return Runner(database, config, vault, datamap, env={URL_ENV: url}, sleep=lambda _s: None)


def event(value: str) -> None:
    """Hypothesis' statistics, when a drawn example runs (the hand-written ones call the same checks)."""
    if currently_in_test_context():
        hypothesis_event(value)


def _hex(value: str | None, length: int, original: str) -> bool:
    return value is not None and len(value) == length and set(value) <= set(HEX) and value != original


# -- the checks --------------------------------------------------------------------


def check_access(realized: Realized, found: dict[str, list[dict[str, Any]]]) -> None:
    """P-RGT-1: every collection is in the package with exactly the target's hashes, on the declared fields."""
    count = len(realized.world.collections)
    assert set(found) == {realized.collection_id(i) for i in range(count)}
    for index in range(count):
        rows = found[realized.collection_id(index)]
        declared = realized.declared(index)
        assert all(declared <= set(row) <= declared | {"_key"} for row in rows), (index, rows)
        got = sorted(json.dumps({k: row[k] for k in declared}, sort_keys=True) for row in rows)
        mine = realized.mine(index).values()
        want = sorted(json.dumps({k: values[k] for k in declared}, sort_keys=True) for values in mine)
        assert got == want, realized.collection_id(index)


def erasure_faults(realized: Realized, after: Snapshot) -> list[str]:
    """P-RGT-3: what in ``after`` is not the model's after-state of a deletion (empty: all is right)."""
    faults = []
    target = realized.target
    for key, values in realized.theirs().items():
        if after.get(key) != values:
            faults.append(f"another person's hash changed: {key}: {after.get(key)} != {values}")
    for index, spec in enumerate(realized.world.collections):
        for key, original in realized.mine(index).items():
            now = after.get(key)
            if spec.delete:
                if now is not None:
                    faults.append(f"not deleted: {key}")
                continue
            kinds = {spec.identity: spec.identity_strategy or "random_token"}
            kinds |= {extra.name: extra.strategy if extra.personal else "keep" for extra in spec.extras}
            if spec.undeclared:
                kinds[UNDECLARED] = "keep"
            expected_fields = {name for name, kind in kinds.items() if kind != "set_null"}
            if not expected_fields:  # every field removed (HDEL): Redis drops an empty hash, which is then gone
                if now is not None:
                    faults.append(f"an emptied hash remains: {key}: {now}")
                continue
            if now is None:
                faults.append(f"deleted, not rewritten: {key}")
                continue
            if set(now) != expected_fields:
                faults.append(f"{key}: fields {sorted(now)} != {sorted(expected_fields)}")
            for name, kind in kinds.items():
                value, before = now.get(name), original[name]
                right = {
                    "random_token": lambda v, b: _hex(v, TOKEN, b),
                    "keyed_hash": lambda v, b: _hex(v, HASH, b),
                    "redact_text": lambda v, b: v == REDACTED,
                    "set_null": lambda v, b: v is None,
                    "keep": lambda v, b: v == b,
                }[kind](value, before)
                if not right:
                    faults.append(f"{key}.{name}: {kind} left {value!r} (was {before!r})")
    for key, values in after.items():
        if key not in realized.data:
            faults.append(f"a key appeared: {key}")
        if target in key.lower():
            faults.append(f"a key names the target: {key}")
        for name, value in values.items():
            if value.strip().lower() == target:
                faults.append(f"the target's e-mail remains: {key}.{name} = {value!r}")
    return faults


def check_certificate(realized: Realized, document: dict[str, Any]) -> None:
    """P-RGT-3: the certificate says what was found, how each collection was erased, field by field, and that
    each of the target's hashes was read again by its key (``rows_checked``)."""
    mine = {realized.collection_id(i): len(realized.mine(i)) for i in range(len(realized.world.collections))}
    assert {s["collection"]: s["rows_found"] for s in document["searched"]} == mine
    done = {c["collection"]: c for c in document["collections"]}
    assert set(done) == set(mine)
    for index, spec in enumerate(realized.world.collections):
        entry = done[realized.collection_id(index)]
        assert entry["rows_matched"] == len(realized.mine(index))
        # every hash the erase touched was read again by its own key (before, Redis was only searched again)
        assert entry["rows_checked"] == len(realized.mine(index)), entry
        if spec.delete:
            assert entry["strategy"] == "delete_row"
            continue
        fields = {spec.identity: spec.identity_strategy or "random_token"}
        fields |= {extra.name: extra.strategy for extra in spec.extras if extra.personal}
        assert entry["fields"] == {paths.shown_name(name): how for name, how in fields.items()}, entry
    expected = "erased" if realized.found_anything() else "no_record_found"
    event(f"certificate: {expected}")
    assert document["outcome"] == expected
    assert document["verified"] is (expected == "erased")


def check_world(
    world: World, url: str, prefix: str, database: Database, config: Settings, vault: Vault, tmp_path: Path
) -> None:
    """One drawn world: the target asks for access (P-RGT-1), then for deletion (P-RGT-3)."""
    tag = uuid.uuid4().hex[:8]
    realized = world.realize(f"{prefix}:{tag}", f"d{tag[:6]}.io")
    folder = realized.write_map(tmp_path / tag)
    for index, spec in enumerate(world.collections):
        event(f"{'keyed' if spec.keyed else 'scanned'}, {'delete_row' if spec.delete else 'rewritten'}")
        event(f"target's hashes in a collection: {len(realized.mine(index))}")
    try:
        service.load_datamap(config, folder)
    except DatamapInvalid as exc:  # a key that spells the e-mail cannot be rewritten: refused before any request
        event("map refused at load")
        messages = [problem.render() for problem in exc.problems]
        assert realized.keyed_rewrite() and all("is in the key pattern" in m for m in messages), messages
        return
    assert not realized.keyed_rewrite(), "a map that rewrites hashes keyed by the e-mail was accepted"
    with store(url, realized) as client:
        before = snapshot(client, realized.prefix)
        assert before == realized.data

        public_id = approved(database, config, vault, RequestKind.ACCESS, email=realized.typed)
        outcome = _runner(database, config, vault, url, folder).run(public_id)
        assert outcome.status == "completed", outcome.error
        check_access(realized, _package(database, config, vault, public_id))
        assert snapshot(client, realized.prefix) == before

        public_id = approved(database, config, vault, RequestKind.DELETION, email=realized.typed)
        deleted = _runner(database, config, vault, url, folder).run(public_id)
        after = snapshot(client, realized.prefix)
    document = _certificate(database, public_id)
    faults = erasure_faults(realized, after)
    event(f"deletion {deleted.status}")
    assert deleted.status == "completed", (deleted.error, faults)
    assert document is not None
    # the certificate says "erased"/"verified" if and only if the store is as the model says
    assert faults == [], (document["outcome"], document["verified"], faults)
    check_certificate(realized, document)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(world=worlds())
def test_requests_on_random_redis_worlds(
    world: World,
    database: Database,
    config: Settings,
    vault: Vault,
    tmp_path: Path,
    redis_prefix: tuple[str, str],
) -> None:
    """P-RGT-1, P-RGT-3 on Redis: access holds exactly the target's hashes; deletion erases exactly them,
    and the certificate is ``verified`` exactly when it did."""
    url, prefix = redis_prefix
    check_world(world, url, prefix, database, config, vault, tmp_path)


# -- examples the model found, shrunk and written out ---------------------------------------------------


def _one_collection(spec: Collection, *hashes: Hash) -> World:
    return World([spec], 2, list(hashes), typed=PLAIN)


def test_a_hash_keyed_by_the_e_mail_is_deleted_not_rewritten(config: Settings, tmp_path: Path) -> None:
    """P-RGT-3: ``carts:{email}`` erased field by field is refused when the map is loaded, before any request.

    Shrunk from the model: the rewrite replaced the e-mail inside the hash, but the key still spelt it
    (Charter does not rename keys), so the verification found her under that key and the deletion failed,
    after the hash had already been rewritten: a failure that changed a store, on every such deletion. Since
    the map check refuses it, naming the way out (``delete_row``, or keep the field with a reason)."""
    spec = Collection("carts0", keyed=True, identity="email", extras=(), delete=False, identity_strategy=None)
    world = _one_collection(spec, Hash(0, 0, 0, PLAIN, frozenset(), PLAIN))
    realized = world.realize("model:x", "d.io")
    with pytest.raises(DatamapInvalid) as refused:
        service.load_datamap(config, realized.write_map(tmp_path / "map"))
    [problem] = refused.value.problems
    assert "'email' is in the key pattern" in problem.message and "delete_row" in problem.message
    deleting = _one_collection(replace(spec, delete=True)).realize("model:x", "d.io")  # the way out it names
    assert service.load_datamap(config, deleting.write_map(tmp_path / "deleting")) is not None


def test_an_e_mail_spelt_otherwise_in_a_scanned_hash_is_the_person_s(
    database: Database, config: Settings, vault: Vault, tmp_path: Path, redis_prefix: tuple[str, str]
) -> None:
    """P-RGT-1, P-RGT-3: `` P0.USER@D.IO`` in the identity field of a scanned hash is found and erased.

    Shrunk from the model: the scan compared the field's bytes with the request's (normalized) e-mail, so
    the access package missed the hash, and the deletion, searching the same way, would leave it."""
    url, prefix = redis_prefix
    spec = Collection("profiles0", keyed=False, identity="email", extras=(), delete=True, identity_strategy=None)
    spelt = Spelling(1, " ", "")
    world = _one_collection(spec, Hash(0, 0, 0, spelt, frozenset(), PLAIN), Hash(1, 0, 0, spelt, frozenset(), PLAIN))
    check_world(world, url, prefix, database, config, vault, tmp_path)


def test_a_declared_field_with_a_dot_in_its_name_reaches_the_package(
    database: Database, config: Settings, vault: Vault, tmp_path: Path, redis_prefix: tuple[str, str]
) -> None:
    """P-RGT-1: the package holds every field the map declares, also one named ``Addr.Line1`` (before the loader
    recorded nesting, a dotted name was taken for a path into a nested field and left out)."""
    url, prefix = redis_prefix
    kept = Extra("Addr.Line1", personal=False, category="system.operations", strategy="set_null")
    spec = Collection("profiles0", keyed=False, identity="email", extras=(kept,), delete=True, identity_strategy=None)
    world = _one_collection(spec, Hash(0, 0, 0, PLAIN, frozenset(), PLAIN), Hash(1, 0, 0, PLAIN, frozenset(), PLAIN))
    realized = world.realize(f"{prefix}:x", "d.io")
    folder = realized.write_map(tmp_path / "map")
    with store(url, realized):
        public_id = approved(database, config, vault, RequestKind.ACCESS, email=realized.typed)
        outcome = _runner(database, config, vault, url, folder).run(public_id)
    assert outcome.status == "completed", outcome.error
    check_access(realized, _package(database, config, vault, public_id))
