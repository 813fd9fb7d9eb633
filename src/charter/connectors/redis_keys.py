"""How Redis keys are named in the data map, without the Redis client: the planner and the data map's
checks need these, and importing the client costs every process that never talks to Redis."""

from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
KEY = "_key"


def glob_of(pattern: str) -> str:
    """The SCAN MATCH glob of a key pattern: each ``{field}`` becomes ``*``."""
    return PLACEHOLDER.sub("*", pattern)


def shape_of(key: str) -> str:
    """How ``describe`` groups keys: the first segment, then ``*`` (``cart:ana@example.org`` → ``cart:*``)."""
    head, sep, _ = key.partition(":")
    return f"{head}:*" if sep else key


__all__ = ["KEY", "PLACEHOLDER", "glob_of", "shape_of"]
