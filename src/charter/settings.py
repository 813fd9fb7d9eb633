"""Typed settings, read once from the environment (prefix ``CHARTER_``).

One class per section; ``Settings.load()`` builds them all. Services receive
the settings they need as arguments; nothing reads the environment later.
"""

from __future__ import annotations

import os
import secrets
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from charter.errors import Misconfigured, SettingInvalid

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


class MailSettings(BaseSettings):
    """How Charter sends e-mail (verification codes, notices): an SMTP server or a local outbox folder."""

    model_config = SettingsConfigDict(env_prefix="CHARTER_MAIL_", extra="ignore")

    backend: Literal["smtp", "outbox"] = Field(
        default="outbox",
        description="smtp sends through the server below; outbox writes each message as an .eml file "
        "under HOME/outbox/ (demos and development: nothing leaves the machine).",
    )
    host: str = Field(default="localhost", max_length=255, description="SMTP server host name.")
    port: int = Field(default=587, ge=1, le=65535, description="SMTP server port (587 STARTTLS, 465 TLS, 25 plain).")
    username: str = Field(default="", max_length=320, description="SMTP user name; empty means no sign-in.")
    password: SecretStr | None = Field(default=None, description="SMTP password (never logged or shown).")
    starttls: bool = Field(
        default=True, description="Upgrade a plain connection with STARTTLS before signing in (ignored with ssl)."
    )
    ssl: bool = Field(default=False, description="Connect over TLS from the start (port 465).")
    timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds to wait for the SMTP server.")
    from_address: str = Field(
        default="Charter <privacy@localhost>",
        min_length=3,
        max_length=320,
        description="The From: of every message, e.g. 'West Privacy <privacy@example.com>'.",
    )


class PreferenceSettings(BaseSettings):
    """The public preference center: e-mail codes and the session that follows."""

    model_config = SettingsConfigDict(env_prefix="CHARTER_PREFERENCES_", extra="ignore")

    code_minutes: int = Field(default=15, ge=1, le=24 * 60, description="How long an e-mailed code or link works.")
    max_attempts: int = Field(default=5, ge=1, le=20, description="Wrong codes allowed before a code stops working.")
    codes_per_address_per_hour: int = Field(
        default=5, ge=1, le=100, description="Codes that may be asked for one e-mail address in an hour."
    )
    session_minutes: int = Field(
        default=30, ge=5, le=24 * 60, description="How long a verified visitor may change preferences."
    )
    wrong_codes_per_address_per_day: int = Field(
        default=20,
        ge=5,
        le=200,
        description="Code attempts for one address in a day after which no new code is sent (bounds guessing).",
    )


