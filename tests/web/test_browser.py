"""The privacy center in a real browser: the system Chromium, driven by Playwright.

A real uvicorn server runs in a background thread on a free local port, on a
SQLite database prepared the way ``make demo`` prepares it (both example
statements published). Without /usr/bin/chromium the tests are skipped
locally and fail under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from charter import demo
from charter.services import Services
from charter.settings import DatabaseSettings, Settings
from tests.web.live import free_socket, launched, require_chromium, serving

pytestmark = pytest.mark.browser

"""Seconds the server may take to start; a guard against hanging, not an assertion."""
HIGHLIGHT = "rgb(253, 230, 138)"
"""The background of ``.substantive mark.kind`` in charter.css."""


with contextlib.suppress(ImportError):  # a dev dependency; its absence is reported by the chromium fixture
    from playwright.sync_api import Page


@pytest.fixture(scope="module")
def chromium() -> Path:
    return require_chromium()


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live server on 127.0.0.1 with both example statements published."""
    home = tmp_path_factory.mktemp("browser")
    services = Services(
        Settings.load(
            env="test",
            home=home / "home",
            database=DatabaseSettings(url=f"sqlite:///{home / 'charter.db'}"),
        )
    )
    published, _password = demo.prepare(services)
    assert published == ["2019-04-04", "2023-01-01"]

    with serving(services, free_socket()) as url:
        yield url


@pytest.fixture
def page(chromium: Path, base_url: str) -> Iterator[Page]:
    with launched(chromium) as browser:
        context = browser.new_context(base_url=base_url)
        page = context.new_page()
        page.set_default_timeout(10_000)
        yield page
        context.close()


def test_switch_versions_and_see_what_changed(page: Page, tmp_path: Path) -> None:
    response = page.goto("/privacy")
    assert response is not None
    assert response.status == 200
    effective = page.locator("article.statement p.effective")
    assert effective.inner_text().startswith("Effective January 1, 2023")
    assert page.locator(".version-bar .badge.current").inner_text() == "In force since January 1, 2023"

    page.select_option("#version-select", "2019-04-04")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r"/privacy/versions/2019-04-04$"))
    assert effective.inner_text().startswith("Effective April 4, 2019")
    notice = page.locator(".version-bar .badge.past")
    assert notice.is_visible()
    assert "no longer in force" in notice.inner_text()
    assert page.locator("#version-select").input_value() == "2019-04-04"

    page.get_by_role("link", name="What changed between versions").click()
    page.wait_for_url(re.compile(r"/privacy/changes$"))
    heading = page.get_by_role("heading", name="Substantive changes")
    assert heading.is_visible()
    substantive = page.locator("section.changes.substantive")
    assert "the minimum age changed (13 → 18)" in substantive.inner_text()
    marks = substantive.locator("mark.kind")
    assert marks.count() > 0
    assert marks.first.evaluate("m => getComputedStyle(m).backgroundColor") == HIGHLIGHT
    # The minor changes are folded away; the substantive ones are not.
    assert page.locator("details.changes.minor").get_attribute("open") is None

    shot = tmp_path / "changes.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.exists()
    assert shot.stat().st_size > 0


def test_the_skip_link_comes_first_for_the_keyboard(page: Page) -> None:
    page.goto("/privacy")
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => ({tag: document.activeElement.tagName, cls: document.activeElement.className,"
        " href: document.activeElement.getAttribute('href'), text: document.activeElement.textContent})"
    )
    assert focused == {"tag": "A", "cls": "skip", "href": "#main", "text": "Skip to content"}
    # Focused, the link is shown on screen rather than parked off it.
    box = page.locator("a.skip").bounding_box()
    assert box is not None
    assert box["x"] >= 0
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/privacy#main$"))
