"""Redis as a Connector: a collection is a key pattern, its fields are a hash's fields.

A pattern names the identity field in braces when the key holds it
(``cart:{email}``): a fetch then reads exactly those keys, one pipelined
round trip per chunk of values. A pattern without it (``session:*``) is
walked with SCAN (never KEYS, which blocks the server), reading the field of
each batch of keys in one pipeline. A fetch by ``_key`` (``redis_keys.KEY``)
reads the hashes whose keys are given: a hash's key is its row identity, by
which the verification re-reads every hash an erase step touched.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import redis
from redis.exceptions import RedisError, ResponseError

from charter.connectors.base import (
    LiveCollection,
    LiveColumn,
    LiveSchema,
    Match,
    Row,
    StoreRefused,
    matching,
    unavailable,
)
from charter.connectors.redis_keys import KEY, PLACEHOLDER, shape_of
from charter.errors import InvalidInput, Misconfigured


class RedisConnector:
    def __init__(
        self,
        system_id: str,
        url: str,
        *,
        connect_timeout: float = 5.0,
        chunk_size: int = 500,
        scan_count: int = 500,
        describe_keys: int = 1_000,
        statement_timeout: float = 0.0,
    ) -> None:
        self.system_id = system_id
        self.chunk_size = chunk_size
        self.scan_count = scan_count
        self.describe_keys = describe_keys
        try:
            self._password = urlsplit(url).password
            self.client: redis.Redis = redis.Redis.from_url(
                url,
                socket_connect_timeout=connect_timeout,
                socket_timeout=statement_timeout if statement_timeout > 0 else max(connect_timeout, 5.0),
                decode_responses=True,
            )
        except ValueError:
            raise Misconfigured(f"system '{system_id}': the URL is not a redis:// URL") from None

    def _failed(self, exc: BaseException) -> Exception:
        return unavailable(self.system_id, exc, secret=self._password)

    def ping(self) -> None:
        try:
            self.client.ping()
        except RedisError as exc:
            raise self._failed(exc) from exc

    def describe(self, *, schema: str | None = None) -> LiveSchema:
        """Key shapes seen in a bounded sample of keys, with the fields of their hashes."""
        shapes: dict[str, dict[str, LiveColumn]] = {}
        try:
            sample = []
            for key in self.client.scan_iter(count=self.scan_count):
                sample.append(key)
                if len(sample) >= self.describe_keys:
                    break
            pipe = self.client.pipeline(transaction=False)
            for key in sample:
                pipe.type(key)
            types = pipe.execute()
            hashes = [k for k, t in zip(sample, types, strict=True) if t == "hash"]
            pipe = self.client.pipeline(transaction=False)
            for key in hashes:
                pipe.hkeys(key)
            field_lists = pipe.execute()
        except RedisError as exc:
            raise self._failed(exc) from exc
        for key, kind in zip(sample, types, strict=True):
            shapes.setdefault(shape_of(key), {}).setdefault(KEY, LiveColumn(KEY, kind))
        for key, fields in zip(hashes, field_lists, strict=True):
            columns = shapes[shape_of(key)]
            for name in fields:
                columns.setdefault(name, LiveColumn(name, "hash field"))
        return LiveSchema(self.system_id, {name: LiveCollection(name, cols) for name, cols in shapes.items()})

    def fetch(
        self, collection: str, field: str, values: Sequence[Any], *, schema: str | None = None, match: Match = "exact"
    ) -> Iterator[list[Row]]:
        """Hashes under the key pattern ``collection`` whose ``field`` is one of ``values`` (see :func:`_wanted`);
        for ``field`` ``_key``, the hashes whose keys are ``values``, read by name (a key that is not there is
        no row)."""
        names = PLACEHOLDER.findall(collection)
        wanted = _wanted(values, match)
        try:
            if field == KEY:
                yield from self._by_name(collection, wanted)
            elif names == [field]:
                yield from self._by_key(collection, field, wanted)
            elif names:
                raise InvalidInput(f"key pattern of system '{self.system_id}' names {names}, not only '{field}'")
            else:
                yield from self._by_scan(collection, field, set(wanted), match=match)
        except RedisError as exc:
            raise self._failed(exc) from exc

    def _by_key(self, pattern: str, field: str, values: list[str]) -> Iterator[list[Row]]:
        for start in range(0, len(values), self.chunk_size):
            keys = [pattern.replace("{" + field + "}", value) for value in values[start : start + self.chunk_size]]
            yield self._hashes(pattern, keys)

    def _by_name(self, pattern: str, keys: list[str]) -> Iterator[list[Row]]:
        """The hashes named by ``keys`` (keys a fetch of ``pattern`` returned), one pipeline per chunk."""
        for start in range(0, len(keys), self.chunk_size):
            yield self._hashes(pattern, keys[start : start + self.chunk_size])

    def _hashes(self, pattern: str, keys: list[str]) -> list[Row]:
        """HGETALL of each key in one pipeline: the hashes there, each with its key. A key holding something
        other than a hash is refused (a permanent error, naming the pattern, never the key: a key may spell
        an e-mail), not waited out as an unanswered store would be."""
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key)
        rows = []
        for key, row in zip(keys, pipe.execute(raise_on_error=False), strict=True):
            if isinstance(row, ResponseError) and str(row).startswith("WRONGTYPE"):
                kind = str(self.client.type(key))  # decoded: the client returns text
                raise StoreRefused(
                    f"system '{self.system_id}': a key under '{pattern}' holds a {kind}, not a hash "
                    "(a collection's keys must all be hashes)"
                )
            if isinstance(row, BaseException):
                raise row
            if row:
                rows.append({KEY: key, **row})
        return rows

    def _by_scan(self, pattern: str, field: str, values: set[str], *, match: Match = "exact") -> Iterator[list[Row]]:
        """Hashes under the glob whose ``field`` is one of ``values``, compared as ``match`` compares everywhere
        else: an e-mail trimmed and lower-cased, a phone by its digits, on the stored side too. The scan reads
        every value anyway, so this costs nothing; only a key, looked up by name, cannot be folded (keep keys
        normalized). The Redis model-based test found ``Ana@Example.org`` in a scanned hash left behind by a verified
        deletion (the request's e-mail is normalized, and the bytes differed)."""
        batch: list[str] = []
        for key in self.client.scan_iter(match=pattern, count=self.scan_count, _type="HASH"):
            batch.append(key)
            if len(batch) >= self.chunk_size:
                yield self._matching(batch, field, values, match)
                batch = []
        if batch:
            yield self._matching(batch, field, values, match)

    def _matching(self, keys: list[str], field: str, values: set[str], match: Match = "exact") -> list[Row]:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.hget(key, field)
        hits = [
            key
            for key, value in zip(keys, pipe.execute(), strict=True)
            if value in values or (match != "exact" and value is not None and _folded(value, match) in values)
        ]
        if not hits:
            return []
        pipe = self.client.pipeline(transaction=False)
        for key in hits:
            pipe.hgetall(key)
        return [{KEY: key, **row} for key, row in zip(hits, pipe.execute(), strict=True) if row]

    def _keys(self, pattern: str, field: str, values: list[str], *, match: Match = "exact") -> list[str]:
        """The keys whose hash has ``field`` in ``values`` (``_key``: the values are keys)."""
        names = PLACEHOLDER.findall(pattern)
        if field == KEY:
            return values
        if names == [field]:
            return [pattern.replace("{" + field + "}", value) for value in values]
        if names:
            raise InvalidInput(f"key pattern of system '{self.system_id}' names {names}, not only '{field}'")
        return [row[KEY] for chunk in self._by_scan(pattern, field, set(values), match=match) for row in chunk]

    def delete(
        self, collection: str, field: str, values: Sequence[Any], *, schema: str | None = None, match: Match = "exact"
    ) -> int:
        """DEL the matching keys: one DEL per chunk of keys, all in one MULTI/EXEC."""
        wanted = _wanted(values, match)
        try:
            keys = self._keys(collection, field, wanted, match=match)
            if not keys:
                return 0
            pipe = self.client.pipeline(transaction=True)
            for start in range(0, len(keys), self.chunk_size):
                pipe.delete(*keys[start : start + self.chunk_size])
            return sum(int(n) for n in pipe.execute())
        except RedisError as exc:
            raise self._failed(exc) from exc

    def rewrite(
        self, collection: str, key: str, changes: Sequence[tuple[Any, Mapping[str, Any]]], *, schema: str | None = None
    ) -> int:
        """Set (HSET) or remove (HDEL, for None) hash fields of the keys named by ``_key``, in one MULTI/EXEC."""
        if key != KEY:
            raise InvalidInput(f"system '{self.system_id}': a Redis hash is rewritten by its key ('{KEY}')")
        if not changes:
            return 0
        try:
            pipe = self.client.pipeline(transaction=True)
            for name, new in changes:
                present: dict[Any, Any] = {field: str(value) for field, value in new.items() if value is not None}
                absent = [field for field, value in new.items() if value is None]
                if present:
                    pipe.hset(str(name), mapping=present)
                if absent:
                    pipe.hdel(str(name), *absent)
            pipe.execute()
        except RedisError as exc:
            raise self._failed(exc) from exc
        return len(changes)

    def close(self) -> None:
        self.client.close()


def _wanted(values: Sequence[Any], match: Match) -> list[str]:
    """The values to look for: as given and folded (an e-mail trimmed and lower-cased, the form Charter itself
    writes keys in; a phone's digits). A key spelt another way is not found, which the data-map guide says
    (keep keys normalized); a scanned hash's field is folded too (``_by_scan``)."""
    given = [str(v) for v in values]
    if match != "exact":
        given += [_folded(v, match) for v in given]
    return list(dict.fromkeys(v for v in given if v))


def _folded(value: str, match: Match) -> str:
    """A value as Charter compares it (``connectors.base.matching``): an e-mail trimmed (spaces, tabs, line
    ends) and lower-cased, a phone by its digits; anything else as it is."""
    folded = matching(match, [value])
    return str(folded[0]) if folded else ""