class RequestSettings(BaseSettings):
    """Privacy requests (P-RGT-1..8): intake, deadlines, the status page."""

    model_config = SettingsConfigDict(env_prefix="CHARTER_REQUESTS_", extra="ignore")

    default_jurisdiction: str = Field(
        default="",
        max_length=80,
        pattern=r"^$|^[a-z][a-z0-9_\-]*$",
        description="Jurisdiction id offered first on the request form and used when a caller names none; empty "
        "means the statement's catch-all jurisdiction (regions '*').",
    )
    holidays: str = Field(
        default="",
        max_length=20_000,
        pattern=r"^\s*(\d{4}-\d{2}-\d{2}(\s*,\s*\d{4}-\d{2}-\d{2})*)?\s*$",
        description="Comma-separated ISO dates (YYYY-MM-DD) that are not business days, besides Saturdays and "
        "Sundays; used for deadlines stated in business days.",
    )
    max_document_bytes: int = Field(
        default=5_000_000, ge=10_000, le=50_000_000, description="Largest proof-of-agency document accepted."
    )
    # -- delivery of access/portability packages (charter.delivery) --
    download_hours: int = Field(
        default=72,
        ge=1,
        le=720,
        description="How long a one-time link to download an access/portability package works after the person "
        "re-verified; it works once.",
    )
    package_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="Days a completed access/portability request's sealed package is kept, for the person to "
        "download; then it is deleted (its SHA-256 stays on the run and in the audit log).",
    )
    # -- end delivery --
    # -- facts matching and expiry (charter.requests.factcheck, charter.requests.expiry) --
    facts_kinds: str = Field(
        default="deletion,access,portability",
        max_length=500,
        pattern=r"^\s*([a-z_]+(\s*,\s*[a-z_]+)*)?\s*$",
        description="Comma-separated request types that are high-risk (P-RGT-7): after the e-mail is confirmed "
        "the requester is asked for facts Charter already holds (postal code, last digits of a phone, date of "
        "birth), and approval without matched facts needs the reviewer's 'identity checked'. Empty: none.",
    )
    facts_attempts: int = Field(
        default=3, ge=1, le=10, description="Times one request's requester may send facts; later sends are ignored."
    )
    unverified_days: int = Field(
        default=7,
        ge=1,
        le=365,
        description="Days after which a request whose e-mail was never confirmed expires and its sealed identity "
        "and details are dropped (`charter requests expire`).",
    )

    @field_validator("facts_kinds")
    @classmethod
    def _known_kinds(cls, value: str) -> str:
        from charter.requests.kinds import RequestKind  # an enum only; the domain imports its settings from here

        known = {k.value for k in RequestKind}
        unknown = sorted({p.strip() for p in value.split(",") if p.strip()} - known)
        if unknown:
            raise ValueError(f"'{unknown[0]}' is not a request type; use some of {', '.join(sorted(known))}")
        return value

    def facts_kind_set(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.facts_kinds.split(",") if part.strip())

    def holiday_dates(self) -> frozenset[date]:
        return frozenset(date.fromisoformat(part.strip()) for part in self.holidays.split(",") if part.strip())


class MailLinkSettings(BaseSettings):
    """Links Charter mints for the organization's mailers: one-click unsubscribe and the open pixel (P-TRK-3)."""

    model_config = SettingsConfigDict(env_prefix="CHARTER_MAIL_LINKS_", extra="ignore")

    valid_days: int = Field(
        default=365,
        ge=30,
        le=3650,
        description="How long a minted unsubscribe link (and its open pixel) works. RFC 8058 links must keep "
        "working long after the message was sent; CAN-SPAM asks for at least 30 days.",
    )
    mailto: str = Field(
        default="",
        max_length=254,
        pattern=r"^$|^[^@\s<>,?]+@[^@\s<>,?]+\.[^@\s<>,?]+$",
        description="An address that also takes unsubscribe requests, added to List-Unsubscribe as a mailto: "
        "URI; empty adds none.",
    )


class BannerSettings(BaseSettings):
    """The embeddable cookie banner (``/static/charter-consent.js``) and its public API."""

    model_config = SettingsConfigDict(env_prefix="CHARTER_BANNER_", extra="ignore")

    allowed_origins: str = Field(
        default="*",
        max_length=4000,
        pattern=r"^\s*(\*|https?://[^\s,/]+(\s*,\s*https?://[^\s,/]+)*)\s*$",
        description="Comma-separated origins (scheme://host[:port]) whose pages may embed the banner: read its "
        "config and record choices from the browser. '*' (the default) allows any site.",
    )
    cache_seconds: int = Field(
        default=300, ge=0, le=86_400, description="How long browsers and CDNs may cache the banner config."
    )
    max_body_bytes: int = Field(
        default=2_048, ge=512, le=65_536, description="Largest body accepted when recording a banner choice."
    )

    def origins(self) -> frozenset[str] | None:
        """The allowed origins, lower-cased; None means any origin."""
        items = {o.strip().lower().rstrip("/") for o in self.allowed_origins.split(",") if o.strip()}
        return None if "*" in items else frozenset(items)


class DatamapSettings(BaseSettings):
    """Reading data-map files (systems and Fides datasets)."""

    model_config = SettingsConfigDict(env_prefix="CHARTER_DATAMAP_", extra="ignore")

    path: Path = Field(
        default=Path("datamap"), description="The data map: a folder of YAML files (systems and datasets) or one file."
    )

    max_bytes: int = Field(default=1_000_000, ge=1_000, description="Largest data-map file accepted, in bytes.")
    max_nodes: int = Field(
        default=200_000, ge=100, description="Most YAML nodes a data-map file may expand to (guards alias bombs)."
    )


