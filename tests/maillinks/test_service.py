"""Minting, one-click unsubscribe and opens, on both backends (promises P-TRK-3, P-TRK-2, P-USE-2, P-COL-4)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from charter.audit.models import AuditEntry
from charter.db import Database, utcnow
from charter.decisions import service as decisions
from charter.decisions.model import DecisionRequest
from charter.decisions.state import PersonState
from charter.errors import Conflict, InvalidInput, Misconfigured, NotFound
from charter.ledger import service as ledger
from charter.ledger.events import EventKind, Source
from charter.ledger.models import LedgerEvent
from charter.ledger.signals import BrowserSignals
from charter.maillinks.errors import LinkAlreadyUsed, LinkExpired, LinkNotFound, NotAMailingList
from charter.maillinks.models import MailLink, MailOpen
from charter.maillinks.service import LIST_UNSUBSCRIBE_POST, MailLinks, MintRequest, OpenOutcome, recipient
from charter.subjects import service as subjects
from tests.maillinks.conftest import MARKETING, VAULT, Mint, count, make_links, token_of
from tests.subjects.factories import event


def _unsubscribe_events(database: Database) -> list[LedgerEvent]:
    with database.session() as session:
        return list(session.scalars(select(LedgerEvent).where(LedgerEvent.kind == EventKind.UNSUBSCRIBED.value)))


def _state(database: Database, email: str = "ana@example.org") -> PersonState:
    with database.session() as session:
        person = subjects.resolve(session, "email", email, vault=VAULT, create=False)
        assert person is not None
        return ledger.state_of(session, person)


# --- minting -----------------------------------------------------------------------------------


def test_mint_gives_rfc_8058_headers_and_stores_only_hashes(links_db: Database, mint: Mint) -> None:
    """The List-Unsubscribe header names the HTTPS link and the mailto; the tokens are nowhere in the database."""
    minted = mint()
    unsubscribe, pixel = token_of(minted.unsubscribe_url), token_of(minted.open_pixel_url)
    assert minted.unsubscribe_url == f"https://privacy.example.org/u/{unsubscribe}"
    assert minted.open_pixel_url == f"https://privacy.example.org/o/{pixel}.gif"
    assert minted.headers() == {
        "List-Unsubscribe": f"<{minted.unsubscribe_url}>, <mailto:unsubscribe@example.org?subject=unsubscribe>",
        "List-Unsubscribe-Post": LIST_UNSUBSCRIBE_POST,
    }
    assert len(unsubscribe) == len(pixel) == 43 and unsubscribe != pixel
    assert minted.list_id == MARKETING and minted.campaign == "spring-2026"
    assert timedelta(days=364) < minted.expires_at - utcnow() <= timedelta(days=365)
    with links_db.session() as session:
        row = session.scalars(select(MailLink)).one()
        stored = " ".join(str(v) for v in vars(row).values())
    assert unsubscribe not in stored and pixel not in stored
    assert row.used_at is None and len(row.unsubscribe_hash) == 64


def test_mint_without_mailto_names_only_the_link(links_db: Database) -> None:
    links = MailLinks(make_links().keys, base_url="https://privacy.example.org", valid_days=30)
    with links_db.session() as session:
        person = recipient(session, VAULT, identity=("email", "bo@example.org"))
        minted = links.mint(session, person, MARKETING, actor="test")
    assert minted.list_unsubscribe == f"<{minted.unsubscribe_url}>"


@pytest.mark.parametrize(
    ("list_id", "error", "message"),
    [
        ("no_such_list", ledger.UnknownPurpose, "list no_such_list is not a purpose of statement 2023-01-01"),
        ("provide_services", NotAMailingList, "not a marketing purpose"),
        ("bad list <script>", ledger.UnknownPurpose, "(not an identifier)"),
    ],
)
def test_mint_refuses_a_list_that_is_not_a_marketing_purpose(
    links_db: Database, mint: Mint, list_id: str, error: type[InvalidInput], message: str
) -> None:
    with pytest.raises(error, match=message.replace("(", r"\(").replace(")", r"\)")):
        mint(list_id=list_id)
    assert count(links_db, MailLink) == 0


@pytest.mark.parametrize(
    ("campaign", "message"), [("x" * 201, "longer than 200"), ("a\r\nBcc: x@example.org", "control characters")]
)
def test_mint_refuses_a_bad_campaign(links_db: Database, mint: Mint, campaign: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        mint(campaign=campaign)
    assert count(links_db, MailLink) == 0


def test_mint_many_is_all_or_nothing(links_db: Database, links: MailLinks) -> None:
    with links_db.session() as session:
        ana = recipient(session, VAULT, identity=("email", "ana@example.org"))
    with pytest.raises(NotAMailingList), links_db.session() as session:
        links.mint_many(session, [MintRequest(ana, MARKETING), MintRequest(ana, "provide_services")], actor="test")
    assert count(links_db, MailLink) == 0


def test_recipient_needs_exactly_one_name_and_an_existing_public_id(links_db: Database) -> None:
    with links_db.session() as session:
        with pytest.raises(InvalidInput, match="not both and not neither"):
            recipient(session, VAULT)
        with pytest.raises(NotFound, match="no person has this id"):
            recipient(session, VAULT, public_id="nobody")


def test_mint_in_production_needs_an_https_base_url(links_db: Database) -> None:
    links = MailLinks(make_links().keys, base_url="http://privacy.example.org", valid_days=365, https_only=True)
    with links_db.session() as session:
        person = recipient(session, VAULT, identity=("email", "ana@example.org"))
    with pytest.raises(Misconfigured, match="https"), links_db.session() as session:
        links.mint(session, person, MARKETING, actor="test")


# --- unsubscribing -----------------------------------------------------------------------------


def test_one_click_unsubscribes_once_with_evidence(links_db: Database, links: MailLinks, mint: Mint) -> None:
    """P-TRK-3, P-COL-4: email.unsubscribed from the link, under the statement in force, naming the link."""
    minted = mint()
    at = utcnow()
    with links_db.session() as session:
        done = links.unsubscribe(session, token_of(minted.unsubscribe_url), at=at)
    assert done.person == minted.person and done.list_id == MARKETING
    [row] = _unsubscribe_events(links_db)
    with links_db.session() as session:
        link = session.scalars(select(MailLink)).one()
    assert row.source == Source.EMAIL_LINK.value
    assert row.statement_version == "2023-01-01"
    assert row.evidence == {"mail_link": link.unsubscribe_hash}
    assert row.data == {"list": MARKETING}
    assert link.used_at == at
    assert _state(links_db).unsubscribed
    with links_db.session() as session:
        assert ledger.rebuild(session).changed == 0


def test_after_unsubscribing_the_engine_refuses_marketing_email(
    links_db: Database, links: MailLinks, mint: Mint
) -> None:
    """P-TRK-3, P-USE-2: the decision engine now denies e-mail marketing and open tracking for the person."""
    minted = mint()

    def ask(purpose: str) -> bool:
        request = DecisionRequest(purpose=purpose, categories=("user.contact.email",), at=utcnow(), channel="email")
        question = decisions.Question(request, decisions.PersonRef(public_id=minted.person))
        with links_db.session() as session:
            [decision] = decisions.decide_many(session, [question], vault=VAULT, sample_rate=0.0)
        return decision.allowed

    assert ask(MARKETING) and ask("email_open_tracking")
    with links_db.session() as session:
        links.unsubscribe(session, token_of(minted.unsubscribe_url), at=utcnow())
    assert not ask(MARKETING) and not ask("email_open_tracking")


def test_a_replay_is_a_clear_conflict_and_records_nothing(links_db: Database, links: MailLinks, mint: Mint) -> None:
    token = token_of(mint().unsubscribe_url)
    first = utcnow()
    with links_db.session() as session:
        links.unsubscribe(session, token, at=first)
    audit_entries = count(links_db, AuditEntry)
    with pytest.raises(LinkAlreadyUsed) as caught, links_db.session() as session:
        links.unsubscribe(session, token, at=first + timedelta(days=3))
    assert caught.value.status == 409 and isinstance(caught.value, Conflict)
    assert caught.value.detail.startswith(f"this link was already used on {first.date().isoformat()}")
    assert len(_unsubscribe_events(links_db)) == 1
    assert count(links_db, AuditEntry) == audit_entries
    with links_db.session() as session:
        assert session.scalars(select(MailLink)).one().used_at == first


def test_nothing_is_recorded_half_way(links_db: Database, links: MailLinks, mint: Mint) -> None:
    """The claim and the event commit together: a transaction that fails leaves the link unused."""
    token = token_of(mint().unsubscribe_url)

    def fail_after_the_event() -> None:
        with links_db.session() as session:
            links.unsubscribe(session, token, at=utcnow())
            raise RuntimeError("something failed after the event")

    with pytest.raises(RuntimeError, match="after the event"):
        fail_after_the_event()
    assert _unsubscribe_events(links_db) == []
    with links_db.session() as session:
        assert session.scalars(select(MailLink)).one().used_at is None
        links.unsubscribe(session, token, at=utcnow())
    assert len(_unsubscribe_events(links_db)) == 1


def test_concurrent_posts_record_one_event(links_db: Database, links: MailLinks, mint: Mint) -> None:
    """Two mailbox providers (or a double click) posting at once: one event, one clear conflict."""
    token = token_of(mint().unsubscribe_url)
    threads = 4
    start = threading.Barrier(threads)
    outcomes: list[str] = []
    lock = threading.Lock()

    def post() -> None:
        start.wait()
        try:
            with links_db.session() as session:
                links.unsubscribe(session, token, at=utcnow())
            result = "done"
        except LinkAlreadyUsed:
            result = "used"
        with lock:
            outcomes.append(result)

    pool = [threading.Thread(target=post) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    assert sorted(outcomes) == ["done"] + ["used"] * (threads - 1)
    assert len(_unsubscribe_events(links_db)) == 1


def test_an_expired_link_says_so_and_records_nothing(links_db: Database, links: MailLinks, mint: Mint) -> None:
    minted = mint(at=utcnow() - timedelta(days=400))
    expired_on = f"expired on {minted.expires_at.date().isoformat()}"
    with pytest.raises(LinkExpired, match=expired_on) as caught, links_db.session() as session:
        links.unsubscribe(session, token_of(minted.unsubscribe_url), at=utcnow())
    assert caught.value.status == 410
    assert _unsubscribe_events(links_db) == []


def test_the_pixel_token_cannot_unsubscribe(links_db: Database, links: MailLinks, mint: Mint) -> None:
    """An image proxy that fetched the pixel learns nothing that unsubscribes the person."""
    minted = mint()
    with pytest.raises(LinkNotFound), links_db.session() as session:
        links.unsubscribe(session, token_of(minted.open_pixel_url), at=utcnow())
    assert _unsubscribe_events(links_db) == []


def test_another_installation_key_finds_nothing_and_a_rotated_key_still_works(links_db: Database, mint: Mint) -> None:
    token = token_of(mint().unsubscribe_url)
    with pytest.raises(LinkNotFound), links_db.session() as session:
        make_links(b"another installation's secret").unsubscribe(session, token, at=utcnow())
    rotated = make_links(b"the new secret key", previous=(b"a test secret key for mail links",))
    with links_db.session() as session:
        rotated.unsubscribe(session, token, at=utcnow())
    assert len(_unsubscribe_events(links_db)) == 1


def test_signals_sent_with_the_unsubscribe_are_recorded(links_db: Database, links: MailLinks, mint: Mint) -> None:
    """P-TRK-2: a GPC header on the confirmation page's post is recorded for the person, once."""
    token = token_of(mint().unsubscribe_url)
    with links_db.session() as session:
        links.unsubscribe(session, token, at=utcnow(), signals=BrowserSignals(gpc=True))
    state = _state(links_db)
    assert state.unsubscribed and state.gpc and not state.dnt


