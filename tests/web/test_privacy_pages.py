"""The public privacy center and the console's statement pages, on each backend.

The privacy center needs no sign-in. The console is reached with a real
session cookie (``charter_session``) and, for forms, the session's CSRF
token.
"""

from __future__ import annotations

import re
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.testclient import TestClient

from charter.auth.roles import Role
from charter.services import Services
from charter.web.security import SESSION_COOKIE
from tests.cli.test_policy_cli import COLLECTION_HEAD, position
from tests.conftest import EXAMPLES
from tests.web.conftest import ConsoleLogin, MakeSession

TEXT_2023 = (EXAMPLES / "statement-2023.yaml").read_text()
TEXT_2024 = TEXT_2023.replace('version: "2023-01-01"', 'version: "2024-06-01"').replace(
    "effective: 2023-01-01", "effective: 2024-06-01"
)
BROKEN = TEXT_2024.replace(COLLECTION_HEAD, COLLECTION_HEAD.replace("user.contact", "user.contcat"))


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(html: str) -> str:
    """What a reader sees: the text without tags, whitespace collapsed."""
    parser = _Text()
    parser.feed(html)
    return re.sub(r"\s+", " ", "".join(parser.parts))


def assert_html(response: Any, status: int) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    return text_of(response.text)


def stored_versions(services: Services) -> list[str]:
    from charter.policy import service

    with services.database.session() as session:
        return [row.version for row in service.versions(session)]


# --- the public privacy center -------------------------------------------------------


def test_the_statement_in_force(client: TestClient, published: list[str]) -> None:
    text = assert_html(client.get("/privacy"), 200)
    assert "Effective January 1, 2023" in text
    assert "In force since January 1, 2023" in text
    assert "no longer in force" not in text
    assert "What changed between versions" in text


def test_home_redirects_to_the_statement(client: TestClient, published: list[str]) -> None:
    response = client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/privacy"


def test_every_version_is_listed(client: TestClient, published: list[str]) -> None:
    response = client.get("/privacy/versions")
    text = assert_html(response, 200)
    assert 'href="/privacy/versions/2019-04-04"' in response.text
    assert 'href="/privacy/versions/2023-01-01"' in response.text
    assert "April 4, 2019" in text
    assert "January 1, 2023" in text
    assert "In force" in text
    assert "Earlier" in text
    assert 'href="/privacy/changes?from=2019-04-04&amp;to=2023-01-01"' in response.text


def test_an_earlier_version(client: TestClient, published: list[str]) -> None:
    text = assert_html(client.get("/privacy/versions/2019-04-04"), 200)
    assert "Effective April 4, 2019" in text
    assert "An earlier version, no longer in force." in text
    assert "Read the version in force" in text
    assert "If you are under 13" in text


def test_the_version_switcher_redirects(client: TestClient, published: list[str]) -> None:
    response = client.get("/privacy/versions", params={"version": "2019-04-04"})
    assert response.status_code == 303
    assert response.headers["location"] == "/privacy/versions/2019-04-04"
    assert "Effective April 4, 2019" in assert_html(client.get(response.headers["location"]), 200)


def test_what_changed(client: TestClient, published: list[str]) -> None:
    response = client.get("/privacy/changes")
    text = assert_html(response, 200)
    assert "Substantive changes" in text
    assert "the minimum age changed (13 → 18)" in text
    assert re.search(r"\d+ substantive changes? you should know about", text)
    assert '<section aria-labelledby="substantive-h" class="changes substantive">' in response.text


def test_what_changed_between_chosen_versions(client: TestClient, published: list[str]) -> None:
    same = assert_html(client.get("/privacy/changes", params={"from": "2023-01-01", "to": "2023-01-01"}), 200)
    assert "0 substantive changes" in same
    unknown = assert_html(client.get("/privacy/changes", params={"from": "2019-04-04", "to": "nope"}), 404)
    assert "No such version" in unknown


def test_an_unknown_version_is_a_404_page(client: TestClient, published: list[str]) -> None:
    text = assert_html(client.get("/privacy/versions/nope"), 404)
    assert "No such version" in text
    assert "nope" in text


def test_markup_in_a_version_name_is_escaped(client: TestClient, published: list[str]) -> None:
    response = client.get("/privacy/versions/<img src=x onerror=alert(1)>")
    assert_html(response, 404)
    assert "<img src=x" not in response.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/privacy/versions/%00",
        "/privacy/versions/a%00b",
        "/privacy/changes?from=%00&to=2019-04-04",
        "/privacy/versions/" + "9" * 300,
        "/privacy/versions/%E2%80%AE",
        "/privacy/versions/..%5C..%5Cetc",
    ],
)
def test_odd_version_names_are_404_pages_never_500(client: TestClient, published: list[str], path: str) -> None:
    """A NUL byte once reached PostgreSQL and came back as a 500."""
    text = assert_html(client.get(path), 404)
    assert "No such version" in text


def test_nothing_published_is_a_friendly_404(client: TestClient) -> None:
    text = assert_html(client.get("/privacy"), 404)
    assert "No privacy statement yet" in text
    versions = assert_html(client.get("/privacy/versions"), 200)
    assert "No statement has been published yet." in versions
    changes = assert_html(client.get("/privacy/changes"), 200)
    assert "nothing has changed yet" in changes


