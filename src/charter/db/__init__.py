"""Storage: one declarative base, engines, sessions and migrations."""

from charter.db.base import Base, rowcount, utcnow
from charter.db.engine import Database, PinnedDatabase, migrate

__all__ = ["Base", "Database", "PinnedDatabase", "migrate", "rowcount", "utcnow"]
