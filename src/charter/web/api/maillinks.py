"""POST /api/v1/mail/links: the unsubscribe link, headers and open pixel of outgoing messages (P-TRK-3).

A mailer calls this once per batch of messages (at most 1,000) and puts
``headers`` in each message's header (signed by DKIM, as RFC 8058 requires),
``unsubscribe_url`` in its footer and ``open_pixel_url`` as an image. All
links of a batch are minted, or none. An identity sent in is never echoed
back, not even in an error.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.db import utcnow
from charter.errors import CharterError, InputTooLarge, InvalidInput, Problem
from charter.maillinks import service as maillinks
from charter.subjects.normalize import kind_of
from charter.web.api.ledger import IdentityIn
from charter.web.pages.maillinks import mail_links_of
from charter.web.security import requires, services_of

router = APIRouter()
MAX_LINKS = 1_000


class LinkIn(BaseModel):
    """One message to one person: name them by identity or by Charter's public id."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    identity: IdentityIn | None = None
    person: str | None = Field(default=None, min_length=1, max_length=32, description="The person's public id.")
    list_id: str = Field(
        alias="list",
        min_length=1,
        max_length=80,
        description="A marketing purpose id of the statement in force.",
        examples=["marketing_new_services"],
    )
    campaign: str | None = Field(
        default=None, max_length=maillinks.MAX_CAMPAIGN, description="Campaign or Message-ID, free text."
    )

    @model_validator(mode="after")
    def _one_recipient(self) -> LinkIn:
        if (self.identity is None) == (self.person is None):
            raise ValueError("name the recipient by identity or by person, not both and not neither")
        return self


class MintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    links: list[LinkIn] = Field(min_length=1, description=f"At most {MAX_LINKS:,} messages.")


class LinkOut(BaseModel):
    person: str = Field(description="The person's public id.")
    list_id: str = Field(serialization_alias="list")
    campaign: str | None
    unsubscribe_url: str
    open_pixel_url: str
    headers: dict[str, str] = Field(description="List-Unsubscribe and List-Unsubscribe-Post, verbatim.")
    expires_at: datetime


class MintOut(BaseModel):
    links: list[LinkOut]


def _identity_problem(index: int, identity: IdentityIn, exc: InvalidInput) -> Problem:
    """Name the field that is wrong (the kind or the value), never the value."""
    try:
        kind_of(identity.kind)
    except InvalidInput:
        return Problem(path=f"links[{index}].identity.kind", message=exc.detail)
    return Problem(path=f"links[{index}].identity.value", message=exc.detail)


def _index(path: str) -> int:
    return int(path.split("]", 1)[0].removeprefix("links["))


def _refuse(errors: list[tuple[CharterError, Problem]]) -> None:
    if not errors:
        return
    first, problem = errors[0]
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise type(first)(f"{problem.path}: {problem.message}{more}", problems=[p for _, p in errors]) from None


@router.post("/mail/links", response_model=MintOut, status_code=201, tags=["mail links"])
def mint_links(body: MintIn, request: Request, principal: Principal = requires(Permission.MAIL_LINKS)) -> MintOut:
    """Mint the links of each message; 422 names every bad field (identity, list, campaign), nothing is minted."""
    if len(body.links) > MAX_LINKS:
        raise InputTooLarge(f"at most {MAX_LINKS:,} links per call; this one has {len(body.links):,}")
    services = services_of(request)
    vault, links = services.vault, mail_links_of(request)
    errors: list[tuple[CharterError, Problem]] = []
    for index, item in enumerate(body.links):
        if item.identity is not None:
            try:
                vault.normalize(item.identity.kind, item.identity.value)
            except InvalidInput as exc:
                errors.append((exc, _identity_problem(index, item.identity, exc)))
        try:
            maillinks.check_campaign(item.campaign)
        except InvalidInput as exc:
            errors.append((exc, Problem(path=f"links[{index}].campaign", message=exc.detail)))
    with services.database.session() as session:
        now = utcnow()
        for index, item in enumerate(body.links):
            try:
                links.check_list(session, item.list_id, at=now)
            except InvalidInput as exc:
                errors.append((exc, Problem(path=f"links[{index}].list", message=exc.detail)))
        errors.sort(key=lambda error: _index(error[1].path))
        _refuse(errors)
        requests = []
        for index, item in enumerate(body.links):
            identity = None if item.identity is None else (item.identity.kind, item.identity.value)
            try:
                person = maillinks.recipient(session, vault, identity=identity, public_id=item.person)
            except CharterError as exc:
                _refuse([(exc, Problem(path=f"links[{index}].person", message=exc.detail))])
                raise  # pragma: no cover - _refuse raised
            requests.append(maillinks.MintRequest(person, item.list_id, item.campaign))
        minted = links.mint_many(session, requests, actor=principal.actor, at=now)
    return MintOut(
        links=[
            LinkOut(
                person=m.person,
                list_id=m.list_id,
                campaign=m.campaign,
                unsubscribe_url=m.unsubscribe_url,
                open_pixel_url=m.open_pixel_url,
                headers=m.headers(),
                expires_at=m.expires_at,
            )
            for m in minted
        ]
    )
