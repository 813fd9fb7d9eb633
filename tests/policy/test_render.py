"""Rendering: the text people read is generated from the rules (P-STM-1)."""

from __future__ import annotations

import html

from hypothesis import given, settings

from charter.policy.render import render
from charter.policy.schema import Statement
from charter.policy.view import RIGHT_LABELS
from tests.strategies import example_documents, statements


@given(statements())
@settings(max_examples=30, deadline=None)
def test_rendering_mentions_every_purpose_recipient_and_right(statement: Statement) -> None:
    for fmt in ("md", "html"):
        text = render(statement, fmt)
        text = html.unescape(text) if fmt == "html" else text
        for purpose in statement.purposes:
            assert purpose.name in text, purpose.id
        for recipient in statement.recipients:
            assert recipient.name in text, recipient.id
        for jurisdiction in statement.rights.jurisdictions:
            for offer in jurisdiction.rights:
                assert RIGHT_LABELS[offer.right] in text, offer.right


def test_effective_date_is_at_the_top() -> None:
    """P-STM-1: the effective date heads the statement."""
    for document, date_text in zip(example_documents(), ("April 4, 2019", "January 1, 2023"), strict=True):
        statement = Statement.model_validate(document)
        markdown = render(statement, "md")
        assert f"**Effective {date_text}**" in "\n".join(markdown.splitlines()[:3])
        page = render(statement, "html")
        assert page.index(date_text) < page.index("<section")


def test_html_escapes_what_the_statement_says() -> None:
    document = dict(example_documents()[1])
    document["introduction"] = "<script>alert(1)</script>"
    page = render(Statement.model_validate(document), "html", standalone=True)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_deadlines_come_from_the_rights_section() -> None:
    """P-RGT-8: the deadline shown is the deadline enforced."""
    statement = Statement.model_validate(example_documents()[1])
    text = render(statement, "md")
    california = next(j for j in statement.rights.jurisdictions if j.id == "california")
    assert california.acknowledge_within is not None
    assert f"We acknowledge a request within {california.acknowledge_within}." in text
    assert "45 days" in text