class ConnectorSettings(BaseSettings):
    """How Charter talks to the organization's data stores (the systems of the data map)."""

    model_config = SettingsConfigDict(env_prefix="CHARTER_CONNECTORS_", extra="ignore")

    connect_timeout: float = Field(
        default=5.0, gt=0, le=120, description="Seconds to wait for a data store to accept a connection."
    )
    chunk_size: int = Field(
        default=500, ge=1, le=10_000, description="Values per query when reading by identity (one query per chunk)."
    )
    schema_cache_seconds: float = Field(
        default=300.0,
        ge=0,
        le=86_400,
        description="How long a data store's reflected table definitions are reused across runs (0: never).",
    )
    statement_timeout: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        description="Longest one statement may run in a data store before the store cancels it (0: no limit); "
        "a cancelled step is retried like a store that did not answer.",
    )
    scan_count: int = Field(default=500, ge=10, le=100_000, description="Redis SCAN COUNT hint per round trip.")
    describe_keys: int = Field(
        default=1_000, ge=10, le=1_000_000, description="Redis keys sampled to describe a store's key patterns."
    )


class ExecutionSettings(BaseSettings):
    """Carrying out approved requests in the data stores (the runner)."""

    model_config = SettingsConfigDict(env_prefix="CHARTER_EXECUTION_", extra="ignore")

    max_attempts: int = Field(
        default=0,
        ge=0,
        le=1000,
        description="At most this many tries of a step whose store is unavailable; 0 (default): no count, the retry "
        "window alone decides. An error trying again cannot fix (a wrong password, a missing table) is tried once.",
    )
    retry_window_minutes: float = Field(
        default=15.0,
        ge=0,
        le=1440,
        description="How long a step whose store is unavailable (no answer, a lost connection, a deadlock, a lock "
        "or statement timeout) is tried again, from its first failure; then the request fails, and the office can "
        "retry it once the store is back (`charter requests retry ID`).",
    )
    retry_base: float = Field(
        default=1.0, ge=0, le=60, description="Seconds before the first retry; doubled at each further one."
    )
    retry_max: float = Field(default=60.0, ge=0, le=3600, description="Longest wait between two tries, in seconds.")
    lease_seconds: int = Field(
        default=300,
        ge=5,
        le=86_400,
        description="How long a claimed step stays a worker's; after it, another worker takes the step again.",
    )
    autorun: bool = Field(
        default=False,
        description="Carry out access, portability, correction and deletion requests as soon as they are approved "
        "(in a background thread of the server; `charter requests approve` runs them before it returns). Off: "
        "`charter requests run ID` or POST /api/v1/requests/ID/run.",
    )


# -- background jobs (charter.jobs, `charter worker`) --
class JobSettings(BaseSettings):
    """Background work: where an approved request's run goes, and how ``charter worker`` takes it (charter.jobs)."""

    model_config = SettingsConfigDict(env_prefix="CHARTER_JOBS_", extra="ignore")

    backend: Literal["inprocess", "celery"] = Field(
        default="inprocess",
        description="inprocess runs each request in a background thread of the process that asked (zero set-up, "
        "one machine); celery sends it to Redis, where `charter worker` processes on any machine take it.",
    )
    broker_url: str = Field(
        default="redis://127.0.0.1:6379/0",
        max_length=2000,
        pattern=r"^rediss?://",
        description="The Redis that carries the jobs (celery backend), e.g. redis://:PASSWORD@redis.internal:6379/0. "
        "Never logged or shown with its password.",
    )
    queue: str = Field(
        default="charter",
        min_length=1,
        max_length=80,
        pattern=r"^[A-Za-z0-9_.\-]+$",
        description="The queue name Charter sends to and `charter worker` consumes.",
    )
    key_prefix: str = Field(
        default="",
        max_length=80,
        pattern=r"^[A-Za-z0-9_.:\-]*$",
        description="A prefix for every Redis key the jobs use, so several Charter installations (or test runs) "
        "can share one Redis database.",
    )
    visibility_seconds: int = Field(
        default=3600,
        ge=10,
        le=7 * 86_400,
        description="A job taken by a worker that died without acknowledging it is delivered again after this "
        "long (the sweeper usually resumes the run much sooner).",
    )
    sweep_seconds: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        description="How often `charter worker` (or, with the in-process backend, `charter serve`) looks for runs "
        "that stopped (a worker died) and approved requests that were never started, submits them again and runs "
        "the periodic chores; 0 turns the periodic sweep off.",
    )
    sweep_batch: int = Field(
        default=200, ge=1, le=10_000, description="Most requests one sweep submits again (the rest wait for the next)."
    )
    inprocess_threads: int = Field(
        default=4,
        ge=1,
        le=64,
        description="With the in-process backend: most runs carried out at once by one process; more wait their turn.",
    )