def test_status_for_the_confirmation_page(links_db: Database, links: MailLinks, mint: Mint) -> None:
    token = token_of(mint().unsubscribe_url)
    with links_db.session() as session:
        status = links.status(session, token, at=utcnow())
        assert status.list_name == "Contact you about additional or new services" and status.used_at is None
        with pytest.raises(LinkNotFound):
            links.status(session, "A" * 43, at=utcnow())


# --- opens -------------------------------------------------------------------------------------


def _open(database: Database, links: MailLinks, url: str, **signals: bool) -> OpenOutcome:
    with database.session() as session:
        return links.record_open(session, token_of(url), at=utcnow(), signals=BrowserSignals(**signals))


def test_an_open_counts_for_a_subscribed_person_without_signals(
    links_db: Database, links: MailLinks, mint: Mint
) -> None:
    """P-TRK-3: transparent images record opens."""
    minted = mint()
    assert _open(links_db, links, minted.open_pixel_url) is OpenOutcome.RECORDED
    assert _open(links_db, links, minted.open_pixel_url) is OpenOutcome.RECORDED
    with links_db.session() as session:
        opens = list(session.scalars(select(MailOpen)))
        link = session.scalars(select(MailLink)).one()
    assert [o.link_id for o in opens] == [link.id, link.id]
    assert count(links_db, LedgerEvent) == 0, "opens are tracking data, not ledger events"


