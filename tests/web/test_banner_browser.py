"""The cookie banner in a real browser, embedded by a page of another site (P-TRK-1, P-TRK-2).

Charter runs in uvicorn on 127.0.0.1 (both example statements published);
the embedding "shop" page is served by Python's http.server from
``localhost`` on another port — another origin and another site, so the
script works cross-origin as it will in production. Chromium is the system
one, driven by Playwright; without it the tests are skipped locally and fail
under ``CI=true`` (the pattern of test_browser.py).
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from charter.db import migrate
from charter.decisions.state import PersonState
from charter.ledger import service as ledger
from charter.ledger.events import Event, EventKind
from charter.policy import service as policy
from charter.services import Services
from charter.settings import DatabaseSettings, Settings
from charter.subjects import service as subjects
from tests.conftest import EXAMPLES
from tests.web.live import START_WITHIN, free_socket, launched, require_chromium, serving, url_of

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

"""Seconds the server may take to start; a guard against hanging, not an assertion."""
ANALYTICS_PURPOSES = ("content_measurement", "measure_marketing_effectiveness", "improve_services")
GPC_INIT = "Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', {get: () => true, configurable: true});"

SHOP = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>West shop</title>
<script src="{charter}/static/charter-consent.js" data-charter="{charter}" defer></script>
</head><body>
<main><h1>West shop</h1><button id="cookie-settings" type="button">Cookie settings</button></main>
<script type="text/plain" data-charter-class="analytics">
  document.cookie = "_ga=GA1.1.1234; path=/"; window.analyticsRan = true;
</script>
<script type="text/plain" data-charter-class="functional">window.functionalRan = true;</script>
<script>
  document.getElementById("cookie-settings").addEventListener("click", function () {{ Charter.consent.open(); }});
  document.addEventListener("charter:consent", function (e) {{ window.lastConsent = e.detail; }});
</script>
</body></html>
"""


with contextlib.suppress(ImportError):  # a dev dependency; its absence is reported by the chromium fixture
    from playwright.sync_api import BrowserContext, Page


@dataclass(frozen=True)
class Charter:
    url: str
    services: Services


@dataclass(frozen=True)
class Sites:
    charter: Charter
    shop: str


@pytest.fixture(scope="module")
def chromium() -> Path:
    return require_chromium()


@pytest.fixture(scope="module")
def charter(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Charter]:
    """A live Charter on 127.0.0.1 with both example statements published (2023 in force)."""
    home = tmp_path_factory.mktemp("banner")
    sock = free_socket()
    url = url_of(sock)
    services = Services(
        Settings.load(
            env="test",
            home=home / "home",
            base_url=url,
            database=DatabaseSettings(url=f"sqlite:///{home / 'charter.db'}"),
        )
    )
    migrate(services.database)
    for name in ("statement-2019.yaml", "statement-2023.yaml"):
        loaded, raw = policy.read_file(EXAMPLES / name, limits=services.settings.policy)
        with services.database.session() as session:
            policy.publish(session, loaded, raw, actor="test")
    with serving(services, sock):
        yield Charter(url, services)


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def sites(charter: Charter, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sites]:
    """The shop page on http://localhost:PORT, embedding the banner from Charter."""
    root = tmp_path_factory.mktemp("shop")
    (root / "index.html").write_text(SHOP.format(charter=charter.url))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, name="shop", daemon=True)
    thread.start()
    try:
        yield Sites(charter, f"http://localhost:{httpd.server_address[1]}/index.html")
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=START_WITHIN)


@pytest.fixture
def browser_context(chromium: Path) -> Iterator[Any]:
    """``make(gpc=False)``: a fresh browser context; with ``gpc`` the browser sends Global Privacy Control."""
    with launched(chromium) as browser:

        def make(gpc: bool = False) -> BrowserContext:
            context = browser.new_context(extra_http_headers={"Sec-GPC": "1"} if gpc else None)
            if gpc:
                context.add_init_script(GPC_INIT)
            context.set_default_timeout(10_000)
            return context

        yield make


def _consent_cookie(context: BrowserContext) -> dict[str, Any]:
    found = [c for c in context.cookies() if c["name"] == "charter_consent"]
    assert len(found) == 1
    value: dict[str, Any] = json.loads(unquote(found[0]["value"]))
    return value


def _ledger(services: Services, cookie_id: str) -> tuple[PersonState, list[Event]]:
    with services.database.session() as session:
        person = subjects.resolve(session, "cookie_id", cookie_id, vault=services.vault, create=False)
        assert person is not None, "the choice was not recorded for this cookie id"
        return ledger.state_of(session, person), ledger.events_of(session, person)


