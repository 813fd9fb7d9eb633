"""The shape of data-map files: Fides datasets, Charter's ``charter:`` blocks, systems.

A dataset file is a Fides dataset manifest (``dataset: [{fides_key,
collections: [{name, fields: [...]}]}]``) as fideslang 3 defines it, so a
Fides user's file loads unchanged. The models mirror fideslang's, field for
field, but forbid keys they do not know, so a misspelt key is reported with
"did you mean" instead of being silently dropped (fideslang ignores extra
keys). Keys that older fideslang versions defined are accepted and ignored.

Charter's extension is a ``charter:`` key beside ``fides_meta`` on a field
or a collection. fideslang's models ignore unknown keys, so Fides still
loads a file that carries it; keeping it out of ``fides_meta`` means it can
never collide with a key Fides adds there later. See docs/design/datamap.md.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

STRATEGIES = ("delete_row", "set_null", "keyed_hash", "random_token", "redact_text", "generalize_date", "keep")
#: Fides' masking strategies that mean the same as one of ours (``masking_strategy_override``, policy rules).
FIDES_STRATEGIES = {
    "delete": "delete_row",
    "null_rewrite": "set_null",
    "hash": "keyed_hash",
    "hmac": "keyed_hash",
    "random_string_rewrite": "random_token",
    "string_rewrite": "redact_text",
}
#: Fides' strategies Charter refuses, and why (named in the error, with what to use instead).
FIDES_REFUSED = {
    "aes_encrypt": (
        "aes_encrypt is reversible by whoever holds the key: it pseudonymizes, it does not erase; "
        "use hash or random_string_rewrite"
    ),
}
#: random_token's length when none is set, and the longest one (its HMAC-SHA256 in hex).
TOKEN_LENGTH, TOKEN_MAX = 24, 64
#: fideslang's DATA_TYPE_NAMES; ``[]`` after a name marks an array.
DATA_TYPES = ("string", "integer", "float", "boolean", "object_id", "object")
FIDES_KEY = re.compile(r"^[a-zA-Z0-9_.<>-]+$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _did_you_mean(value: str, known: tuple[str, ...], what: str) -> str:
    close = difflib.get_close_matches(value, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"known: {', '.join(known)}"
    return f"unknown {what} '{value}'; {hint}"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def _fides_key(value: str) -> str:
    if not FIDES_KEY.match(value):
        raise ValueError(f"'{value}' is not a valid key: use letters, digits, '_', '-', '.', '<' or '>'")
    return value


class Erasure(_Strict):
    """How a field (or every personal field of a collection) is erased; ``keep`` keeps it, with a reason."""

    strategy: str
    to: Literal["year", "month"] | None = Field(default=None, description="generalize_date: keep only this much.")
    replacement: str | None = Field(default=None, max_length=200, description="redact_text: the text put instead.")
    length: int | None = Field(
        default=None, ge=8, le=TOKEN_MAX, description="random_token: its length (default 24, at most 64)."
    )
    reason: str | None = Field(
        default=None, max_length=300, description="keep: why the data is kept (shown in plans and certificates)."
    )

    @field_validator("strategy", mode="before")
    @classmethod
    def _known(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        if value in FIDES_REFUSED:
            raise ValueError(FIDES_REFUSED[value])
        value = FIDES_STRATEGIES.get(value, value)
        if value not in STRATEGIES:
            known = (*STRATEGIES, *FIDES_STRATEGIES)
            raise ValueError(_did_you_mean(value, known, "erasure strategy"))
        return value

    @model_validator(mode="after")
    def _options_fit(self) -> Erasure:
        if self.to is not None and self.strategy != "generalize_date":
            raise ValueError("'to' applies only to generalize_date")
        if self.replacement is not None and self.strategy != "redact_text":
            raise ValueError("'replacement' applies only to redact_text")
        if self.length is not None and self.strategy != "random_token":
            raise ValueError("'length' applies only to random_token")
        if self.reason is not None and self.strategy != "keep":
            raise ValueError("'reason' applies only to keep")
        if self.strategy == "keep" and not (self.reason or "").strip():
            raise ValueError("keep needs a reason, e.g. {strategy: keep, reason: 'tax records, 10 years (P-RET-2)'}")
        return self


def fides_erasure(strategy: str, configuration: dict[str, Any] | None) -> Erasure:
    """A Fides masking strategy and its configuration as Charter's :class:`Erasure`.

    Each configuration key is honoured or refused by name (ValueError naming it
    and the fix): a silently ignored ``algorithm: SHA-512`` would leave people
    believing their data was masked in a way it was not.
    """
    if strategy in FIDES_REFUSED:
        raise ValueError(FIDES_REFUSED[strategy])
    config = dict(configuration or {})
    ours = FIDES_STRATEGIES.get(strategy, strategy)
    options: dict[str, Any] = {}
    if "format_preservation" in config:
        raise ValueError(f"{strategy}: configuration 'format_preservation' is not supported by Charter; remove it")
    if ours == "redact_text" and "rewrite_value" in config:
        options["replacement"] = config.pop("rewrite_value")
    if ours == "random_token" and "length" in config:
        options["length"] = config.pop("length")
    if ours == "keyed_hash" and "algorithm" in config:
        algorithm = str(config.pop("algorithm"))
        if algorithm.upper().replace("_", "-") != "SHA-256":
            raise ValueError(
                f"{strategy}: algorithm '{algorithm}' is not supported; Charter's hash is HMAC-SHA-256 under the "
                "installation's secret key (set algorithm: SHA-256 or remove it)"
            )
    if config:
        names = ", ".join(sorted(config))
        raise ValueError(f"{strategy}: configuration {names} is not supported by Charter; remove it")
    return Erasure(strategy=strategy, **options)


def _erasure_shorthand(value: Any) -> Any:
    """``erasure: set_null`` is short for ``erasure: {strategy: set_null}``."""
    return {"strategy": value} if isinstance(value, str) else value


class CharterFieldMeta(_Strict):
    erasure: Erasure | None = None

    _shorthand = field_validator("erasure", mode="before")(lambda cls, v: _erasure_shorthand(v))


class CharterCollectionMeta(_Strict):
    erasure: Erasure | None = None
    key: str | None = Field(
        default=None,
        max_length=500,
        description="Redis only: the key pattern, e.g. 'cart:{email}' (a field in braces) or 'session:*'.",
    )
    unfollowed: list[str] | None = Field(
        default=None,
        max_length=200,
        description="Fields whose foreign keys in the store the map deliberately does not follow as references.",
    )

    _shorthand = field_validator("erasure", mode="before")(lambda cls, v: _erasure_shorthand(v))


class Reference(_Strict):
    dataset: str
    field: str
    direction: Literal["from", "to"] | None = None

    _key = field_validator("dataset")(lambda cls, v: _fides_key(v))


class MaskingOverride(_Strict):
    """Fides' ``masking_strategy_override`` (and a policy rule's ``masking_strategy``): a Fides strategy name."""

    strategy: str
    configuration: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _understood(self) -> MaskingOverride:
        fides_erasure(self.strategy, self.configuration)  # refused by name here, at load, with its line
        return self

    @property
    def erasure(self) -> Erasure:
        return fides_erasure(self.strategy, self.configuration)


class FieldMeta(_Strict):
    references: list[Reference] | None = None
    identity: str | None = None
    primary_key: bool | None = None
    data_type: str | None = None
    length: int | None = Field(default=None, gt=0)
    return_all_elements: bool | None = None
    read_only: bool | None = None
    custom_request_field: str | None = None
    masking_strategy_override: MaskingOverride | None = None
    redact: Literal["name"] | None = None

    @field_validator("data_type")
    @classmethod
    def _data_type(cls, value: str | None) -> str | None:
        if value is not None and value.removesuffix("[]") not in DATA_TYPES:
            raise ValueError(_did_you_mean(value, DATA_TYPES, "data_type"))
        return value


class _Described(_Strict):
    """What fideslang puts on datasets, collections and fields alike (plus keys older versions had)."""

    description: str | None = None
    data_categories: list[str] | None = None
    data_uses: list[str] | None = None
    data_purposes: list[str] | None = None
    data_subjects: list[str] | None = None
    data_qualifier: str | None = None  # fideslang 1.x; accepted, ignored
    retention: str | None = None  # fideslang 1.x; accepted, ignored


#: what a field without ``fides_meta`` has (frozen, so one is shared: a run asks hundreds of times)
_NO_META = FieldMeta()


class DatasetField(_Described):
    name: str = Field(min_length=1)
    fides_meta: FieldMeta | None = None
    fidesops_meta: FieldMeta | None = None  # Fides' older name, still accepted by fideslang
    fields: list[DatasetField] | None = None
    charter: CharterFieldMeta | None = None

    @property
    def meta(self) -> FieldMeta:
        return self.fides_meta or self.fidesops_meta or _NO_META


class CollectionMeta(_Strict):
    after: list[str] | None = None
    erase_after: list[str] | None = None
    skip_processing: bool | None = False
    masking_strategy_override: MaskingOverride | None = None
    partitioning: dict[str, Any] | list[dict[str, Any]] | None = None
    redact: Literal["name"] | None = None


class DatasetCollection(_Described):
    name: str = Field(min_length=1)
    fields: list[DatasetField]
    fides_meta: CollectionMeta | None = None
    fidesops_meta: CollectionMeta | None = None
    charter: CharterCollectionMeta | None = None

    @property
    def meta(self) -> CollectionMeta:
        return self.fides_meta or self.fidesops_meta or CollectionMeta()


class DatasetMeta(_Strict):
    resource_id: str | None = None
    after: list[str] | None = None
    namespace: dict[str, Any] | None = None
    redact: Literal["name"] | None = None


class Dataset(_Described):
    fides_key: str
    organization_fides_key: str = "default_organization"
    tags: list[str] | None = None
    name: str | None = None
    meta: dict[str, Any] | None = None
    fides_meta: DatasetMeta | None = None
    fidesops_meta: DatasetMeta | None = None
    collections: list[DatasetCollection]
    joint_controller: Any = None  # fideslang 1.x; accepted, ignored
    third_country_transfers: list[str] | None = None  # fideslang 1.x; accepted, ignored

    _key = field_validator("fides_key")(lambda cls, v: _fides_key(v))

    @property
    def schema_name(self) -> str | None:
        """The database schema its tables live in (Fides: ``fides_meta.namespace.schema``)."""
        meta = self.fides_meta or self.fidesops_meta
        namespace = meta.namespace if meta else None
        value = (namespace or {}).get("schema")
        return str(value) if value else None


class System(_Strict):
    """A store holding some datasets. Its URL comes from the environment; never a secret in the file."""

    id: str = Field(min_length=1, max_length=80)
    kind: Literal["sql", "redis"]
    url_env: str | None = Field(default=None, description="The environment variable holding the URL.")
    url: str | None = Field(default=None, description="A literal URL: SQLite files only (no secret to keep).")
    datasets: list[str] = Field(min_length=1)
    description: str | None = None

    _key = field_validator("id")(lambda cls, v: _fides_key(v))

    @field_validator("url_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not ENV_NAME.match(value):
            raise ValueError(f"'{value}' is not an environment variable name")
        return value

    @field_validator("url")
    @classmethod
    def _only_sqlite(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("sqlite"):
            raise ValueError(
                "a literal url is allowed for SQLite files only; put other URLs in an environment variable "
                "and name it with url_env (a password never belongs in this file)"
            )
        return value

    @model_validator(mode="after")
    def _one_url(self) -> System:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url_env (the environment variable with the URL) or url (SQLite)")
        if self.kind == "redis" and self.url is not None:
            raise ValueError("a redis system takes its URL from url_env")
        return self


class RuleTarget(_Strict):
    """A rule applies to fields of this data category and every category below it in the taxonomy."""

    data_category: str
    name: str | None = None
    key: str | None = None


class PolicyRule(_Strict):
    """One rule of a Fides DSR policy: Charter uses the erasure rules; access rules are accepted and ignored."""

    name: str | None = None
    key: str | None = None
    action_type: Literal["erasure", "access", "consent", "update"] = "erasure"
    masking_strategy: MaskingOverride | None = None
    targets: list[RuleTarget] = Field(default_factory=list)
    storage_destination: Any = None  # Fides' access rules; not Charter's business

    @model_validator(mode="after")
    def _erasure_has_strategy(self) -> PolicyRule:
        if self.action_type == "erasure" and self.masking_strategy is None:
            raise ValueError("an erasure rule needs masking_strategy, e.g. {strategy: null_rewrite}")
        if self.action_type == "erasure" and not self.targets:
            raise ValueError("an erasure rule needs targets, e.g. [{data_category: user.contact}]")
        return self

    @property
    def label(self) -> str:
        return self.key or self.name or "(unnamed rule)"


class ErasurePolicy(_Strict):
    """Which data categories a deletion erases, and how: Fides' erasure policy, in a data-map file.

    ``identities`` is Charter's: how an identity field is erased when no rule
    covers its categories (an e-mail filed under ``system.operations`` still
    names the person). Without a policy in the map, Charter's default applies
    (``charter.datamap.erasure_policy.DEFAULT``).
    """

    key: str | None = None
    fides_key: str | None = None
    name: str | None = None
    description: str | None = None
    identities: MaskingOverride | None = None
    rules: list[PolicyRule] = Field(min_length=1)
    execution_timeframe: int | None = None  # Fides'; Charter's deadlines come from the statement
    drp_action: str | None = None
    client_id: str | None = None

    @property
    def label(self) -> str:
        return self.key or self.fides_key or self.name or "erasure policy"


class DatamapFile(_Strict):
    """One YAML file: datasets (Fides' ``dataset`` key), systems, an erasure policy, or any of them."""

    dataset: list[Dataset] | None = None
    systems: list[System] | None = None
    erasure_policy: ErasurePolicy | None = None
    # Other Fides resource types may share a manifest file; they are not the data map's business.
    system: Any = None
    organization: Any = None
    data_category: Any = None
    data_use: Any = None
    data_subject: Any = None
    policy: Any = None