# -- end background jobs --


class DeliverySettings(BaseSettings):
    """Pushing a portability package over HTTPS to the third party the person named (charter.delivery)."""

    model_config = SettingsConfigDict(env_prefix="CHARTER_DELIVERY_", extra="ignore")

    timeout: float = Field(
        default=30.0, gt=0, le=600, description="Seconds to connect to the recipient, and to wait for each read."
    )
    max_attempts: int = Field(
        default=3, ge=1, le=20, description="Tries when the recipient answers 5xx or cannot be reached."
    )
    retry_base: float = Field(
        default=2.0, ge=0, le=60, description="Seconds before the second try; doubled at each further one."
    )
    retry_max: float = Field(default=60.0, ge=0, le=3600, description="Longest wait between two tries, in seconds.")
    ca_bundle: Path | None = Field(
        default=None,
        description="A PEM file of the certificate authorities recipients' certificates must chain to; empty means "
        "the system's.",
    )
    allow_private_recipients: bool = Field(
        default=False,
        description="Accept recipient addresses on loopback, private or link-local networks (tests only: otherwise "
        "a request could make Charter post into the organization's own network).",
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
    banner: BannerSettings = Field(default_factory=BannerSettings)
    mail: MailSettings = Field(default_factory=MailSettings)
    preferences: PreferenceSettings = Field(default_factory=PreferenceSettings)
    mail_links: MailLinkSettings = Field(default_factory=MailLinkSettings)
    datamap: DatamapSettings = Field(default_factory=DatamapSettings)
    connectors: ConnectorSettings = Field(default_factory=ConnectorSettings)
    requests: RequestSettings = Field(default_factory=RequestSettings)
    execution: ExecutionSettings = Field(default_factory=ExecutionSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)  # charter.jobs
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)

    @classmethod
    def load(cls, **overrides: object) -> Settings:
        """The settings from the environment (and ``overrides``); SettingInvalid naming the variable and what
        it must be, never the value given (it may be a secret), when one cannot be taken."""
        try:
            return cls(**overrides)  # type: ignore[arg-type]
        except ValidationError as exc:
            raise SettingInvalid(_first_problem(exc)) from None

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


def _first_problem(exc: ValidationError) -> str:
    """``CHARTER_SECTION_FIELD: what it must be; set it in the environment or .env`` for the first error."""
    problem = exc.errors(include_url=False, include_input=False)[0]
    prefixes = {
        getattr(section, "__name__", ""): section.model_config.get("env_prefix", "")
        for section in (f.annotation for f in Settings.model_fields.values())
        if isinstance(section, type) and issubclass(section, BaseSettings)
    }
    prefix = prefixes.get(exc.title, Settings.model_config.get("env_prefix", "CHARTER_"))
    name = f"{prefix}{'_'.join(str(part) for part in problem['loc'])}".upper()
    message = str(problem["msg"]).removeprefix("Value error, ")
    return f"{name}: {message}; set it in the environment (or .env) and start again"