def _focused(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement.getAttribute('data-action') || document.activeElement.id"))


def test_reject_analytics_with_the_keyboard_and_nothing_tracks(browser_context: Any, sites: Sites) -> None:
    """P-TRK-1: refusing analytics sets no analytics cookie, runs no analytics script, and is in the ledger."""
    context = browser_context()
    page = context.new_page()
    page.goto(sites.shop)
    banner = page.get_by_role("dialog", name="Cookies on West websites")
    banner.wait_for()
    assert "necessary cookies" in banner.inner_text()
    assert page.get_by_text("Your browser asked us").count() == 0
    assert context.cookies() == []  # nothing before a choice
    assert page.evaluate("() => Charter.consent.get()") is None

    # The banner is first in the page for the keyboard: its link, then its three buttons.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Privacy statement (version 2023-01-01)"
    for expected in ("accept", "reject", "settings"):
        page.keyboard.press("Tab")
        assert _focused(page) == expected

    # Settings opens a modal dialog; Escape closes it and gives focus back.
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Cookie settings")
    dialog.wait_for()
    assert page.get_by_role("switch", name="Necessary cookies").is_disabled()
    assert page.get_by_role("switch", name="Necessary cookies").is_checked()
    page.keyboard.press("Escape")
    dialog.wait_for(state="detached")
    assert _focused(page) == "settings"

    page.keyboard.press("Enter")
    dialog.wait_for()
    functional = page.get_by_role("switch", name="Preference cookies")
    analytics = page.get_by_role("switch", name="Analytics cookies and transparent images")
    assert page.evaluate("() => document.activeElement.getAttribute('data-class')") == "functional"
    # Focus stays inside the dialog: Shift+Tab from the first control goes to the last.
    page.keyboard.press("Shift+Tab")
    assert _focused(page) == "close"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('data-class')") == "functional"
    assert functional.is_checked()
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.getAttribute('data-class')") == "analytics"
    assert analytics.is_checked()
    page.keyboard.press("Space")
    assert not analytics.is_checked()
    page.keyboard.press("Tab")  # marketing
    page.keyboard.press("Tab")
    assert _focused(page) == "save"
    page.keyboard.press("Enter")
    dialog.wait_for(state="detached")
    banner.wait_for(state="detached")

    consent = page.evaluate("() => Charter.consent.get()")
    assert consent == {"necessary": True, "functional": True, "analytics": False, "marketing": True}
    assert page.evaluate("() => window.lastConsent.choices.analytics") is False
    assert page.evaluate("() => window.functionalRan") is True
    assert page.evaluate("() => window.analyticsRan === undefined")
    assert page.locator('script[type="text/plain"][data-charter-class="analytics"]').count() == 1

    # P-TRK-1: the only cookie, before and after the choice, is the strictly necessary one.
    assert [c["name"] for c in context.cookies()] == ["charter_consent"]
    stored = _consent_cookie(context)
    assert stored["v"] == "2023-01-01"
    assert stored["c"] == {"functional": True, "analytics": False, "marketing": True}
    state, events = _ledger(sites.charter.services, stored["id"])
    for purpose in ANALYTICS_PURPOSES:
        assert not state.consented(purpose)
        assert state.consents[purpose].statement_version == "2023-01-01"
    assert "content_measurement" in state.opted_out
    assert state.preferences == {"cookies.functional": True, "cookies.analytics": False, "cookies.marketing": True}
    assert state.consented("remember_preferences")
    assert not state.gpc
    assert {e.source.value for e in events} == {"banner"}
    assert len({e.evidence["banner_sha256"] for e in events}) == 1

    # A second visit: no banner; the stored choice is applied and can be reopened from the site.
    page.reload()
    page.get_by_role("button", name="Cookie settings").click()
    page.get_by_role("dialog", name="Cookie settings").wait_for()
    assert page.get_by_role("dialog", name="Cookies on West websites").count() == 0
    assert not page.get_by_role("switch", name="Analytics cookies and transparent images").is_checked()
    assert page.evaluate("() => window.analyticsRan === undefined")
    context.close()


def test_global_privacy_control_starts_marketing_off_and_is_recorded(browser_context: Any, sites: Sites) -> None:
    """P-TRK-2: with GPC (header and navigator flag) the marketing switch starts off; the signal is in the ledger."""
    context = browser_context(gpc=True)
    page = context.new_page()
    page.goto(sites.shop)
    banner = page.get_by_role("dialog", name="Cookies on West websites")
    banner.wait_for()
    assert "Your browser asked us not to sell or share" in banner.inner_text()
    banner.get_by_role("button", name="Settings").click()
    dialog = page.get_by_role("dialog", name="Cookie settings")
    dialog.wait_for()
    assert not page.get_by_role("switch", name="Cross-site and advertising cookies").is_checked()
    # The 2023 statement's GPC signal covers cross-site tracking, not analytics.
    assert page.get_by_role("switch", name="Analytics cookies and transparent images").is_checked()
    dialog.get_by_role("button", name="Save choices").click()
    banner.wait_for(state="detached")

    stored = _consent_cookie(context)
    assert stored["c"]["marketing"] is False
    # Analytics was allowed, so the page's own analytics block ran (and set its cookie); the banner set none.
    assert page.evaluate("() => window.analyticsRan") is True
    assert sorted(c["name"] for c in context.cookies()) == ["_ga", "charter_consent"]
    state, events = _ledger(sites.charter.services, stored["id"])
    assert state.gpc
    assert not state.consented("cross_site_tracking")
    assert "cross_site_tracking" in state.opted_out
    gpc = [e for e in events if e.kind == EventKind.SIGNAL_GPC]
    assert len(gpc) == 1
    assert gpc[0].evidence["seen_in"] == "header+script"
    context.close()
