"""Reading request bodies within a size limit, before anything is parsed."""

from __future__ import annotations

from fastapi import Request

from charter.errors import InputTooLarge


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
