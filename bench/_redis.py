"""What the Redis benches share: ``--redis-url`` / ``--redis-db``, a key prefix of the run's own, cleaning up.

A bench never flushes a database: every key it writes (or has Charter's Celery write, through
``CHARTER_JOBS_KEY_PREFIX``) starts with a prefix of its own, with its pid by default, and at the end it
deletes the keys under that prefix and nothing else (``delete_prefix``).
"""

from __future__ import annotations

import argparse
import os

import redis

DEFAULT_URL = "redis://127.0.0.1:6379/0"
URL = os.environ.get("CHARTER_BENCH_REDIS_URL", DEFAULT_URL)


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--redis-url", default=URL, help="the Redis server and database (default: CHARTER_BENCH_REDIS_URL, else db 0)"
    )
    parser.add_argument("--redis-db", type=int, default=None, help="the Redis database number (replaces the URL's)")


def url_of(args: argparse.Namespace) -> str:
    """``--redis-url`` with ``--redis-db`` put in place of its database number."""
    url = args.redis_url
    if args.redis_db is None:
        return url
    base, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0]
    query = rest.partition("?")[2]
    return f"{base}://{host}/{args.redis_db}" + (f"?{query}" if query else "")


def default_prefix(stem: str) -> str:
    return f"charter_bench_{stem}_{os.getpid()}"


def client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, decode_responses=True)


def _keys(conn: redis.Redis, prefix: str) -> list[str]:
    return list(conn.scan_iter(match=f"{_escaped(prefix)}*", count=1000))


def _escaped(prefix: str) -> str:
    """``prefix`` with the glob characters of SCAN MATCH escaped."""
    return "".join(f"\\{ch}" if ch in "*?[]\\" else ch for ch in prefix)


def count_prefix(url: str, prefix: str) -> int:
    with client(url) as conn:
        return len(_keys(conn, prefix))


def delete_prefix(url: str, prefix: str) -> int:
    """Delete the keys under ``prefix`` (the bench's own), nothing else; how many there were."""
    if not prefix:
        raise ValueError("an empty prefix would name every key of the database")
    removed = 0
    with client(url) as conn:
        keys = _keys(conn, prefix)
        for start in range(0, len(keys), 1000):
            removed += int(conn.delete(*keys[start : start + 1000]))
    return removed


def other_keys(url: str, prefix: str) -> int:
    """Keys in the database that are not under ``prefix`` (someone else's)."""
    with client(url) as conn:
        return int(conn.dbsize()) - len(_keys(conn, prefix))
