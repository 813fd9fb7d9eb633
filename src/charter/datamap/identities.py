"""Identity kinds as the data map writes them: Fides' names read as Charter's.

Fides marks an identity field ``phone_number`` or ``email_address`` where
Charter says ``phone`` and ``email`` (:class:`charter.subjects.normalize.IdentityKind`);
the checks, the planner and the verification all read a field's identity
through :func:`identity_kind`, so the two spellings are one kind everywhere.
"""

from __future__ import annotations

from charter.subjects.normalize import IdentityKind

#: Fides' identity names that mean one of Charter's identity kinds.
IDENTITY_ALIASES = {"phone_number": IdentityKind.PHONE.value, "email_address": IdentityKind.EMAIL.value}


def identity_kind(name: str) -> str:
    return IDENTITY_ALIASES.get(name, name)
