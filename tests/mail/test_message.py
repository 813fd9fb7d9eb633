"""Composing a message: header injection and a misconfigured sender are refused."""

from __future__ import annotations

import pytest

from charter.errors import InvalidInput, Misconfigured
from charter.mail import compose
from charter.settings import MailSettings


def test_a_message_has_the_headers_mail_servers_expect() -> None:
    message = compose(MailSettings(), to="ana@example.org", subject="Hi", text="x\n", headers={"X-Test": "1"})
    assert message["Date"] and message["Message-ID"] and message["X-Test"] == "1"
    assert message.get_content_type() == "text/plain"
    with_html = compose(MailSettings(), to="ana@example.org", subject="Hi", text="x\n", html="<p>x</p>")
    assert with_html.get_content_type() == "multipart/alternative"


@pytest.mark.parametrize(
    ("to", "subject"),
    [
        ("ana@example.org\r\nBcc: eve@example.org", "Hi"),
        ("ana@example.org", "Hi\nBcc: eve@example.org"),
        ("not-an-address", "Hi"),
        ("ana(eve@example.org)@example.org", "Hi"),  # the parser would drop the comment: mail to someone else
        ("<ana>@example.org", "Hi"),
        ("ana..b@example.org", "Hi"),
        ("ana@[example.org", "Hi"),  # an unclosed domain literal: the stdlib parser fails with AttributeError
    ],
)
def test_header_injection_and_bad_recipients_are_refused(to: str, subject: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        compose(MailSettings(), to=to, subject=subject, text="x\n")
    assert "eve@example.org" not in caught.value.detail


def test_a_sender_without_an_address_is_misconfigured() -> None:
    with pytest.raises(Misconfigured, match="CHARTER_MAIL_FROM_ADDRESS"):
        compose(MailSettings(from_address="Nobody"), to="ana@example.org", subject="Hi", text="x\n")
