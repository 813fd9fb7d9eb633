"""Typed settings, read once from the environment (prefix ``CHARTER_``).

One class per section; ``Settings.load()`` builds them all. Services receive
the settings they need as arguments; nothing reads the environment later.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from charter.errors import Misconfigured

DEFAULT_HOME = Path("var")


class DatabaseSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHARTER_DATABASE_", extra="ignore")

    url: str = Field(
        default="",
        description="SQLAlchemy URL. Empty means the embedded SQLite file under CHARTER_HOME.",
    )
    echo: bool = Field(default=False, description="Log every SQL statement (never in production).")


class SecuritySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHARTER_", extra="ignore")

    secret_key: SecretStr | None = Field(
        default=None,
        description="Key for signing sessions and CSRF tokens. Required in production.",
    )
    cookie_secure: bool = Field(default=False, description="Send session cookies over HTTPS only (on in production).")
    session_hours: int = Field(default=8, ge=1, le=24 * 30, description="Console session lifetime.")
    login_attempts_per_minute: int = Field(
        default=10, ge=1, description="Failed logins allowed per client address per minute."
    )


class PolicySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHARTER_POLICY_", extra="ignore")

    max_bytes: int = Field(default=1_000_000, ge=1_000, description="Largest statement file accepted, in bytes.")
    max_nodes: int = Field(
        default=200_000,
        ge=100,
        description="Most YAML nodes a statement may expand to (guards against alias bombs).",
    )


class DecisionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHARTER_DECISIONS_", extra="ignore")

    log_sample_rate: float = Field(
        default=1.0,
        ge=0.0,
        le=1.0,
        description="Share of decisions written to the decision log for audit (1 = all, 0 = none).",
    )
    max_batch: int = Field(default=10_000, ge=1, le=100_000, description="Most decisions in one API call.")


class IdentitySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHARTER_IDENTITY_", extra="ignore")

    phone_region: str = Field(
        default="US",
        min_length=2,
        max_length=2,
        pattern=r"^[A-Z]{2}$",
        description="Country (ISO 3166 alpha-2) assumed for phone numbers written without +country code.",
    )


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHARTER_", extra="ignore")

    env: Literal["development", "test", "production"] = Field(
        default="development", description="production refuses to start without secrets."
    )
    home: Path = Field(default=DEFAULT_HOME, description="Where the embedded database and keys live.")
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public URL of this server.")
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated proxy addresses whose X-Forwarded-For is believed (rate limits key on it).",
    )
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    identity: IdentitySettings = Field(default_factory=IdentitySettings)
    decisions: DecisionSettings = Field(default_factory=DecisionSettings)

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        return cls(**overrides)  # type: ignore[arg-type]

    @property
    def database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite:///{(self.home / 'charter.db').resolve()}"

    def secret_key(self) -> bytes:
        """The signing key.

        In production it must be set explicitly. Elsewhere it is kept in
        ``HOME/secret.key``, created once with 256 random bits: a stable key
        for the machine, never a fresh one per start (which would silently
        log everyone out and break signed links).
        """
        if self.security.secret_key is not None:
            return self.security.secret_key.get_secret_value().encode()
        if self.env == "production":
            raise Misconfigured("CHARTER_SECRET_KEY is not set; production refuses to start without it.")
        path = self.home / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:
                pass  # another process created it first; read theirs
            else:
                with os.fdopen(fd, "w") as handle:
                    handle.write(secrets.token_urlsafe(32))
        return path.read_text().strip().encode()
