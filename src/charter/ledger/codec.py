"""PersonState ⇄ JSON, exactly: ``decode(encode(s)) == s`` for every state.

Sets become sorted lists and times ISO 8601 with their offset, so the same
state always encodes to the same document (a rebuild can compare them).
The document carries a format number ``v`` for later changes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from charter.decisions.state import Consent, PersonState

FORMAT = 1


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _parse_time(value: Any) -> datetime | None:
    return None if value is None else datetime.fromisoformat(str(value))


def encode(state: PersonState) -> dict[str, Any]:
    return {
        "v": FORMAT,
        "consents": {
            purpose: {
                "given": c.given,
                "at": c.at.isoformat(),
                "statement_version": c.statement_version,
                "written": c.written,
            }
            for purpose, c in sorted(state.consents.items())
        },
        "opted_out": sorted(state.opted_out),
        "restricted": sorted(state.restricted),
        "objected": sorted(state.objected),
        "sale_sharing_opt_out": state.sale_sharing_opt_out,
        "disclosure_refused": state.disclosure_refused,
        "gpc": state.gpc,
        "dnt": state.dnt,
        "unsubscribed": state.unsubscribed,
        "preferences": dict(sorted(state.preferences.items())),
        "birth_date": None if state.birth_date is None else state.birth_date.isoformat(),
        "attested_age": state.attested_age,
        "attested_at": _time(state.attested_at),
        "parental_proof_deadline": _time(state.parental_proof_deadline),
        "parental_proof_received": state.parental_proof_received,
        "transfer_consents": sorted(state.transfer_consents),
        "subscribed_services": sorted(state.subscribed_services),
    }


def decode(document: dict[str, Any]) -> PersonState:
    version = document.get("v")
    if version != FORMAT:
        raise ValueError(f"stored state has format {version!r}; this Charter reads format {FORMAT}")
    birth = document.get("birth_date")
    return PersonState(
        consents={
            purpose: Consent(
                given=bool(c["given"]),
                at=datetime.fromisoformat(c["at"]),
                statement_version=c.get("statement_version"),
                written=bool(c.get("written", False)),
            )
            for purpose, c in document.get("consents", {}).items()
        },
        opted_out=frozenset(document.get("opted_out", ())),
        restricted=frozenset(document.get("restricted", ())),
        objected=frozenset(document.get("objected", ())),
        sale_sharing_opt_out=bool(document.get("sale_sharing_opt_out", False)),
        disclosure_refused=bool(document.get("disclosure_refused", False)),
        gpc=bool(document.get("gpc", False)),
        dnt=bool(document.get("dnt", False)),
        unsubscribed=bool(document.get("unsubscribed", False)),
        preferences={str(k): bool(v) for k, v in document.get("preferences", {}).items()},
        birth_date=None if birth is None else date.fromisoformat(birth),
        attested_age=document.get("attested_age"),
        attested_at=_parse_time(document.get("attested_at")),
        parental_proof_deadline=_parse_time(document.get("parental_proof_deadline")),
        parental_proof_received=bool(document.get("parental_proof_received", False)),
        transfer_consents=frozenset(document.get("transfer_consents", ())),
        subscribed_services=frozenset(document.get("subscribed_services", ())),
    )