def test_no_open_tracking_after_unsubscribing(links_db: Database, links: MailLinks, mint: Mint) -> None:
    """P-TRK-3: a recipient who unsubscribes gets no more open tracking, on this message or any other."""
    first, second = mint(), mint(campaign="summer-2026")
    with links_db.session() as session:
        links.unsubscribe(session, token_of(first.unsubscribe_url), at=utcnow())
    assert _open(links_db, links, first.open_pixel_url) is OpenOutcome.UNSUBSCRIBED
    assert _open(links_db, links, second.open_pixel_url) is OpenOutcome.UNSUBSCRIBED
    assert count(links_db, MailOpen) == 0


@pytest.mark.parametrize("signal", ["dnt", "gpc"])
def test_no_open_with_a_browser_signal_and_the_signal_is_recorded(
    links_db: Database, links: MailLinks, mint: Mint, signal: str
) -> None:
    """P-TRK-2: DNT: 1 or Sec-GPC: 1 on the pixel → no open; the signal goes to the ledger, once."""
    minted = mint()
    assert _open(links_db, links, minted.open_pixel_url, **{signal: True}) is OpenOutcome.SIGNAL
    assert _open(links_db, links, minted.open_pixel_url, **{signal: True}) is OpenOutcome.SIGNAL
    assert count(links_db, MailOpen) == 0
    with links_db.session() as session:
        kinds = list(session.scalars(select(LedgerEvent.kind)))
    assert kinds == [f"signal.{signal}"]
    assert getattr(_state(links_db), signal)
    # The person's browser said it once: later fetches without the header are not tracked either.
    assert _open(links_db, links, minted.open_pixel_url) is OpenOutcome.HELD_SIGNAL
    assert count(links_db, MailOpen) == 0


