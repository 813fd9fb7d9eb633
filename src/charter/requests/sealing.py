"""Sealing what a request holds about people: the identity, the details, the documents.

Each value is sealed with the installation's key ring and a context naming
its row and use, so a sealed value copied to another request or field does
not open (P-SEC-1).
"""

from __future__ import annotations

import json
from typing import Any

from charter.requests.models import PrivacyRequest
from charter.subjects.service import Vault


def _context(use: str, public_id: str) -> bytes:
    return b"charter.request\x00" + use.encode() + b"\x00" + public_id.encode()


def seal_identity(vault: Vault, public_id: str, normalized: str) -> bytes:
    return vault.keys.seal(normalized.encode(), context=_context("identity", public_id))


def identity_of(vault: Vault, row: PrivacyRequest) -> str:
    """The requester's normalized address, to write to them; never for logs."""
    return vault.keys.open(row.sealed_identity, context=_context("identity", row.public_id)).decode()


def seal_details(vault: Vault, public_id: str, details: dict[str, Any]) -> bytes | None:
    if not details:
        return None
    return vault.keys.seal(json.dumps(details, sort_keys=True).encode(), context=_context("details", public_id))


def details_of(vault: Vault, row: PrivacyRequest) -> dict[str, Any]:
    if row.sealed_details is None:
        return {}
    opened = json.loads(vault.keys.open(row.sealed_details, context=_context("details", row.public_id)))
    return opened if isinstance(opened, dict) else {}


def seal_document(vault: Vault, public_id: str, purpose: str, data: bytes) -> bytes:
    return vault.keys.seal(data, context=_context(f"document.{purpose}", public_id))


def open_document(vault: Vault, public_id: str, purpose: str, sealed: bytes) -> bytes:
    return vault.keys.open(sealed, context=_context(f"document.{purpose}", public_id))
