"""The data map's own errors (see the tree in :mod:`charter.errors`)."""

from __future__ import annotations

from charter.errors import InvalidInput


class DatamapInvalid(InvalidInput):
    """A data-map file is malformed or inconsistent; carries one Problem per finding, with line and column."""

    code = "datamap_invalid"
    status = 422
    title = "The data map is not valid"
