"""Every error the web app returns is application/problem+json (RFC 9457).

This is the one place Charter errors become HTTP. Unknown errors become a
generic 500 with a request id; the detail goes only to the log.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from charter.errors import CharterError, NotAuthenticated

log = logging.getLogger("charter.web")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, code: str, **extra: Any) -> JSONResponse:
    body = {"type": f"https://charter.dev/problems/{code}", "title": title, "status": status, "detail": detail}
    body.update(extra)
    headers = {"WWW-Authenticate": 'Bearer realm="charter"'} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def _location(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("body", "query", "path"))


def _wants_page(request: Request) -> bool:
    """A browser asking for a console page (not an API client) should see the sign-in form."""
    return (
        request.method == "GET"
        and request.url.path.startswith("/console")
        and "text/html" in request.headers.get("accept", "")
    )


#: Pages whose errors a browser sees as a page rather than JSON: path prefix → error template.
HTML_ERROR_PAGES = {
    "/privacy/preferences": "preferences/error.html",
    "/privacy/requests": "requests/error.html",
    "/console/requests": "console/error.html",
    "/console/holds": "console/error.html",
}
HTML_ERROR_PATHS = tuple(HTML_ERROR_PAGES)


def _error_page(request: Request, exc: CharterError) -> Response | None:
    if not (request.url.path.startswith(HTML_ERROR_PATHS) and "text/html" in request.headers.get("accept", "")):
        return None
    from charter.web.templating import render

    template = next(t for prefix, t in HTML_ERROR_PAGES.items() if request.url.path.startswith(prefix))
    return render(request, template, status_code=exc.status, title=exc.title, detail=exc.detail, restart=False)


def install(app: FastAPI) -> None:
    @app.exception_handler(CharterError)
    async def charter_error(request: Request, exc: CharterError) -> Response:
        if isinstance(exc, NotAuthenticated) and _wants_page(request):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
        if exc.status >= 500:
            log.error("charter error %s: %s", exc.code, exc.detail)
        page = _error_page(request, exc)
        if page is not None:
            return page
        extra: dict[str, Any] = {}
        if exc.problems:
            extra["problems"] = [p.as_dict() for p in exc.problems]
        return problem(exc.status, exc.title, exc.detail, exc.code, **extra)

    @app.exception_handler(RequestValidationError)
    async def bad_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"path": _location(tuple(e["loc"])), "message": e["msg"]} for e in exc.errors()]
        return problem(
            422, "Invalid request", "the request does not match the API", "invalid_request", problems=problems
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        cause = exc.__cause__
        if isinstance(cause, CharterError):  # e.g. a body limit hit while FastAPI was reading the body
            return await charter_error(request, cause)
        return problem(exc.status_code, str(exc.detail), str(exc.detail), f"http_{exc.status_code}")

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        request_id = uuid.uuid4().hex
        log.exception("unhandled error, request id %s", request_id, exc_info=exc)
        return problem(
            500,
            "Internal error",
            f"something went wrong; quote request id {request_id}",
            "internal_error",
            request_id=request_id,
        )
