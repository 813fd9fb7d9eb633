"""Reading request bodies within a size limit, before anything is parsed."""

from __future__ import annotations

from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from charter.errors import InputTooLarge
from charter.web.problems import problem


async def read_limited(request: Request, max_bytes: int) -> bytes:
    """The body, refusing (413) as soon as it passes ``max_bytes``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise InputTooLarge(f"the body is {int(declared):,} bytes; the limit is {max_bytes:,} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise InputTooLarge(f"the body passes the limit of {max_bytes:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` for every route, as problem+json.

    A declared Content-Length over the limit is refused before anything is
    read; a body without one (chunked) is counted as it arrives and refused
    when it passes the limit, through the app's own error handler.
    """

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"")
        if declared.isdigit() and int(declared) > self.max_bytes:
            detail = f"the body is {int(declared):,} bytes; the limit is {self.max_bytes:,} bytes"
            await problem(413, "Input too large", detail, "input_too_large")(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                raise InputTooLarge(f"the body passes the limit of {self.max_bytes:,} bytes")
            return message

        await self.app(scope, counted, send)
