"""Request tests: both backends, both example statements, a real SMTP server or a recording mailer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from charter.db import Database
from charter.db.base import utcnow
from charter.requests import intake, review
from charter.requests.kinds import RequestKind
from charter.services import Services
from charter.settings import DatabaseSettings, DatamapSettings, Settings
from charter.subjects.service import Vault
from tests.conftest import EXAMPLES
from tests.subjects.factories import make_vault, publish_examples


@dataclass
class Recorder:
    """A mailer that keeps what it was given (the SMTP path has its own tests with aiosmtpd)."""

    messages: list[EmailMessage] = field(default_factory=list)
    down: bool = False

    @property
    def description(self) -> str:
        return "recorder"

    def send(self, message: EmailMessage) -> str:
        from charter.errors import Unavailable

        if self.down:
            raise Unavailable("the test mail server is down")
        self.messages.append(message)
        return "recorder"

    def code(self) -> str:
        found = re.search(r"Your code: (\d{6})", self.messages[-1].get_content())
        assert found is not None
        return found.group(1)

    def texts(self) -> list[str]:
        return [m.get_content() for m in self.messages]


@pytest.fixture
def db(database: Database) -> Database:
    publish_examples(database)
    return database


@pytest.fixture
def vault() -> Vault:
    return make_vault()


@pytest.fixture
def config(database: Database, tmp_path: Path) -> Settings:
    return Settings.load(env="test", home=tmp_path / "home", database=DatabaseSettings(url=database.url))


@pytest.fixture
def mailer() -> Recorder:
    return Recorder()


def datamap_services(database: Database, home: Path) -> Services:
    """Services on ``database`` with the West data map (examples/west/datamap) configured."""
    return Services(
        Settings.load(
            env="test",
            home=home,
            database=DatabaseSettings(url=database.url),
            datamap=DatamapSettings(path=EXAMPLES / "datamap"),
        )
    )


def verified_request(services: Services, kind: RequestKind, email: str) -> str:
    """Submit a request of ``kind`` for ``email`` and confirm it with the mailed code; its public id."""
    mailer = Recorder()
    submission = intake.Submission(kind=kind, identity_kind="email", identity=email, jurisdiction="eu")
    done = intake.submit(services.database, mailer, submission, vault=services.vault, settings=services.settings)
    intake.verify_code(
        services.database,
        done.public_id,
        mailer.code(),
        vault=services.vault,
        settings=services.settings,
        now=utcnow() + timedelta(seconds=1),
    )
    return done.public_id


def approved_request(services: Services, kind: RequestKind, email: str) -> str:
    """A request verified by its code and approved with "identity checked", as the privacy office leaves it."""
    public_id = verified_request(services, kind, email)
    with services.database.session() as session:
        row = review.get(session, public_id)
        review.approve(session, row, actor="test", vault=services.vault, identity_checked=True)
    return public_id
