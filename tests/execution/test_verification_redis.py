"""Verification re-reads every Redis hash an erase step touched by its own key (P-RGT-3, issue 11).

Before, a Redis collection was only searched again (by the discovery's inputs and every identity value found):
once the identity field of a hash was rewritten, neither search found the hash, whatever it now held, and the
certificate said ``verified`` with ``rows_checked`` 0. Here a fault hook damages the store after the erase
step and before its verification (the runner's ``fault("after", step)``): a token cut short, a value put back
in a hash whose e-mail was rewritten, part of a deleted hash written again without its e-mail. Each must fail
the run with no certificate; the undamaged run certifies with every touched hash counted in ``rows_checked``.
What the store holds is read with redis-py, never with Charter's connector.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from charter.db import Database
from charter.errors import NotFound
from charter.execution import service
from charter.execution.certificate import certificate_of
from charter.execution.runner import Runner
from charter.execution.steps import Action, Step
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import approved

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)

ANA, BEN = "ana@example.org", "ben@example.org"
URL_ENV = "CACHE_URL"
#: profiles are scanned and matched on their e-mail (rewritten), sessions scanned and deleted, carts keyed by it
MAP = """\
systems: [{{id: cache, kind: redis, url_env: {env}, datasets: [cache]}}]
dataset:
  - fides_key: cache
    collections:
      - name: profile
        charter: {{key: "{prefix}:profile:*"}}
        fields:
          - {{name: email, data_categories: [user.contact.email], fides_meta: {{identity: email}}}}
          - {{name: name, data_categories: [user.name], charter: {{erasure: {{strategy: redact_text}}}}}}
          - {{name: plan, data_categories: [system.operations]}}
      - name: session
        charter: {{key: "{prefix}:session:*"}}
        fides_meta: {{masking_strategy_override: {{strategy: delete}}}}
        fields:
          - {{name: email, data_categories: [user.contact.email], fides_meta: {{identity: email}}}}
          - {{name: ip, data_categories: [user.device.ip_address]}}
      - name: cart
        charter: {{key: "{prefix}:cart:{{email}}"}}
        fides_meta: {{masking_strategy_override: {{strategy: delete}}}}
        fields:
          - {{name: email, data_categories: [user.contact.email], fides_meta: {{identity: email}}}}
          - {{name: items, data_categories: [user.behavior]}}
"""
Fault = Callable[[redis.Redis, str], Callable[[str, Step], None]]


@pytest.fixture
def cache(redis_prefix: tuple[str, str]) -> Iterator[tuple[str, str, redis.Redis]]:
    """Ana's two profiles, a session and a cart; Ben's profile and session; under the test's own prefix."""
    url, prefix = redis_prefix
    client = redis.Redis.from_url(url, decode_responses=True)
    hashes = {
        f"{prefix}:profile:1": {"email": "Ana@Example.org", "name": "Ana Lovelace", "plan": "gold"},
        f"{prefix}:profile:2": {"email": ANA, "name": "Ana L.", "plan": "free"},
        f"{prefix}:profile:3": {"email": BEN, "name": "Ben Babbage", "plan": "gold"},
        f"{prefix}:session:1": {"email": ANA, "ip": "10.0.0.1"},
        f"{prefix}:session:2": {"email": BEN, "ip": "10.0.0.2"},
        f"{prefix}:cart:{ANA}": {"email": ANA, "items": "3"},
    }
    for key, values in hashes.items():
        client.hset(key, mapping=values)
    yield url, prefix, client
    client.close()


def _run(
    database: Database,
    config: Settings,
    vault: Vault,
    tmp_path: Path,
    cache: tuple[str, str, redis.Redis],
    fault: Callable[[str, Step], None] | None = None,
) -> tuple[str, str | None, str]:
    """Ana's deletion through the real runner: (status, error, public id)."""
    url, prefix, _client = cache
    (tmp_path / "map").mkdir()
    (tmp_path / "map" / "cache.yaml").write_text(MAP.format(env=URL_ENV, prefix=prefix))
    datamap = service.load_datamap(config, tmp_path / "map")
    public_id = approved(database, config, vault, RequestKind.DELETION, email=ANA)
    runner = Runner(database, config, vault, datamap, env={URL_ENV: url}, sleep=lambda _s: None, fault=fault)
    outcome = runner.run(public_id)
    return outcome.status, outcome.error, public_id


