"""Jinja2 templates for the privacy center and the console (autoescaped)."""

from __future__ import annotations

from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from charter import __version__

templates = Jinja2Templates(directory=str(resources.files("charter.web") / "templates"))
templates.env.globals["charter_version"] = __version__


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    context.setdefault("principal", principal)
    context.setdefault("csrf_token", getattr(principal, "csrf_token", None))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def sentence(text: str) -> str:
    """An error detail as a sentence for a page: capitalized, with a full stop."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
