"""The e-mail that carries a code and a link. Plain text, no tracking image (P-TRK-3 does not apply)."""

from __future__ import annotations

from email.message import EmailMessage

from charter.mail import compose
from charter.preferences.challenges import Started
from charter.settings import MailSettings

SUBJECT = "Your code for your privacy choices"


def code_message(
    settings: MailSettings, started: Started, *, link: str, minutes: int, organization: str | None
) -> EmailMessage:
    who = organization or "we"
    text = (
        "Hello,\n\n"
        f"Someone, we hope you, asked to see and change the privacy choices {who} "
        f"{'holds' if organization else 'hold'} for this e-mail address.\n\n"
        f"Your code: {started.code}\n\n"
        f"Or open this link:\n{link}\n\n"
        f"The code and the link work once, for {minutes} minutes. If you did not ask for them, "
        "ignore this e-mail: nothing changes unless the code is used.\n"
    )
    return compose(
        settings,
        to=started.email,
        subject=SUBJECT,
        text=text,
        headers={"Auto-Submitted": "auto-generated"},
    )
