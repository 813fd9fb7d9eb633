"""A vault with a fixed test key, and events for tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from charter.crypto import KeyRing
from charter.db import Database
from charter.ledger.events import Event, EventKind, Source
from charter.policy import service as policy
from charter.settings import PolicySettings
from charter.subjects.service import Vault
from tests.conftest import EXAMPLES

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def make_vault(secret: bytes = b"a test secret key of enough length") -> Vault:
    return Vault(KeyRing(secret), "US")


def event(kind: EventKind | str, minutes: float = 0, *, source: Source = Source.API, **data: Any) -> Event:
    """An event ``minutes`` after T0 with ``data``."""
    return Event(kind=EventKind(kind), at=T0 + timedelta(minutes=minutes), source=source, data=data)


def publish_examples(database: Database) -> None:
    """Publish the 2019 and 2023 example statements, in order."""
    for name in ("statement-2019.yaml", "statement-2023.yaml"):
        loaded, raw = policy.read_file(EXAMPLES / name, limits=PolicySettings())
        with database.session() as session:
            policy.publish(session, loaded, raw, actor="test")
