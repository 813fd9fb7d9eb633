"""What a request carries besides its type: checked before anything is stored.

* correction: ``field`` (what is wrong) and ``value`` (what it should be);
* portability: ``destination`` ``me`` or ``third_party`` with an ``https`` ``url`` (P-RGT-5), not on a
  private or local network (:mod:`charter.delivery.addresses`);
* restriction, objection, withdrawal of consent: optional ``purposes`` of the
  statement in force (none means every purpose; for a withdrawal, every
  purpose that rests on consent);
* an authorized agent: ``name`` and ``email``, and a proof document (P-RGT-7).

Values never appear in error messages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from charter.delivery import addresses
from charter.policy.schema import Statement
from charter.requests.errors import InvalidRequest
from charter.requests.kinds import RequestKind
from charter.subjects.normalize import IdentityKind, normalize

MAX_FIELD_NAME = 100
MAX_VALUE = 2_000
MAX_URL = addresses.MAX_URL
MAX_NAME = 200
MAX_PURPOSES = 100
DOCUMENT_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})
PURPOSE_KINDS = frozenset({RequestKind.RESTRICTION, RequestKind.OBJECTION, RequestKind.WITHDRAW_CONSENT})


AGENT = "agent"
PARENT = "parent"  # P-COL-2: a parent or guardian asking for a child's data to be removed


@dataclass(frozen=True)
class Agent:
    """Someone asking for the person: an authorized agent (P-RGT-7) or, where the statement lets a parent
    have a child's data removed, the child's parent or guardian (P-COL-2)."""

    name: str = field(repr=False)
    email: str = field(repr=False)
    relationship: str = AGENT


@dataclass(frozen=True)
class Document:
    content_type: str
    data: bytes = field(repr=False)


def _text(details: dict[str, Any], key: str, limit: int) -> str:
    value = details.get(key)
    if not isinstance(value, str) or not value.strip():
        raise InvalidRequest(f"details.{key} is required for this request")
    value = value.strip()
    if len(value) > limit or any(ord(char) < 32 and char not in "\n\t" for char in value):
        raise InvalidRequest(f"details.{key} must be at most {limit} characters of text")
    return value


def _url(text: str, *, allow_private: bool) -> str:
    # -- delivery: the recipient's address is checked against SSRF (charter.delivery.addresses) --
    return addresses.check_url(text, allow_private=allow_private)


def check(
    kind: RequestKind, details: dict[str, Any], statement: Statement, *, allow_private: bool = False
) -> dict[str, Any]:
    """The cleaned details of a ``kind`` request under ``statement``, or :class:`InvalidRequest`.

    ``allow_private`` (``CHARTER_DELIVERY_ALLOW_PRIVATE_RECIPIENTS``, tests only) accepts a third party's
    address on a loopback or private network.
    """
    allowed = {
        RequestKind.CORRECTION: {"field", "value"},
        RequestKind.PORTABILITY: {"destination", "url"},
    }.get(kind, {"purposes"} if kind in PURPOSE_KINDS else set())
    extra = sorted(set(details) - allowed)
    if extra:
        raise InvalidRequest(f"a {kind.value} request takes no details.{extra[0]}")
    if kind == RequestKind.CORRECTION:
        return {"field": _text(details, "field", MAX_FIELD_NAME), "value": _text(details, "value", MAX_VALUE)}
    if kind == RequestKind.PORTABILITY:
        destination = details.get("destination", "me")
        if destination == "me":
            if details.get("url"):
                raise InvalidRequest("details.url is only for destination third_party")
            return {"destination": "me"}
        if destination != "third_party":
            raise InvalidRequest("details.destination must be 'me' or 'third_party'")
        return {
            "destination": "third_party",
            "url": _url(_text(details, "url", MAX_URL), allow_private=allow_private),
        }
    if kind in PURPOSE_KINDS:
        return _purposes(kind, details.get("purposes"), statement)
    return {}


def _purposes(kind: RequestKind, given: object, statement: Statement) -> dict[str, Any]:
    if given in (None, [], ""):
        return {}
    if not isinstance(given, list) or len(given) > MAX_PURPOSES or not all(isinstance(p, str) for p in given):
        raise InvalidRequest(f"details.purposes must be a list of at most {MAX_PURPOSES} purpose ids")
    known = {p.id: p for p in statement.purposes}
    unknown = [p for p in given if p not in known]
    if unknown:
        raise InvalidRequest(
            f"details.purposes: {len(unknown)} of them are not purposes of statement {statement.version}"
        )
    if kind == RequestKind.WITHDRAW_CONSENT and any(known[p].consent != "opt_in" for p in given):
        raise InvalidRequest("details.purposes: consent can be withdrawn only for purposes that rest on consent")
    return {"purposes": sorted(set(given))}


def check_agent(
    agent: Agent | None, proof: Document | None, statement: Statement, *, max_bytes: int, kind: RequestKind
) -> Agent | None:
    """An authorized agent, where the statement provides for them, with proof where it asks for it; or a parent
    or guardian asking for a child's data to be removed, where the statement says a parent can (P-COL-2)."""
    if agent is None:
        if proof is not None:
            raise InvalidRequest("a proof document is only for requests made by an authorized agent")
        return None
    if agent.relationship == PARENT:
        age = statement.collection.minimum_age
        if age is None or not age.parent_can_request_removal:
            raise InvalidRequest(f"statement {statement.version} does not provide for a parent's request")
        if kind != RequestKind.DELETION:
            raise InvalidRequest("agent.relationship: a parent or guardian can ask for a child's data to be deleted")
    elif agent.relationship != AGENT:
        raise InvalidRequest(f"agent.relationship must be '{AGENT}' or '{PARENT}'")
    elif not statement.rights.authorized_agents:
        raise InvalidRequest(f"statement {statement.version} does not provide for authorized agents")
    name = agent.name.strip()
    if not name or len(name) > MAX_NAME or any(ord(char) < 32 for char in name):
        raise InvalidRequest(f"agent.name is required (at most {MAX_NAME} characters)")
    _kind, email = normalize(IdentityKind.EMAIL, agent.email)
    if agent.relationship == AGENT and statement.rights.agent_proof_required and proof is None:
        raise InvalidRequest("an authorized agent must send proof of agency (a PDF, PNG or JPEG document)")
    if proof is not None:
        if proof.content_type not in DOCUMENT_TYPES:
            raise InvalidRequest("the proof of agency must be a PDF, PNG or JPEG document")
        if not proof.data or len(proof.data) > max_bytes:
            raise InvalidRequest(f"the proof of agency must be 1 to {max_bytes:,} bytes")
    return Agent(name=name, email=email, relationship=agent.relationship)
