"""The audit log: one append-only, hash-chained record of every change of state.

Callers append with :func:`record` inside the transaction that makes the
change; operators check the chain with :func:`verify` and ship it elsewhere
with :func:`export`. Entries carry ids, counts and hashes, never personal
data or secrets. See docs/design/audit-log.md.
"""

from __future__ import annotations

from charter.audit.chain import GENESIS_HASH, ChainedEntry, entry_hash, read_export
from charter.audit.models import AuditEntry
from charter.audit.service import Entry, entries, export, gathered, record, record_many
from charter.audit.verification import Anchor, Verification, check_chain, verify

__all__ = [
    "GENESIS_HASH",
    "Anchor",
    "AuditEntry",
    "ChainedEntry",
    "Entry",
    "Verification",
    "check_chain",
    "entries",
    "entry_hash",
    "export",
    "gathered",
    "read_export",
    "record",
    "record_many",
    "verify",
]
