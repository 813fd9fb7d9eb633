"""The statement as people read it: sections of plain sentences, built from the rules.

Both renderings (Markdown and HTML) are drawn from this one view, so the
text a visitor reads cannot disagree with what Charter enforces. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from charter.policy.check import vocabulary_of
from charter.policy.schema import Jurisdiction, Rule, Statement
from charter.taxonomy import Kind, Taxonomy

RIGHT_LABELS = {
    "access": "Know whether we hold personal information about you and get a copy (access)",
    "correction": "Have inaccurate personal information corrected",
    "deletion": "Have your personal information deleted (to be forgotten)",
    "restriction": "Restrict how we process your personal information",
    "objection": "Object to processing",
    "portability": "Receive your data in a machine-readable form, or have it sent to a third party you name",
    "opt_out_sale": "Opt out of the sale or sharing of your personal information",
    "limit_use": "Limit use and disclosure, including refusing disclosure to third parties",
    "withdraw_consent": "Withdraw consent you gave",
    "know_transfers": "Learn whether your personal information was transferred to another country",
    "complain": "Complain, and have an unresolved complaint heard by an independent body",
}
EFFECT_PHRASES = {
    "allow": "is permitted",
    "opt_out": "is permitted unless you opt out",
    "consent": "needs your consent",
    "forbid": "is never permitted",
}
LEGAL_BASES = {
    "consent": "your consent",
    "contract": "our contract with you",
    "legal_obligation": "a legal obligation",
    "legitimate_interests": "our legitimate interests",
    "vital_interests": "protecting someone's vital interests",
    "public_task": "a task in the public interest",
    "client_instruction": "the instructions of the client that gave us the information",
}
CONSENT_PHRASES = {"none": "", "opt_in": "only with your consent", "opt_out": "unless you opt out"}
SOURCE_LABELS = {
    "direct": "You give it to us directly",
    "automatic": "We collect it automatically when you use our services",
    "client": "A client of ours gives it to us so we can serve them",
    "third_party": "Trusted third parties give it to us",
    "inferred": "We infer it from information you gave us",
}
RECIPIENT_KINDS = {
    "affiliate": "Our affiliates",
    "client": "Our clients",
    "processor": "Service providers working for us",
    "partner": "Business partners",
    "third_party_service": "Providers of third-party services you buy",
    "government": "Government and courts",
    "rights_protection": "To protect rights and safety",
    "successor": "A successor organization",
    "unrelated_third_party": "Unrelated third parties",
    "advertiser": "Advertisers",
    "data_broker": "Data brokers",
    "direct_marketer": "Direct marketers",
}
MECHANISMS = {
    "standard_contractual_clauses": "Standard Contractual Clauses approved by the European Commission",
    "privacy_shield": "the EU-U.S. and Swiss-U.S. Privacy Shield Frameworks",
    "adequacy": "an adequacy decision",
    "binding_corporate_rules": "binding corporate rules",
    "consent": "your consent",
    "intra_group_agreement": "data transfer agreements between our companies",
}


@dataclass(frozen=True)
class Section:
    id: str
    title: str
    paragraphs: list[str] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)
    item_ids: list[str] = field(default_factory=list)
    """Stable anchors for ``items`` (same order) where other pages link to one item."""


@dataclass(frozen=True)
class StatementView:
    title: str
    version: str
    effective: str
    organization: str
    introduction: str
    sections: list[Section]


def purpose_anchor(purpose_id: str) -> str:
    """The id of a purpose's item in the rendered statement (``/privacy#purpose-ID``)."""
    return f"purpose-{purpose_id}"


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


