"""Other identifiers a requester gives besides the e-mail address: claims until the office confirms them.

The e-mail address is how a requester proves who they are (the code is sent
there). People are also known to an organization's systems by a phone number,
a customer or loyalty number, a user id (issue 11, finding 7): collections
keyed on those must be searchable too. But a value typed into a form is only
a *claim*: searched as given, someone could read or erase another person's
records by typing their loyalty number next to their own address. So:

* a claimed identifier is searched **as a start** only once the privacy
  office confirmed it belongs to the requester (``identities_checked`` at
  approval, recorded in the audit log);
* until then it is searched only where the person's own rows, found from the
  verified e-mail, hold it (discovery's linked identities,
  ``charter.execution.plan``), which proves it without anyone's word.

Kinds: Charter's own (``phone``, ``account_id``, …; ``email`` is the request's
own) or a custom kind a data map declares (``loyalty_id``, ``user_id``: a
lower-case name). Values are normalized like every identity (a phone to
E.164); they are sealed with the request's details and never logged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from charter.requests.errors import InvalidRequest
from charter.subjects.normalize import DEFAULT_REGION, IdentityKind, InvalidIdentity, normalize

MAX_CLAIMED = 5
MAX_VALUE = 200
CUSTOM_KIND = re.compile(r"[a-z][a-z0-9_]{1,39}")
#: in the sealed details: {kind: [values]} and whether the office confirmed them
KEY, CONFIRMED = "identities", "identities_confirmed"


def check(claimed: Iterable[tuple[str, str]], *, region: str = DEFAULT_REGION) -> dict[str, list[str]]:
    """The claimed identifiers, normalized and grouped by kind; InvalidRequest naming the kind, never the value."""
    out: dict[str, list[str]] = {}
    items = list(claimed)
    if len(items) > MAX_CLAIMED:
        raise InvalidRequest(f"give at most {MAX_CLAIMED} other identifiers")
    for raw_kind, value in items:
        kind = (raw_kind or "").strip().lower()
        if kind == "phone_number":
            kind = IdentityKind.PHONE.value
        if kind == IdentityKind.EMAIL.value:
            raise InvalidRequest("the e-mail address is the request's own identity; give other kinds here")
        if not CUSTOM_KIND.fullmatch(kind):
            raise InvalidRequest("an identifier's kind is a lower-case name such as phone or loyalty_id")
        if kind in {k.value for k in IdentityKind}:
            try:
                _, normalized = normalize(kind, value, region=region)
            except InvalidIdentity as exc:
                raise InvalidRequest(f"identities: {exc.detail}") from None
        else:
            normalized = _custom(kind, value)
        values = out.setdefault(kind, [])
        if normalized not in values:
            values.append(normalized)
    return out


def _custom(kind: str, value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_VALUE or any(ord(ch) < 32 for ch in text):
        raise InvalidRequest(f"identities: a {kind} must be 1-{MAX_VALUE} printable characters")
    return text


def claimed_of(details: Mapping[str, Any]) -> dict[str, list[str]]:
    """The claimed identifiers in a request's opened details ({} when none)."""
    found = details.get(KEY)
    if not isinstance(found, dict):
        return {}
    return {str(k): [str(v) for v in values] for k, values in found.items() if isinstance(values, list)}


def confirmed(details: Mapping[str, Any]) -> bool:
    return bool(details.get(CONFIRMED))
