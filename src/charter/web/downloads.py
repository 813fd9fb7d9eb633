"""A package as an HTTP download, the same for the person's one-time link and the staff's copy."""

from __future__ import annotations

from starlette.responses import Response

from charter.delivery.links import Download


def attachment(got: Download) -> Response:
    """The zip as an attachment: never cached or sniffed, with its SHA-256 for checking."""
    return Response(
        content=got.data,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{got.filename}"',
            "Cache-Control": "no-store",
            "Pragma": "no-cache",
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "X-Package-SHA256": got.sha256,
        },
    )
