"""A member of the public without an e-mail address, in a real browser (issue 11; P-RGT-1, P-RGT-7).

Ben is known to the club by his phone number only. He asks for a copy of his data on the privacy center's form,
choosing "I don't have an e-mail address", answers two questions, keeps the link he is shown once, and opens his
request's page with it from another browser. The walk saves docs/guide/screenshots/request-without-email.png.
Accessibility is checked in the page itself (every control labelled, errors tied to their field, one h1); axe-core
is not installed in this environment.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from charter.db import migrate
from charter.policy import service as policy
from charter.services import Services
from charter.settings import DatabaseSettings, DatamapSettings, Settings
from tests.conftest import EXAMPLES, REPO
from tests.requests import club_store
from tests.requests.conftest import Recorder
from tests.web.live import free_socket, launched, require_chromium, serving, url_of

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
SHOT = REPO / "docs" / "guide" / "screenshots" / "request-without-email.png"
UNLABELLED = """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)"""
BROKEN_REFERENCES = """() => [...document.querySelectorAll('[aria-describedby]')].flatMap(el =>
  el.getAttribute('aria-describedby').split(/\\s+/).filter(id => id && !document.getElementById(id)))"""

with __import__("contextlib").suppress(ImportError):
    from playwright.sync_api import expect


@pytest.fixture
def charter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with club_store.store("sqlite", tmp_path) as club:
        monkeypatch.setenv("CLUB_URL", club.url)
        sock = free_socket()
        url = url_of(sock)
        services = Services(
            Settings.load(
                env="test",
                home=tmp_path / "home",
                base_url=url,
                database=DatabaseSettings(url=f"sqlite:///{tmp_path / 'charter.db'}"),
                datamap=DatamapSettings(path=club_store.write_map(tmp_path / "map", None)),
            )
        )
        services.mailer = Recorder()
        migrate(services.database)
        for name in ("statement-2019.yaml", "statement-2023.yaml"):
            loaded, raw = policy.read_file(EXAMPLES / name, limits=services.settings.policy)
            with services.database.session() as session:
                policy.publish(session, loaded, raw, actor="test")
        with serving(services, sock):
            yield url


@pytest.fixture
def browser() -> Iterator[Any]:
    with launched(require_chromium()) as made:
        yield made


def _accessible(page: Any) -> None:
    assert page.evaluate(UNLABELLED) == []
    assert page.evaluate(BROKEN_REFERENCES) == []
    assert page.locator("h1").count() == 1


def test_a_phone_only_request_from_the_form(browser: Any, charter: str) -> None:
    person = browser.new_context(base_url=charter)
    person.set_default_timeout(10_000)
    page = person.new_page()
    page.goto("/privacy/requests")
    _accessible(page)
    page.get_by_label("See the personal information you hold about me (access)").check()
    page.get_by_label("I don't have an e-mail address, or don't want to use one").check()
    page.get_by_label("What do we know you by?").select_option("phone")
    page.get_by_role("button", name="Send my request").click()  # nothing filled in: errors, tied to their fields
    expect(page.get_by_text("Enter the number or identifier we know you by.").first).to_be_visible()
    _accessible(page)
    page.get_by_label("The number or identifier").fill("(512) 555-0102")
    page.get_by_label("Postal code of an address you gave us").fill("78702")
    page.get_by_label("Your date of birth").fill("1985-02-03")
    page.get_by_role("button", name="Send my request").click()
    expect(page.get_by_role("heading", name="Keep this link")).to_be_visible()
    _accessible(page)
    link = page.get_by_label("Your request link").input_value()
    assert re.fullmatch(rf"{re.escape(charter)}/privacy/requests/open\?token=[A-Za-z0-9_-]{{43}}", link)
    SHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOT), full_page=True)

    later = browser.new_context(base_url=charter).new_page()  # another day, another browser: only the link
    later.goto(link)
    expect(later.get_by_role("heading", name="Your privacy request")).to_be_visible()
    expect(later.get_by_text("Our privacy office is looking at your request.")).to_be_visible()
    assert "token=" not in later.url
    _accessible(later)
    later.goto("/privacy/requests/open?token=" + "x" * 43)
    expect(later.get_by_text("This link does not open a request.")).to_be_visible()
