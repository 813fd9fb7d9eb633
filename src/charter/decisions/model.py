"""The question a service asks and the answer it gets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Action = Literal["use", "collect", "disclose", "transfer"]
Channel = Literal["email", "sms", "phone", "post", "web", "in_app"]


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """May ``system`` use ``categories`` of a person for ``purpose`` now (and send them to …)?

    ``categories`` are data category keys; ``purpose`` is a purpose id of the
    statement in force. The other fields are the context rules may depend on;
    leave unknown ones as None (a rule that needs them then does not apply).
    """

    purpose: str
    categories: tuple[str, ...]
    at: datetime
    action: Action = "use"
    system: str | None = None
    subject: str | None = None
    recipient: str | None = None
    service: str | None = None
    jurisdiction: str | None = None
    source: str | None = None
    channel: Channel | None = None
    within_subscribed_services: bool | None = None
    origin: str | None = None
    destination: str | None = None


@dataclass(frozen=True, slots=True)
class Reason:
    """Why: the promise kept, the clause of the statement, a sentence for a privacy officer."""

    promises: tuple[str, ...]
    clause: str
    message: str


@dataclass(frozen=True, slots=True)
class Obligation:
    """What the caller must do if it goes ahead (record the disclosure, de-identify …)."""

    kind: str
    detail: str = ""
    promises: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reasons: tuple[Reason, ...]
    obligations: tuple[Obligation, ...] = ()
    statement_version: str = ""
    effect: str = field(default="")

    @property
    def outcome(self) -> Literal["allow", "deny"]:
        return "allow" if self.allowed else "deny"
