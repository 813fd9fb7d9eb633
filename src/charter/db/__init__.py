"""Storage: one declarative base, engines, sessions and migrations."""

from charter.db.base import Base, rowcount, utcnow
from charter.db.engine import SCHEMA_REVISION, Database, PinnedDatabase, SchemaOutdated, migrate, require_schema

__all__ = [
    "SCHEMA_REVISION",
    "Base",
    "Database",
    "PinnedDatabase",
    "SchemaOutdated",
    "migrate",
    "require_schema",
    "rowcount",
    "utcnow",
]
