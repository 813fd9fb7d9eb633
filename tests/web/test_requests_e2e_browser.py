"""A deletion request from the privacy center to the certificate, in a real browser (P-RGT-3, P-RGT-7).

Everything is real: Charter runs in uvicorn on a free local port over a
SQLite database (both example statements published), with the demo's shop
and support SQLite stores in its home and the example data map pointing at
them; mail goes over SMTP to an aiosmtpd server; approving carries the
request out at once (``CHARTER_EXECUTION_AUTORUN``). Chromium (the system one,
driven by Playwright) makes the request as ana@example.org, types the code
read from the message the SMTP server received (P-RGT-7: the requester proves
control of the address) and, a deletion being high-risk, her real postal
code, phone digits and date of birth from the demo shop (facts matching);
then an admin signs in, sees "facts matched: 3 of 3", approves it in the
console without a check of their own and watches it complete. The
certificate (P-RGT-3) — read over the API and opened as the console page by
clicking its link — lists the systems and collections with the rows
affected, and the stores,
opened directly, hold nothing that identifies her any more while another
person's rows are untouched. Without /usr/bin/chromium the test is skipped
locally and fails under ``CI=true`` (the pattern of test_browser.py).
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from charter.auth import service as auth
from charter.auth.roles import Permission, Role
from charter.db import migrate
from charter.demo import stores
from charter.policy import service as policy
from charter.services import Services
from charter.settings import DatabaseSettings, DatamapSettings, ExecutionSettings, Settings
from tests.auth.factories import PASSWORD
from tests.conftest import EXAMPLES
from tests.mail.smtpd import SmtpServer, running_smtpd
from tests.web.live import free_socket, launched, require_chromium, serving, url_of

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

"""Seconds the server may take to start; a guard against hanging, not an assertion."""
COMPLETE_WITHIN = 60.0
"""Seconds the autorun may take to carry the deletion out; a guard, not a timing assertion."""
ADMIN = "office-admin"
EMAIL = "ana@example.org"
OTHER = "ben@example.org"
PEOPLE = 20


with contextlib.suppress(ImportError):  # a dev dependency; its absence is reported by the chromium fixture
    from playwright.sync_api import Page, expect


@dataclass(frozen=True)
class Charter:
    url: str
    services: Services
    smtp: SmtpServer
    token: str
    """A bearer token of the admin with ``requests:read`` (for the certificate)."""


@pytest.fixture(scope="module")
def chromium() -> Path:
    return require_chromium()


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpServer]:
    with running_smtpd() as server:
        yield server


@pytest.fixture(scope="module")
def charter(tmp_path_factory: pytest.TempPathFactory, smtp: SmtpServer) -> Iterator[Charter]:
    """A live Charter: statements published, the demo stores in its home, SMTP mail, autorun on, an admin."""
    root = tmp_path_factory.mktemp("requests-e2e")
    home = root / "home"
    added = stores.create(home, count=PEOPLE)
    assert all(added.values()), added
    sock = free_socket()
    url = url_of(sock)
    services = Services(
        Settings.load(
            env="test",
            home=home,
            base_url=url,
            database=DatabaseSettings(url=f"sqlite:///{root / 'charter.db'}"),
            datamap=DatamapSettings(path=EXAMPLES / "datamap"),
            mail=smtp.settings(),
            execution=ExecutionSettings(autorun=True, retry_base=0.1),
        )
    )
    migrate(services.database)
    for name in ("statement-2019.yaml", "statement-2023.yaml"):
        loaded, raw = policy.read_file(EXAMPLES / name, limits=services.settings.policy)
        with services.database.session() as session:
            policy.publish(session, loaded, raw, actor="test")
    with services.database.session() as session:
        auth.create_user(session, username=ADMIN, role=Role.ADMIN, password=PASSWORD, actor="test")
        token, _row = auth.create_token(
            session, username=ADMIN, name="e2e", scopes=[Permission.REQUESTS_READ], actor="test"
        )
    with serving(services, sock):
        yield Charter(url, services, smtp, token)


@pytest.fixture
def browser(chromium: Path) -> Iterator[Any]:
    with launched(chromium) as browser:
        yield browser


# -- the stores, read directly ----------------------------------------------------------

Rows = dict[str, dict[Any, dict[str, Any]]]


def _dump(path: Path) -> Rows:
    """Every row of every table of a SQLite store, by table and primary key."""
    engine = create_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            dumped: Rows = {}
            for table in inspect(conn).get_table_names():
                rows = conn.execute(text(f'SELECT * FROM "{table}"')).mappings()  # table names come from the schema
                dumped[table] = {row["id"]: dict(row) for row in rows}
            return dumped
    finally:
        engine.dispose()


def _rows_of(shop: Rows, support: Rows, email: str) -> dict[str, set[Any]]:
    """The primary keys of the rows about the person with ``email``, by ``store.table``."""
    (customer,) = (k for k, r in shop["customers"].items() if r["email"] == email)
    order_ids = {k for k, r in shop["orders"].items() if r["customer_id"] == customer}
    ticket_ids = {k for k, r in support["tickets"].items() if r["email"] == email}
    return {
        "shop.customers": {customer},
        "shop.addresses": {k for k, r in shop["addresses"].items() if r["customer_id"] == customer},
        "shop.orders": order_ids,
        "shop.order_items": {k for k, r in shop["order_items"].items() if r["order_id"] in order_ids},
        "shop.payments": {k for k, r in shop["payments"].items() if r["order_id"] in order_ids},
        "support.tickets": ticket_ids,
        "support.messages": {k for k, r in support["messages"].items() if r["ticket_id"] in ticket_ids},
    }


def _code_for(smtp: SmtpServer, email: str) -> str:
    sent = [m for m in smtp.messages if m["To"] and email in str(m["To"])]
    assert sent, f"no message to {email} reached the SMTP server"
    found = re.search(r"Your code: (\d{6})", sent[-1].get_content())
    assert found is not None, sent[-1].get_content()
    return found.group(1)


def _reload_until(page: Page, locator: Any, pattern: re.Pattern[str], within: float) -> None:
    """Reload ``page`` until ``locator`` matches ``pattern`` (Playwright's expect polls within each load)."""
    deadline = time.monotonic() + within
    while True:
        try:
            expect(locator).to_have_text(pattern, timeout=1_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def test_a_deletion_from_the_form_to_the_certificate(browser: Any, charter: Charter) -> None:
    """P-RGT-7 then P-RGT-3: verified by a mailed code, approved in the console, erased and certified."""
    home = charter.services.settings.home
    shop_before, support_before = _dump(home / stores.SHOP_FILE), _dump(home / stores.SUPPORT_FILE)
    hers = _rows_of(shop_before, support_before, EMAIL)
    theirs = _rows_of(shop_before, support_before, OTHER)
    assert hers["shop.payments"] and hers["support.messages"], "the demo stores hold Ana's orders and tickets"

    # 1. The person asks, in the privacy center.
    person = browser.new_context(base_url=charter.url)
    person.set_default_timeout(10_000)
    page = person.new_page()
    page.goto("/privacy/requests")
    page.get_by_label("Delete my personal information (deletion)").check()
    page.get_by_label("The e-mail address of the person the request is about").fill(EMAIL)
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url(re.compile(r"/privacy/requests/code\?request=[0-9a-f]{32}$"))
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    public_id = page.url.rsplit("=", 1)[1]

    # 2. The code from the message the SMTP server received (P-RGT-7).
    page.get_by_label("Code from the e-mail").fill(_code_for(charter.smtp, EMAIL))
    page.get_by_role("button", name="Confirm my request").click()
    page.wait_for_url(re.compile(rf"/privacy/requests/{public_id}$"))
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text(public_id)
    expect(facts.locator("dt:text-is('What you asked') + dd")).to_have_text(re.compile("delet", re.I))

    # 2b. A deletion is high-risk: the page asks for facts the shop holds; Ana types her real ones (P-RGT-7).
    ana = shop_before["customers"][next(iter(hers["shop.customers"]))]
    (address,) = (shop_before["addresses"][k] for k in hers["shop.addresses"])
    expect(page.get_by_role("heading", name="Help us confirm the request is yours")).to_be_visible()
    page.get_by_label("Postal code of an address you gave us").fill(address["postal_code"])
    page.get_by_label("Last four digits of a phone number you gave us").fill(str(ana["phone"])[-4:])
    page.get_by_label("Your date of birth").fill(str(ana["birth_date"])[:10])
    page.get_by_role("button", name="Send the facts").click()
    page.wait_for_url(re.compile(rf"/privacy/requests/{public_id}\?facts=1$"))
    expect(page.locator("#facts-thanks")).to_have_text("Thank you; the privacy office will review your request.")

    # 3. The privacy office signs in, finds the request and approves it.
    office = browser.new_context(base_url=charter.url)
    office.set_default_timeout(10_000)
    console = office.new_page()
    console.goto("/login")
    console.get_by_label("Username").fill(ADMIN)
    console.get_by_label("Password").fill(PASSWORD)
    console.get_by_role("button", name="Sign in").click()
    console.wait_for_url(re.compile(r"/console"))
    console.goto("/console/requests")
    console.locator(f'a[href="/console/requests/{public_id}"]').click()
    console.wait_for_url(re.compile(rf"/console/requests/{public_id}$"))
    status = console.locator("dl.facts dt:text-is('Status') + dd")
    expect(status).to_have_text(re.compile("in review|verified"))
    assert EMAIL not in console.content()  # the console masks the requester
    # Her facts matched: the office sees the level, and needs no "identity checked" of its own (P-RGT-7).
    expect(console.locator("#facts-level")).to_contain_text("facts matched: 3 of 3")
    expect(
        console.get_by_label("I checked the requester's identity against information we already hold")
    ).to_have_count(0)
    console.get_by_role("button", name="Approve the request").click()
    console.wait_for_url(re.compile(rf"/console/requests/{public_id}\?done=approved$"))

    # 4. Autorun carries it out; the console shows it completed.
    _reload_until(console, status, re.compile(r"^completed"), COMPLETE_WITHIN)
    expect(console.get_by_text("Nothing to decide in this state.")).to_be_visible()

    # The person's status page says so too (the cookie from step 2 still opens it).
    page.reload()
    expect(facts.locator("dt:text-is('Where it stands') + dd")).to_contain_text("Completed")

    # 5. The certificate (P-RGT-3): systems, collections, rows affected; verified; no identity in it.
    response = office.request.get(
        f"/api/v1/requests/{public_id}/certificate", headers={"Authorization": f"Bearer {charter.token}"}
    )
    assert response.status == 200, response.text()
    certificate = response.json()
    assert certificate["request"] == public_id
    assert certificate["type"] == "deletion"
    assert certificate["verified"] is True
    assert set(certificate["systems"]) == {"shop", "support"}
    affected = {(c["system"], c["collection"]): c["rows_affected"] for c in certificate["collections"]}
    assert affected == {
        ("shop", "west_shop.customers"): 1,
        ("shop", "west_shop.addresses"): len(hers["shop.addresses"]),
        ("shop", "west_shop.payments"): len(hers["shop.payments"]),
        ("support", "west_support.tickets"): len(hers["support.tickets"]),
        ("support", "west_support.messages"): len(hers["support.messages"]),
    }
    assert all(c["verified_at"] and c["audit_seq"] for c in certificate["collections"])
    assert {k["collection"] for k in certificate["kept"]} == {"west_shop.orders", "west_shop.order_items"}
    assert EMAIL not in response.text()

    # 5b. The office opens the certificate page from the request page (issue 4): the same facts, as tables.
    console.get_by_role("link", name="Open the deletion certificate").click()
    console.wait_for_url(re.compile(rf"/console/requests/{public_id}/certificate$"))
    expect(console.get_by_role("heading", name="Deletion certificate")).to_be_visible()
    shown = console.locator("#certificate-facts")
    expect(shown.locator("dt:text-is('Systems') + dd")).to_have_text("shop, support")
    expect(shown.locator("dt:text-is('Verified') + dd")).to_contain_text("Yes")
    erased = console.locator("table#erased tbody tr")
    expect(erased).to_have_count(len(affected))
    for (system, collection), rows in affected.items():
        row = erased.filter(has=console.get_by_role("rowheader", name=collection, exact=True))
        expect(row.locator("td").nth(0)).to_have_text(system)
        expect(row.locator("td").nth(3)).to_have_text(str(rows))  # rows affected
        expect(row.locator("td").nth(6).get_by_role("link")).to_have_text(re.compile(r"^#\d+$"))  # audit entry
    expect(console.locator("table#erased tbody tr", has_text="west_shop.customers")).to_contain_text("keyed_hash")
    kept = console.locator("table#kept tbody tr")
    expect(kept).to_have_count(2)
    expect(kept.filter(has_text="west_shop.orders")).to_contain_text("tax records, kept 10 years")
    download = console.get_by_role("link", name="Download the certificate as JSON")
    assert download.get_attribute("href") == f"/api/v1/requests/{public_id}/certificate"
    assert EMAIL not in console.content()

    # 6. The stores, opened directly: nothing identifies Ana; everyone else's rows are as they were.
    shop_after, support_after = _dump(home / stores.SHOP_FILE), _dump(home / stores.SUPPORT_FILE)
    after = {"shop": shop_after, "support": support_after}
    before = {"shop": shop_before, "support": support_before}
    (customer,) = hers["shop.customers"]
    ana = shop_before["customers"][customer]
    identifying = {ana["email"], ana["phone"], f"{ana['first_name']} {ana['last_name']}"} - {None}
    for store, tables in after.items():
        for table, rows in tables.items():
            for row in rows.values():
                for value in row.values():
                    assert not (isinstance(value, str) and value.strip().lower() in identifying), (store, table, row)
    for key in ("support.tickets", "support.messages", "shop.addresses"):
        store, table = key.split(".")
        assert not hers[key] & after[store][table].keys(), f"{key} still holds Ana's rows"
    erased = shop_after["customers"][customer]
    assert erased["email"] != EMAIL and erased["phone"] is None
    assert ana["first_name"] not in (erased["first_name"], erased["last_name"])
    for payment in hers["shop.payments"]:
        assert shop_after["payments"][payment]["card_holder"] != shop_before["payments"][payment]["card_holder"]
        assert shop_after["payments"][payment]["card_last4"] is None
    for key in ("shop.orders", "shop.order_items"):  # kept for the tax retention period, identifying nobody now
        store, table = key.split(".")
        assert all(after[store][table][k] == before[store][table][k] for k in hers[key])
    untouched = _untouched(before, hers)
    for key, ids in untouched.items():
        store, table = key.split(".")
        assert {k: after[store][table].get(k) for k in ids} == {k: before[store][table][k] for k in ids}, key
    # Ben, who also has orders and a ticket, is among the rows left exactly as they were.
    assert theirs["shop.payments"] and theirs["support.messages"]
    assert all(ids <= untouched[key] for key, ids in theirs.items())
    person.close()
    office.close()


def _untouched(before: dict[str, Rows], hers: dict[str, set[Any]]) -> dict[str, set[Any]]:
    """Every row not about Ana, by ``store.table``."""
    return {
        f"{store}.{table}": set(rows) - hers.get(f"{store}.{table}", set())
        for store, tables in before.items()
        for table, rows in tables.items()
    }
