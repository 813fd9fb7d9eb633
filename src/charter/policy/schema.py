"""The machine-readable privacy statement.

A ``Statement`` is what an organization promises, in a form Charter can
enforce: every rule names the promise IDs it implements (``promises``) and
the section of the human text it comes from (``cite``). Where the human text
is vague ("a reasonable time"), the figure is written here with
``assumed: <why>`` so nobody mistakes a default for a quotation.

The schema checks shapes and types; ``charter.policy.check`` checks meaning
(references resolve, deadlines exist, vocabulary is known).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from charter.policy.types import DurationField, Identifier, PromiseId, Region


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Traced(Model):
    """Anything that implements promises: says which, where, and what was assumed."""

    promises: list[PromiseId] = Field(default_factory=list)
    cite: str = Field(default="", description="Section of the human statement this comes from.")
    assumed: str | None = Field(default=None, description="Set when a figure is a default for vague wording: says why.")


class Traceable(Traced):
    """A rule-like item: promises and citation are required."""

    promises: list[PromiseId] = Field(min_length=1)
    cite: str = Field(min_length=1)


# --- organization --------------------------------------------------------------------

Role = Literal["controller", "processor"]


class Affiliate(Model):
    id: Identifier
    name: str
    country: Region | None = None


class Service(Traced):
    id: Identifier
    name: str
    description: str = ""
    role: Role = "controller"
    controller: Literal["organization", "client"] = "organization"
    collects: list[str] = Field(default_factory=list, description="Data categories the service may hold.")
    subjects: list[str] = Field(default_factory=list)


class Organization(Model):
    name: str
    short_name: str
    affiliates: list[Affiliate] = Field(default_factory=list)
    services: list[Service] = Field(default_factory=list)


# --- vocabulary ----------------------------------------------------------------------


class TermExtension(Model):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$")
    name: str
    description: str = ""


class Vocabulary(Model):
    """Terms this statement adds to fideslang's and Charter's defaults."""

    data_categories: list[TermExtension] = Field(default_factory=list)
    data_uses: list[TermExtension] = Field(default_factory=list)
    data_subjects: list[TermExtension] = Field(default_factory=list)


class AnonymousInformation(Traced):
    description: str
    purposes: list[Identifier] = Field(default_factory=list)


class Definitions(Traced):
    personal_information: str
    linked_data_is_personal: bool = True
    sensitive_categories: list[str] = Field(default_factory=list)
    anonymous_information: AnonymousInformation | None = None


# --- collection ----------------------------------------------------------------------

SourceKind = Literal["direct", "automatic", "client", "third_party", "inferred"]


class CollectionSource(Traced):
    kind: SourceKind
    description: str


class AgeException(Traced):
    """Collection below the minimum age allowed only under named conditions."""

    id: Identifier
    description: str
    services: list[Identifier] = Field(default_factory=list)
    sources: list[SourceKind] = Field(default_factory=list, description="e.g. only via the client (school).")
    parental_consent_proof: ParentalConsentProof | None = None


class ParentalConsentProof(Traced):
    below_age: int = Field(ge=1, le=21)
    provided_by: Literal["client", "parent"] = "client"
    within: DurationField
    otherwise: Literal["delete_all", "restrict"] = "delete_all"


class MinimumAge(Traceable):
    age: int = Field(ge=0, le=21)
    parent_can_request_removal: bool = False
    exceptions: list[AgeException] = Field(default_factory=list)


class Collection(Traced):
    categories: list[str] = Field(default_factory=list, description="What may be collected.")
    sources: list[CollectionSource] = Field(default_factory=list)
    minimum_age: MinimumAge | None = None
    consent_by_providing: bool = Field(
        default=False, description="Providing PI records consent to this statement (P-COL-4)."
    )


# --- purposes and rules ----------------------------------------------------------------

LegalBasis = Literal[
    "consent",
    "contract",
    "legal_obligation",
    "legitimate_interests",
    "vital_interests",
    "public_task",
    "client_instruction",
]
ConsentMode = Literal["none", "opt_in", "opt_out"]


class Purpose(Traceable):
    id: Identifier
    name: str
    description: str = ""
    data_use: str
    legal_basis: LegalBasis
    consent: ConsentMode = "none"
    explicit: bool = Field(default=False, description="Consent must be explicit (not implied by use).")
    withdrawable: bool = True
    condition_of_service: bool = Field(default=False, description="May the service be refused without it?")
    withdrawal: Literal["any", "written"] = "any"


Effect = Literal["allow", "consent", "opt_out", "forbid"]
ObligationKind = Literal[
    "record_disclosure",
    "notify_subject",
    "notify_client",
    "deidentify",
    "pseudonymize",
    "parental_consent_proof",
    "good_faith_legal_review",
    "contract_required",
    "access_control",
    "client_use_only",
    "written_consent_to_share",
]


class Obligation(Model):
    kind: ObligationKind
    unless: str | None = Field(default=None, description="e.g. 'law forbids'.")
    within: DurationField | None = None


class Conditions(Model):
    """When a rule applies. Absent fields do not constrain."""

    min_age: int | None = Field(default=None, ge=0, le=120)
    max_age: int | None = Field(default=None, ge=0, le=120)
    jurisdictions: list[Region] = Field(default_factory=list)
    services: list[Identifier] = Field(default_factory=list)
    sources: list[SourceKind] = Field(default_factory=list)
    within_subscribed_services: bool | None = None
    countries: list[Region] = Field(default_factory=list, description="Destination countries.")


class Rule(Traceable):
    """category × purpose × subject → effect, when conditions hold.

    Effects combine strictest first: forbid > consent > opt_out > allow. A
    use that no rule allows is refused (P-USE-1). ``recipients`` empty means
    the rule does not depend on a recipient: an allow rule then covers use
    without disclosure, a forbid rule covers every use, disclosed or not.
    """

    id: Identifier
    description: str
    effect: Effect
    categories: list[str] = Field(min_length=1)
    purposes: list[Identifier] = Field(min_length=1)
    subjects: list[str] = Field(default_factory=lambda: ["*"])
    recipients: list[Identifier] = Field(default_factory=list)
    when: Conditions = Field(default_factory=Conditions)
    obligations: list[Obligation] = Field(default_factory=list)


class Regime(Traceable):
    """A named body of special rules (CPNI, school data, HIPAA, analytics…)."""

    id: Identifier
    name: str
    summary: str
    rules: list[Rule] = Field(default_factory=list)


# --- retention -----------------------------------------------------------------------

RetentionAction = Literal["delete", "anonymize", "pseudonymize"]
RetentionTrigger = Literal["collection", "last_activity", "end_of_contract", "purpose_fulfilled", "obligation_ends"]


class RetentionRule(Traceable):
    id: Identifier
    description: str = ""
    categories: list[str] = Field(min_length=1)
    purposes: list[Identifier] = Field(default_factory=list)
    period: DurationField
    trigger: RetentionTrigger = "purpose_fulfilled"
    action: RetentionAction = "delete"


class Retention(Traced):
    rules: list[RetentionRule] = Field(default_factory=list)
    deletion_may_be_refused_for_legal_obligation: bool = False
    legal_hold: bool = Field(default=True, description="Litigation holds suspend destruction (P-RET-3).")


# --- sharing and transfers -----------------------------------------------------------

RecipientKind = Literal[
    "affiliate",
    "client",
    "processor",
    "partner",
    "third_party_service",
    "government",
    "rights_protection",
    "successor",
    "unrelated_third_party",
    "advertiser",
    "data_broker",
    "direct_marketer",
]
ShareForm = Literal["personal", "deidentified_aggregate", "pseudonymized"]


class Recipient(Traceable):
    id: Identifier
    name: str
    kind: RecipientKind
    description: str
    form: ShareForm = "personal"
    basis: (
        Literal[
            "permission",
            "client_supplied",
            "contract",
            "purchase",
            "law",
            "rights_protection",
            "merger",
            "legitimate_interests",
        ]
        | None
    ) = Field(default=None, description="Why data may go there; None for recipients that are only ever refused.")
    subject_can_refuse: bool = Field(default=True, description="P-SHR-3: refusable unless the law requires it.")
    obligations: list[Obligation] = Field(default_factory=list)


Mechanism = Literal[
    "standard_contractual_clauses",
    "privacy_shield",
    "adequacy",
    "binding_corporate_rules",
    "consent",
    "intra_group_agreement",
]


class TransferMechanism(Traceable):
    id: Identifier
    origins: list[Region] = Field(min_length=1)
    destinations: list[Region] = Field(min_length=1)
    mechanism: Mechanism
    description: str = ""
    requires_consent: bool = False


class Transfers(Traced):
    countries: list[Region] = Field(default_factory=list, description="Where PI may be processed.")
    mechanisms: list[TransferMechanism] = Field(default_factory=list)


# --- rights --------------------------------------------------------------------------

RightKind = Literal[
    "access",
    "correction",
    "deletion",
    "restriction",
    "objection",
    "portability",
    "opt_out_sale",
    "limit_use",
    "withdraw_consent",
    "know_transfers",
    "complain",
]
Verification = Literal["none", "email", "email_and_facts", "email_facts_and_document"]


class RightOffer(Traced):
    right: RightKind
    deadline: DurationField | None = None
    extension: DurationField | None = None
    verification: Verification = "email"
    notes: str = ""


class Jurisdiction(Traced):
    id: Identifier
    name: str
    law: str = ""
    regions: list[Region] = Field(min_length=1)
    acknowledge_within: DurationField | None = None
    deadline: DurationField | None = Field(default=None, description="Default for its rights.")
    extension: DurationField | None = None
    rights: list[RightOffer] = Field(default_factory=list)
    dispute_body: str | None = None


class Rights(Traced):
    jurisdictions: list[Jurisdiction] = Field(default_factory=list)
    authorized_agents: bool = False
    agent_proof_required: bool = False
    verify_with_data_held: bool = True
    non_discrimination: bool = False
    refusal_reasons: list[str] = Field(default_factory=list)


# --- tracking ------------------------------------------------------------------------


Lifetime = Literal["session", "persistent"]


class CookieClass(Traced):
    id: Literal["necessary", "functional", "analytics", "marketing"]
    name: str
    description: str
    lifetimes: list[Lifetime] = Field(default_factory=lambda: list[Lifetime](["session", "persistent"]))
    required: bool = False
    purposes: list[Identifier] = Field(default_factory=list)


class BrowserSignal(Traced):
    signal: Literal["dnt", "gpc"]
    denies: list[Identifier] = Field(min_length=1, description="Purposes refused while the signal is on.")
    treated_as: list[Literal["opt_out_sale", "opt_out_sharing", "no_cross_site_tracking"]] = Field(default_factory=list)


class EmailTracking(Traced):
    open_pixels: bool = False
    stops_on_unsubscribe: bool = True


class Tracking(Traced):
    cookies: list[CookieClass] = Field(default_factory=list)
    signals: list[BrowserSignal] = Field(default_factory=list)
    email: EmailTracking | None = None
    login_services_need_essential_cookies: bool = True


# --- the rest ------------------------------------------------------------------------


class Contact(Model):
    id: Identifier
    purpose: Literal["privacy", "dpo", "legal", "law_enforcement", "subject_requests", "ethics", "general"]
    name: str = ""
    title: str = ""
    email: str | None = None
    phone: str | None = None
    url: str | None = None
    address: list[str] = Field(default_factory=list)
    region: str = ""


class Agreement(Traced):
    id: Identifier
    name: str
    kind: Literal["dpa", "scc_addendum"]
    description: str = ""
    effective_on: Literal["receipt", "signature"] = "receipt"
    steps: list[str] = Field(default_factory=list)
    return_to: str | None = None
    url: str | None = None


class Security(Traced):
    measures: str = ""
    encryption_at_rest: bool = True
    breach_notify: list[Literal["subject", "client", "regulator"]] = Field(default_factory=list)
    breach_deadline: DurationField | None = None


class ChangePolicy(Traced):
    announce_substantive: bool = True
    channels: list[str] = Field(default_factory=lambda: ["website"])
    consent_when_law_requires: bool = True
    continued_use_is_acceptance: bool = False


class Section(Model):
    """Free text the organization wants shown verbatim (e.g. a notice with no rule)."""

    id: Identifier
    title: str
    body: str
    cite: str = ""


class Statement(Model):
    charter: Literal[1] = Field(description="Schema version of this file.")
    version: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
    effective: date
    title: str = "Privacy Statement"
    introduction: str = ""
    organization: Organization
    vocabulary: Vocabulary = Field(default_factory=Vocabulary)
    definitions: Definitions
    collection: Collection = Field(default_factory=Collection)
    purposes: list[Purpose] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    regimes: list[Regime] = Field(default_factory=list)
    retention: Retention = Field(default_factory=Retention)
    recipients: list[Recipient] = Field(default_factory=list)
    transfers: Transfers = Field(default_factory=Transfers)
    rights: Rights = Field(default_factory=Rights)
    tracking: Tracking = Field(default_factory=Tracking)
    security: Security = Field(default_factory=Security)
    changes: ChangePolicy = Field(default_factory=ChangePolicy)
    agreements: list[Agreement] = Field(default_factory=list)
    contacts: list[Contact] = Field(default_factory=list)
    notices: list[Section] = Field(default_factory=list)

    def all_rules(self) -> list[Rule]:
        """General rules followed by every regime's, in document order."""
        return [*self.rules, *(rule for regime in self.regimes for rule in regime.rules)]


AgeException.model_rebuild()