def test_one_version_has_nothing_to_compare(client: TestClient, services: Services) -> None:
    from charter.policy import service

    loaded = service.read_text(TEXT_2023, source="s.yaml", limits=services.settings.policy)
    with services.database.session() as session:
        service.publish(session, loaded, TEXT_2023, actor="test")
    text = assert_html(client.get("/privacy"), 200)
    assert "What changed between versions" not in text
    assert "nothing has changed yet" in assert_html(client.get("/privacy/changes"), 200)


# --- the console -----------------------------------------------------------------------


@pytest.fixture
def officer(client: TestClient, make_session: MakeSession) -> ConsoleLogin:
    login = make_session(Role.PRIVACY_OFFICER)
    client.cookies.set(SESSION_COOKIE, login.cookie)
    return login


def upload(client: TestClient, text: str, csrf: str | None, name: str = "statement-2024.yaml") -> Any:
    data = {"csrf_token": csrf} if csrf is not None else {}
    return client.post("/console/policy", data=data, files={"statement": (name, text.encode(), "application/yaml")})


def test_console_lists_the_versions(client: TestClient, officer: ConsoleLogin, published: list[str]) -> None:
    response = client.get("/console/policy")
    text = assert_html(response, 200)
    assert "2019-04-04" in text
    assert "2023-01-01 (in force)" in text
    assert f'name="csrf_token" value="{officer.csrf_token}"' in response.text
    assert 'href="/console/policy/diff?old=2019-04-04&amp;new=2023-01-01"' in response.text


def test_console_needs_a_session(client: TestClient) -> None:
    response = client.get("/console/policy")
    assert response.status_code == 401
    client.cookies.set(SESSION_COOKIE, "not-a-session")
    assert client.get("/console/policy").status_code == 401


def test_upload_without_the_csrf_token_is_refused(
    client: TestClient, officer: ConsoleLogin, services: Services, published: list[str]
) -> None:
    response = upload(client, TEXT_2024, None)
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert upload(client, TEXT_2024, "not-the-token").status_code == 403
    assert stored_versions(services) == published


def test_upload_with_the_csrf_token_publishes(
    client: TestClient, officer: ConsoleLogin, services: Services, published: list[str]
) -> None:
    response = upload(client, TEXT_2024, officer.csrf_token)
    text = assert_html(response, 201)
    assert "Published version 2024-06-01." in text
    assert "2024-06-01" in text
    assert stored_versions(services) == [*published, "2024-06-01"]
    from charter.policy import service

    with services.database.session() as session:
        row = service.get(session, "2024-06-01")
        assert (row.published_by, row.source_name, row.source_text) == (
            f"user:{officer.username}",
            "statement-2024.yaml",
            TEXT_2024,
        )


def test_upload_of_an_invalid_file_lists_its_problems(
    client: TestClient, officer: ConsoleLogin, services: Services, published: list[str]
) -> None:
    response = upload(client, BROKEN, officer.csrf_token, name="broken.yaml")
    text = assert_html(response, 422)
    assert "Nothing was published" in text
    problems = re.findall(r'<ul class="problems">(.*?)</ul>', response.text, re.S)
    assert problems
    items = [unescape(item) for item in re.findall(r"<li>(.*?)</li>", problems[0], re.S)]
    row, column = position(BROKEN, "user.contcat")
    assert items == [
        f"broken.yaml:{row}:{column}: collection.categories[1]: unknown data category 'user.contcat'; "
        "did you mean 'user.contact'?"
    ]
    assert stored_versions(services) == published


@pytest.mark.parametrize(
    ("text", "status", "message"),
    [
        (TEXT_2023, 409, "already published"),
        (
            TEXT_2023.replace('version: "2023-01-01"', 'version: "2022"').replace(
                "effective: 2023-01-01", "effective: 2022-01-01"
            ),
            409,
            "is not after",
        ),
    ],
)
def test_upload_conflicts_are_shown(
    client: TestClient,
    officer: ConsoleLogin,
    services: Services,
    published: list[str],
    text: str,
    status: int,
    message: str,
) -> None:
    page = assert_html(upload(client, text, officer.csrf_token), status)
    assert "Nothing was published" in page
    assert message in page
    assert stored_versions(services) == published


def test_an_analyst_may_read_but_not_publish(
    client: TestClient, make_session: MakeSession, services: Services, published: list[str]
) -> None:
    analyst = make_session(Role.ANALYST)
    client.cookies.set(SESSION_COOKIE, analyst.cookie)
    response = client.get("/console/policy")
    assert_html(response, 200)
    assert "Publish a new version" not in response.text
    assert upload(client, TEXT_2024, analyst.csrf_token).status_code == 403
    assert stored_versions(services) == published


def test_audit_log_is_for_auditors(client: TestClient, make_session: MakeSession, published: list[str]) -> None:
    client.cookies.set(SESSION_COOKIE, make_session(Role.ANALYST).cookie)
    refused = client.get("/console/audit")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    client.cookies.set(SESSION_COOKIE, make_session(Role.AUDITOR).cookie)
    response = client.get("/console/audit")
    text = assert_html(response, 200)
    assert "Chain intact" in text
    assert "policy.published" in text
    filtered = assert_html(client.get("/console/audit", params={"action": "policy.published"}), 200)
    assert "policy_version:2019-04-04" in filtered
    assert "user.created" not in filtered
