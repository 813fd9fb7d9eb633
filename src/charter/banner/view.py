"""The cookie banner as the statement in force describes it (promises P-TRK-1, P-TRK-2).

Pure: ``build(statement)`` gives the classes a visitor chooses among, their
plain-language descriptions and the purposes each one enables, the text the
banner shows, which classes start switched off when the browser sends
Global Privacy Control or Do Not Track, and a SHA-256 of all that text — the
evidence recorded with every choice, so the ledger says exactly what the
person was shown. The script renders only these strings (never its own) so
the hash covers everything on screen; see docs/design/consent-banner.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

from charter.decisions.compiled import compile_statement
from charter.policy.schema import Statement

Signal = Literal["gpc", "dnt"]
SIGNALS: tuple[Signal, ...] = ("gpc", "dnt")
POLICY_PATH = "/privacy#tracking"
"""Where the privacy center shows the statement's cookies section (``view.tracking`` renders ``id="tracking"``)."""
ALWAYS_OFF_UNDER_SIGNALS = frozenset({"marketing"})
"""Cross-site and advertising cookies start off under either signal whatever the statement says (P-TRK-2)."""


@dataclass(frozen=True)
class PurposeRef:
    id: str
    name: str
    consent: str
    """The purpose's consent mode in the statement: ``none``, ``opt_in`` or ``opt_out``."""


@dataclass(frozen=True)
class BannerClass:
    id: str
    name: str
    description: str
    required: bool
    default: bool
    """Switched on in the settings dialog before the visitor changes it (never before they save)."""
    lifetimes: tuple[str, ...]
    purposes: tuple[PurposeRef, ...]
    off_under: tuple[Signal, ...]
    """The browser signals under which this class starts switched off."""

    def document(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "required": self.required,
            "default": self.default,
            "lifetimes": list(self.lifetimes),
            "purposes": [{"id": p.id, "name": p.name} for p in self.purposes],
            "off_under": list(self.off_under),
        }


@dataclass(frozen=True)
class BannerText:
    """Every sentence and label the banner and its settings dialog show."""

    title: str
    body: str
    accept_all: str
    reject: str
    settings: str
    dialog_title: str
    dialog_body: str
    save: str
    close: str
    always_on: str
    used_for: str
    signal_note: str
    policy_link: str


@dataclass(frozen=True)
class BannerView:
    statement_version: str
    effective: date
    organization: str
    text: BannerText
    classes: tuple[BannerClass, ...]
    sha256: str
    policy_path: str = POLICY_PATH

    @property
    def choosable(self) -> tuple[BannerClass, ...]:
        """The classes a visitor may refuse: every class the statement does not mark required."""
        return tuple(c for c in self.classes if not c.required)

    def class_of(self, class_id: str) -> BannerClass | None:
        return next((c for c in self.classes if c.id == class_id), None)

    def off_under(self, signal: Signal) -> list[str]:
        return [c.id for c in self.classes if signal in c.off_under]

    def document(self, policy_url: str) -> dict[str, Any]:
        """The public config (``GET /api/v1/banner/config``); ``policy_url`` is absolute."""
        return {
            "statement_version": self.statement_version,
            "effective": self.effective.isoformat(),
            "organization": self.organization,
            "policy_url": policy_url,
            "text": asdict(self.text),
            "classes": [c.document() for c in self.classes],
            "signals": {signal: self.off_under(signal) for signal in SIGNALS},
            "banner_sha256": self.sha256,
        }


def build(statement: Statement) -> BannerView:
    """The banner for ``statement``: its cookie classes in the order the statement lists them."""
    purposes = {p.id: p for p in statement.purposes}
    denied = compile_statement(statement).signal_denies
    organization = statement.organization.short_name or statement.organization.name
    classes = []
    for cookie in statement.tracking.cookies:
        refs = tuple(
            PurposeRef(pid, purposes[pid].name, purposes[pid].consent) for pid in cookie.purposes if pid in purposes
        )
        off = tuple(
            signal
            for signal in SIGNALS
            if not cookie.required
            and (cookie.id in ALWAYS_OFF_UNDER_SIGNALS or any(r.id in denied.get(signal, ()) for r in refs))
        )
        classes.append(
            BannerClass(
                id=cookie.id,
                name=cookie.name,
                description=" ".join(cookie.description.split()),
                required=cookie.required,
                # A class starts on only where the statement lets the organization act until the
                # person opts out; any purpose that needs consent (opt_in) keeps it off.
                default=cookie.required or all(r.consent != "opt_in" for r in refs),
                lifetimes=tuple(cookie.lifetimes),
                purposes=refs,
                off_under=off,
            )
        )
    text = _text(organization, [c for c in classes if not c.required], statement.version)
    unsigned = BannerView(statement.version, statement.effective, organization, text, tuple(classes), sha256="")
    return BannerView(
        statement.version, statement.effective, organization, text, tuple(classes), sha256=banner_sha256(unsigned)
    )


def _text(organization: str, optional: list[BannerClass], version: str) -> BannerText:
    if optional:
        names = _join([c.name.lower() for c in optional])
        body = (
            f"{organization} uses necessary cookies to make this site work. With your permission it also uses "
            f"{names}. Accept them, reject them, or choose one by one in the settings; you can change your mind "
            "at any time."
        )
    else:
        body = f"{organization} uses only the cookies this site needs to work."
    return BannerText(
        title=f"Cookies on {organization} websites",
        body=body,
        accept_all="Accept all",
        reject="Reject non-essential",
        settings="Settings",
        dialog_title="Cookie settings",
        dialog_body=f"Choose which cookies {organization} may use. Necessary cookies are always on.",
        save="Save choices",
        close="Close",
        always_on="Always on",
        used_for="Used to:",
        signal_note=(
            "Your browser asked us not to sell or share your personal information or track you across sites "
            "(Global Privacy Control or Do Not Track). We honor that: the cookies it covers start switched off."
        ),
        policy_link=f"Privacy statement (version {version})",
    )


def _join(names: list[str]) -> str:
    """``a``; ``a and b``; ``a; b; and c`` (semicolons, since class names may hold "and" themselves)."""
    if len(names) <= 2:
        return " and ".join(names)
    return "; ".join(names[:-1]) + "; and " + names[-1]


def banner_sha256(view: BannerView) -> str:
    """SHA-256 of everything the banner shows, as canonical JSON (sorted keys, no spaces)."""
    shown = {
        "statement_version": view.statement_version,
        "text": asdict(view.text),
        "classes": [c.document() for c in view.classes],
        "policy_path": view.policy_path,
    }
    canonical = json.dumps(shown, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