def test_no_open_for_a_person_who_opted_out_of_open_tracking(links_db: Database, links: MailLinks, mint: Mint) -> None:
    minted = mint()
    with links_db.session() as session:
        person = subjects.by_public_id(session, minted.person)
        assert person is not None
        opted_out = ledger.check_purposes(
            session, event(EventKind.OPTED_OUT, purpose="email_open_tracking").model_copy(update={"at": utcnow()})
        )
        ledger.record(session, person, opted_out, actor="test")
    assert _open(links_db, links, minted.open_pixel_url) is OpenOutcome.OBJECTED
    assert count(links_db, MailOpen) == 0


def test_unknown_and_expired_pixels_record_nothing(links_db: Database, links: MailLinks, mint: Mint) -> None:
    old = mint(at=utcnow() - timedelta(days=400))
    assert _open(links_db, links, old.open_pixel_url) is OpenOutcome.UNKNOWN
    assert _open(links_db, links, "https://x/o/" + "A" * 43 + ".gif") is OpenOutcome.UNKNOWN
    assert _open(links_db, links, "https://x/o/short.gif") is OpenOutcome.UNKNOWN
    # An unsubscribe token is not a pixel token either.
    assert _open(links_db, links, mint().unsubscribe_url) is OpenOutcome.UNKNOWN
    assert count(links_db, MailOpen) == 0
