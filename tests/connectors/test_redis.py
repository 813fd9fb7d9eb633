"""The Redis connector on the real Redis: hashes by key pattern, SCAN, describe, failures."""

from __future__ import annotations

import pytest
import redis

from charter.connectors import connector_for
from charter.connectors.base import StoreRefused
from charter.connectors.redis_keys import KEY, glob_of, shape_of
from charter.connectors.redis_kv import RedisConnector
from charter.errors import InvalidInput, Unavailable
from charter.settings import ConnectorSettings
from tests.connectors.conftest import PEOPLE

RedisTarget = tuple[str, str]


@pytest.fixture
def filled(redis_prefix: RedisTarget) -> RedisTarget:
    url, prefix = redis_prefix
    client = redis.Redis.from_url(url, decode_responses=True)
    for index, email in enumerate(PEOPLE):
        client.hset(f"{prefix}:cart:{email}", mapping={"email": email, "items": str(index)})
        client.hset(f"{prefix}:session:{index}", mapping={"email": email, "ip": f"10.0.0.{index}"})
    client.set(f"{prefix}:plain", "not a hash")
    client.close()
    return url, prefix


def test_fetch_by_a_key_naming_the_identity_reads_only_those_keys(filled: RedisTarget) -> None:
    url, prefix = filled
    connector = RedisConnector("cache", url, chunk_size=3)
    chunks = list(connector.fetch(f"{prefix}:cart:{{email}}", "email", [*PEOPLE[:5], "nobody@example.org"]))
    connector.close()
    assert len(chunks) == 2  # 6 values in chunks of 3: one pipelined round trip each
    rows = [row for chunk in chunks for row in chunk]
    assert sorted(row["email"] for row in rows) == sorted(PEOPLE[:5])
    assert rows[0][KEY] == f"{prefix}:cart:{rows[0]['email']}"


def test_fetch_by_a_field_inside_the_hash_scans_the_pattern(filled: RedisTarget) -> None:
    url, prefix = filled
    connector = RedisConnector("cache", url, chunk_size=4, scan_count=10)
    rows = [row for chunk in connector.fetch(f"{prefix}:session:*", "email", PEOPLE[2:4]) for row in chunk]
    connector.close()
    assert sorted(row["email"] for row in rows) == sorted(PEOPLE[2:4])
    assert all(row["ip"].startswith("10.0.0.") for row in rows)


def test_fetch_by_the_key_reads_the_hashes_named_whatever_the_pattern(filled: RedisTarget) -> None:
    """A hash's key is its row identity: the verification re-reads every hash an erase touched by it (P-RGT-3),
    a scanned hash as well as one under a key naming the identity; a key that is not there is no row."""
    url, prefix = filled
    connector = RedisConnector("cache", url, chunk_size=2)
    keys = [f"{prefix}:session:{n}" for n in (0, 1, 2)] + [f"{prefix}:session:gone"]
    chunks = list(connector.fetch(f"{prefix}:session:*", KEY, keys))
    keyed = [
        row
        for chunk in connector.fetch(f"{prefix}:cart:{{email}}", KEY, [f"{prefix}:cart:{PEOPLE[0]}"])
        for row in chunk
    ]
    connector.close()
    assert len(chunks) == 2  # 4 keys in chunks of 2: one pipelined round trip each
    rows = [row for chunk in chunks for row in chunk]
    assert [row[KEY] for row in rows] == keys[:3] and [row["ip"] for row in rows] == [
        "10.0.0.0",
        "10.0.0.1",
        "10.0.0.2",
    ]
    assert keyed == [{KEY: f"{prefix}:cart:{PEOPLE[0]}", "email": PEOPLE[0], "items": "0"}]


def test_a_key_that_is_not_a_hash_is_refused_naming_the_pattern_not_the_key(filled: RedisTarget) -> None:
    url, prefix = filled
    connector = RedisConnector("cache", url)
    with pytest.raises(StoreRefused) as caught:
        list(connector.fetch(f"{prefix}:*", KEY, [f"{prefix}:plain"]))
    connector.close()
    said = caught.value.detail
    assert said.startswith(f"system 'cache': a key under '{prefix}:*' holds a string, not a hash")
    assert f"{prefix}:plain" not in said  # a key may spell an e-mail: never in a message


def test_a_pattern_naming_another_field_is_refused(filled: RedisTarget) -> None:
    url, prefix = filled
    connector = RedisConnector("cache", url)
    with pytest.raises(InvalidInput, match="names"):
        list(connector.fetch(f"{prefix}:cart:{{user}}", "email", ["a"]))
    connector.close()


def test_describe_groups_keys_by_shape_with_hash_fields(filled: RedisTarget) -> None:
    url, prefix = filled
    connector = connector_for("redis", "cache", url, ConnectorSettings(describe_keys=100_000))
    connector.ping()
    live = connector.describe()
    connector.close()
    ours = live.collections[f"{prefix}:*"]
    assert {"email", "items", "ip", KEY} <= set(ours.columns)


def test_globs_and_shapes() -> None:
    assert glob_of("cart:{email}") == "cart:*"
    assert shape_of("cart:ana@example.org") == "cart:*"
    assert shape_of("plain") == "plain"


def test_an_unreachable_redis_is_unavailable_naming_the_system_not_the_password() -> None:
    connector = RedisConnector("cache", "redis://:s3cretPW@127.0.0.1:1/0", connect_timeout=1)
    with pytest.raises(Unavailable) as caught:
        connector.ping()
    connector.close()
    assert caught.value.detail.startswith("system 'cache' is unavailable: ")
    assert "s3cretPW" not in caught.value.detail


def test_a_scanned_phone_is_matched_by_its_digits_however_it_is_punctuated(redis_prefix: RedisTarget) -> None:
    """Issue 11 ("phone numbers matched on their normalized form whatever the stored format"), P-RGT-1 and
    P-RGT-3: a hash holding ``+1 (512) 555-0102`` is found, and deleted, for ``+15125550102``, as a SQL row is;
    a neighbour's number is not."""
    url, prefix = redis_prefix
    client = redis.Redis.from_url(url, decode_responses=True)
    client.hset(f"{prefix}:sms:1", mapping={"phone": "+1 (512) 555-0102", "body": "hers"})
    client.hset(f"{prefix}:sms:2", mapping={"phone": "+1.512.555.0199", "body": "his"})
    connector = RedisConnector("cache", url, chunk_size=4, scan_count=10)
    try:
        pattern = f"{prefix}:sms:*"
        rows = [row for chunk in connector.fetch(pattern, "phone", ["+15125550102"], match="phone") for row in chunk]
        assert [row["body"] for row in rows] == ["hers"]
        assert connector.delete(pattern, "phone", ["+15125550102"], match="phone") == 1
        assert sorted(client.scan_iter(match=pattern)) == [f"{prefix}:sms:2"]  # read by redis-py, not Charter
    finally:
        connector.close()
        client.close()