def _after_erasing(collection: str, damage: Callable[[], None]) -> Callable[[str, Step], None]:
    """A fault hook: ``damage`` the store once the erase step of ``collection`` is done, before it is verified."""

    def hook(where: str, step: Step) -> None:
        if where == "after" and step.action == Action.ERASE and step.collection == f"cache.{collection}":
            damage()

    return hook


def test_every_touched_hash_is_read_again_by_its_key_and_counted(
    database: Database, config: Settings, vault: Vault, tmp_path: Path, cache: tuple[str, str, redis.Redis]
) -> None:
    """P-RGT-3: the certificate counts each hash the erase touched as read again by its key (before: 0)."""
    _url, prefix, client = cache
    status, error, public_id = _run(database, config, vault, tmp_path, cache)
    assert status == "completed", error
    document = certificate_of(database, public_id)
    assert (document["outcome"], document["verified"]) == ("erased", True)
    checked = {c["collection"]: (c["rows_matched"], c["rows_checked"]) for c in document["collections"]}
    assert checked == {"cache.profile": (2, 2), "cache.session": (1, 1), "cache.cart": (1, 1)}
    # what the store holds, read with redis-py
    for number in (1, 2):
        profile = client.hgetall(f"{prefix}:profile:{number}")
        assert set(profile) == {"email", "name", "plan"} and profile["name"] == "(erased)"
        assert len(profile["email"]) == 24 and set(profile["email"]) <= set("0123456789abcdef")
    assert client.hgetall(f"{prefix}:profile:3") == {"email": BEN, "name": "Ben Babbage", "plan": "gold"}
    assert client.exists(f"{prefix}:session:1", f"{prefix}:cart:{ANA}") == 0
    assert client.hgetall(f"{prefix}:session:2") == {"email": BEN, "ip": "10.0.0.2"}


def _cut_short(client: redis.Redis, prefix: str) -> Callable[[str, Step], None]:
    """The token written into the e-mail field loses its last characters (a truncation the store did not refuse)."""
    key = f"{prefix}:profile:1"
    return _after_erasing("profile", lambda: client.hset(key, "email", client.hget(key, "email")[:20]))


def _left_behind(client: redis.Redis, prefix: str) -> Callable[[str, Step], None]:
    """The name is back in a hash whose e-mail was rewritten: no search by the person's identities finds it."""
    return _after_erasing("profile", lambda: client.hset(f"{prefix}:profile:2", "name", "Ana L."))


def _partly_deleted(client: redis.Redis, prefix: str) -> Callable[[str, Step], None]:
    """The deleted session is there again without its e-mail field (a delete that took only part of the hash)."""
    return _after_erasing("session", lambda: client.hset(f"{prefix}:session:1", "ip", "10.0.0.1"))


@pytest.mark.parametrize(
    ("damage", "collection", "says"),
    [
        (_cut_short, "cache.profile", "field(s) email do not hold their erasure (re-read by its key)"),
        (_left_behind, "cache.profile", "field(s) name do not hold their erasure (re-read by its key)"),
        (_partly_deleted, "cache.session", "a row deleted by the erase step is still there (re-read by its key)"),
    ],
)
def test_a_hash_damaged_after_its_erase_fails_the_verification(
    database: Database,
    config: Settings,
    vault: Vault,
    tmp_path: Path,
    cache: tuple[str, str, redis.Redis],
    damage: Fault,
    collection: str,
    says: str,
) -> None:
    """P-RGT-3: no certificate when a hash the erase touched does not hold exactly its erasure, or is not gone.

    Each of these passed before: the hash's e-mail no longer matched the person, so neither the discovery's
    search again nor the search by identity values found it."""
    _url, prefix, client = cache
    status, error, public_id = _run(database, config, vault, tmp_path, cache, damage(client, prefix))
    assert status == "failed" and error is not None
    assert collection in error and says in error, error
    with pytest.raises(NotFound):
        certificate_of(database, public_id)
