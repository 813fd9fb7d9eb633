"""The statement for people, in Markdown or HTML, drawn from ``view``."""

from __future__ import annotations

from typing import Literal

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from charter.policy.schema import Statement
from charter.policy.view import build_view

Format = Literal["html", "md"]

_environment = Environment(
    loader=PackageLoader("charter.policy", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
    undefined=StrictUndefined,
    trim_blocks=False,
    keep_trailing_newline=True,
)

_STANDALONE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body>
{body}
</body></html>
"""


def render(statement: Statement, fmt: Format = "md", *, standalone: bool = False) -> str:
    """The human statement. ``standalone`` wraps HTML in a full document."""
    view = build_view(statement)
    if fmt == "md":
        return _environment.get_template("statement.md.j2").render(view=view)
    body = _environment.get_template("statement.html.j2").render(
        view=view, effective_iso=statement.effective.isoformat()
    )
    if not standalone:
        return body
    from markupsafe import escape

    return _STANDALONE.format(title=escape(view.title), body=body)
