"""The one place that builds Charter's collaborators from settings.

The web app, the CLI and background jobs all get their database and
settings here, so a test can hand in its own and nothing reads globals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from charter.db import Database
from charter.settings import Settings

if TYPE_CHECKING:
    from charter.mail import Mailer
    from charter.subjects.service import Vault


@dataclass
class Services:
    settings: Settings
    database: Database = field(init=False)

    def __post_init__(self) -> None:
        self.database = Database(self.settings.database_url, echo=self.settings.database.echo)

    @cached_property
    def vault(self) -> Vault:
        """Keys for identities (keyed lookup hashes, sealed values), derived once."""
        from charter.subjects.service import Vault

        return Vault.from_settings(self.settings)

    @cached_property
    def mailer(self) -> Mailer:
        """The configured mail backend (``CHARTER_MAIL_BACKEND``); tests may assign their own."""
        from charter.mail import mailer_for

        return mailer_for(self.settings)

    @classmethod
    def from_env(cls) -> Services:
        return cls(Settings.load())

    def close(self) -> None:
        self.database.dispose()