class _Builder:
    def __init__(self, statement: Statement, taxonomy: Taxonomy) -> None:
        self.s = statement
        self.t = taxonomy
        self.purpose_names = {p.id: p.name for p in statement.purposes}
        self.recipient_names = {r.id: r.name for r in statement.recipients}

    def categories(self, keys: list[str]) -> str:
        return _join([self.t.label(Kind.DATA_CATEGORY, key) for key in keys])

    def rule_sentence(self, rule: Rule) -> str:
        purposes = _join([self.purpose_names.get(p, p) for p in rule.purposes])
        text = f"Using {self.categories(rule.categories).lower()} for {purposes.lower()} {EFFECT_PHRASES[rule.effect]}"
        if rule.recipients:
            text += f" when shared with {_join([self.recipient_names.get(r, r) for r in rule.recipients])}"
        conditions = []
        when = rule.when
        if when.min_age is not None:
            conditions.append(f"you are at least {when.min_age}")
        if when.max_age is not None:
            conditions.append(f"you are at most {when.max_age}")
        if when.jurisdictions:
            conditions.append(f"you are in {_join(when.jurisdictions)}")
        if when.within_subscribed_services is not None:
            conditions.append(
                "it concerns services you already buy"
                if when.within_subscribed_services
                else "it concerns services you do not already buy"
            )
        if conditions:
            text += " where " + _join(conditions)
        return f"{text}. {rule.description}".strip()

    def build(self) -> StatementView:
        s = self.s
        sections = [
            self.who_we_are(),
            self.definitions(),
            self.collection(),
            self.purposes(),
            *([self.rules()] if s.rules else []),
            *(self.regime(i) for i in range(len(s.regimes))),
            self.retention(),
            self.sharing(),
            self.transfers(),
            self.rights(),
            self.tracking(),
            self.security(),
            *(Section(n.id, n.title, [n.body]) for n in s.notices),
            self.changes(),
            *([self.agreements()] if s.agreements else []),
            self.contacts(),
        ]
        return StatementView(
            title=s.title,
            version=s.version,
            effective=s.effective.strftime("%B %-d, %Y"),
            organization=s.organization.name,
            introduction=s.introduction,
            sections=sections,
        )

    def who_we_are(self) -> Section:
        org = self.s.organization
        paragraphs = [f"This statement applies to {org.name} (\u201c{org.short_name}\u201d)."]
        if org.affiliates:
            paragraphs.append("It also covers our affiliates: " + _join([a.name for a in org.affiliates]) + ".")
        items = []
        for service in org.services:
            role = (
                "we process personal information on behalf of our client, who controls it"
                if service.role == "processor"
                else "we control the personal information"
            )
            items.append(f"{service.name}: {role}. {service.description}".strip())
        return Section("who-we-are", "Who we are", paragraphs, items)

    def definitions(self) -> Section:
        d = self.s.definitions
        paragraphs = [d.personal_information]
        if d.linked_data_is_personal:
            paragraphs.append(
                "If we link other data with your personal information, we treat it as personal information."
            )
        if d.sensitive_categories:
            paragraphs.append("Sensitive personal information: " + self.categories(d.sensitive_categories) + ".")
        if d.anonymous_information is not None:
            paragraphs.append(d.anonymous_information.description)
        return Section("definitions", "What we mean by personal information", paragraphs)

    def collection(self) -> Section:
        c = self.s.collection
        paragraphs = []
        if c.categories:
            paragraphs.append("We may collect: " + self.categories(c.categories) + ".")
        items = [f"{SOURCE_LABELS[src.kind]}: {src.description}" for src in c.sources]
        subsections = []
        if c.minimum_age is not None:
            age = c.minimum_age
            text = [f"If you are under {age.age}, we do not collect your personal information."]
            if age.parent_can_request_removal:
                text.append("A parent who believes their child gave us personal information can ask us to remove it.")
            for exception in age.exceptions:
                text.append(exception.description)
                proof = exception.parental_consent_proof
                if proof is not None:
                    text.append(
                        f"For a child under {proof.below_age}, the {proof.provided_by} must give us proof of "
                        f"parental consent within {proof.within}, or we delete all of that child's information."
                    )
            subsections.append(Section("minimum-age", "Children", text))
        if c.consent_by_providing:
            paragraphs.append(
                "By providing personal information you consent to its processing as this statement describes."
            )
        return Section("collection", "What we collect and where it comes from", paragraphs, items, subsections)

    def purposes(self) -> Section:
        items = []
        for p in self.s.purposes:
            basis = f" Legal basis: {LEGAL_BASES[p.legal_basis]}."
            consent = CONSENT_PHRASES[p.consent]
            extra = f" We do this {consent}." if consent else ""
            if p.consent == "opt_in" and not p.condition_of_service:
                extra += " Your consent is not a condition of our services."
            if p.consent != "none" and p.withdrawable:
                how = "in writing" if p.withdrawal == "written" else "at any time"
                extra += f" You can withdraw it {how}."
            items.append(f"{p.name}. {p.description}{basis}{extra}".replace("..", ".").strip())
        anchors = [purpose_anchor(p.id) for p in self.s.purposes]
        return Section("purposes", "How we use personal information", [], items, item_ids=anchors)

    def rules(self) -> Section:
        return Section("rules", "Rules we follow", [], [self.rule_sentence(r) for r in self.s.rules])

    def regime(self, index: int) -> Section:
        regime = self.s.regimes[index]
        return Section(
            f"regime-{regime.id}", regime.name, [regime.summary], [self.rule_sentence(r) for r in regime.rules]
        )

    def retention(self) -> Section:
        r = self.s.retention
        items = []
        for rule in r.rules:
            action = {"delete": "deleted", "anonymize": "anonymized", "pseudonymize": "pseudonymized"}[rule.action]
            trigger = rule.trigger.replace("_", " ")
            items.append(
                f"{self.categories(rule.categories)}: kept {rule.period} after {trigger}, then {action}. "
                f"{rule.description}".strip()
            )
        paragraphs = ["We keep personal information only as long as its purpose or the law needs."]
        if r.deletion_may_be_refused_for_legal_obligation:
            paragraphs.append(
                "We may refuse a request to delete data we are legally obliged to keep; that data then follows "
                "our standard retention schedule."
            )
        if r.legal_hold:
            paragraphs.append(
                "Records relevant to pending litigation or an investigation are kept until the matter is closed."
            )
        return Section("retention", "How long we keep it", paragraphs, items)

    def sharing(self) -> Section:
        items = []
        for recipient in self.s.recipients:
            text = f"{recipient.name} ({RECIPIENT_KINDS[recipient.kind].lower()}): {recipient.description}"
            if recipient.form == "deidentified_aggregate":
                text += " We de-identify it first and minimize the risk of re-identification."
            items.append(text)
        return Section("sharing", "Who we share it with", [], items)

    def transfers(self) -> Section:
        t = self.s.transfers
        paragraphs = []
        if t.countries:
            names = [("the rest of the world" if c == "*" else c) for c in t.countries]
            paragraphs.append("Your personal information may be processed in " + _join(names) + ".")
        items = []
        for m in t.mechanisms:
            origins = _join(["anywhere" if o == "*" else o for o in m.origins])
            destinations = _join(["anywhere" if d == "*" else d for d in m.destinations])
            text = f"From {origins} to {destinations}: we rely on {MECHANISMS[m.mechanism]}."
            if m.requires_consent:
                text += " We ask for your consent before your data leaves."
            items.append(f"{text} {m.description}".strip())
        return Section("transfers", "Where your information goes", paragraphs, items)

    def rights(self) -> Section:
        r = self.s.rights
        paragraphs = []
        if r.verify_with_data_held:
            paragraphs.append(
                "We verify your identity before completing a request, using information we already hold and "
                "asking for more only when that is not enough."
            )
        if r.authorized_agents:
            paragraphs.append(
                "An authorized agent may make a request for you"
                + (", with proof of their authority." if r.agent_proof_required else ".")
            )
        if r.non_discrimination:
            paragraphs.append("We will not treat you worse for exercising your privacy rights.")
        if r.refusal_reasons:
            paragraphs.append("We may refuse a request where: " + "; ".join(r.refusal_reasons) + ".")
        return Section("rights", "Your rights", paragraphs, [], [self.jurisdiction(j) for j in r.jurisdictions])

    def jurisdiction(self, j: Jurisdiction) -> Section:
        items = []
        for offer in j.rights:
            deadline = offer.deadline or j.deadline
            extension = offer.extension or j.extension
            text = RIGHT_LABELS[offer.right]
            if deadline is not None:
                text += f": we answer within {deadline}"
                if extension is not None:
                    text += f" (extendable by {extension}, and we tell you why)"
            items.append(text + ".")
        paragraphs = []
        if j.law:
            paragraphs.append(f"Under {j.law}.")
        if j.acknowledge_within is not None:
            paragraphs.append(f"We acknowledge a request within {j.acknowledge_within}.")
        if j.dispute_body:
            paragraphs.append(f"Unresolved complaints can go to {j.dispute_body}.")
        return Section(f"rights-{j.id}", j.name, paragraphs, items)

    def tracking(self) -> Section:
        t = self.s.tracking
        items = [
            f"{c.name}: {c.description}" + (" Always on: the site needs them." if c.required else "") for c in t.cookies
        ]
        paragraphs = []
        for signal in t.signals:
            name = "Do Not Track" if signal.signal == "dnt" else "Global Privacy Control"
            denied = _join([self.purpose_names.get(p, p).lower() for p in signal.denies])
            paragraphs.append(f"If your browser sends {name}, we do not use your data for {denied}.")
        if t.email is not None and t.email.open_pixels:
            paragraphs.append(
                "Our HTML e-mails contain transparent images that tell us when an e-mail is opened"
                + ("; unsubscribing stops both the e-mails and the tracking." if t.email.stops_on_unsubscribe else ".")
            )
        if t.login_services_need_essential_cookies:
            paragraphs.append("Services that need a login cannot work without their essential cookies.")
        return Section("tracking", "Cookies and tracking", paragraphs, items)

    def security(self) -> Section:
        s = self.s.security
        paragraphs = [s.measures] if s.measures else []
        if s.breach_notify:
            who = _join(
                [{"subject": "you", "client": "our client", "regulator": "regulators"}[w] for w in s.breach_notify]
            )
            text = f"If a breach involves your personal information, we notify {who}"
            if s.breach_deadline is not None:
                text += f" within {s.breach_deadline}"
            paragraphs.append(text + " where the law or our contracts require.")
        return Section("security", "How we protect it", paragraphs)

    def changes(self) -> Section:
        c = self.s.changes
        paragraphs = ["We post updates online with their effective date at the top of this page."]
        if c.announce_substantive:
            paragraphs.append("We announce substantive changes through " + _join(c.channels) + ".")
        if c.consent_when_law_requires:
            paragraphs.append("Where the law requires more than notice, we ask for your consent.")
        return Section("changes", "Changes to this statement", paragraphs)

    def agreements(self) -> Section:
        items = []
        for a in self.s.agreements:
            text = f"{a.name}: {a.description}".strip()
            if a.steps:
                text += " Steps: " + "; ".join(a.steps) + "."
            if a.effective_on == "receipt":
                text += " Effective on receipt."
            items.append(text)
        return Section("agreements", "Data processing agreements", [], items)

    def contacts(self) -> Section:
        items = []
        for c in self.s.contacts:
            parts = [p for p in (c.name, c.title) if p]
            lines = [", ".join(parts)] if parts else []
            lines += c.address
            lines += [x for x in (c.email, c.phone, c.url) if x]
            label = c.region or c.purpose.replace("_", " ").capitalize()
            items.append(f"{label}: " + "; ".join(lines))
        return Section("contact", "How to contact us", [], items)


def build_view(statement: Statement) -> StatementView:
    return _Builder(statement, vocabulary_of(statement)).build()
