"""Where a request's time goes: time and statements per database, Redis round trips (a bench diagnostic).

SQLAlchemy's ``before/after_cursor_execute`` events on every ``Engine`` time
each statement (an executemany counts once) and attribute it by database name;
redis-py's ``Redis.execute_command`` (each immediate command, SCAN included)
and ``Pipeline.execute`` (each pipeline or MULTI/EXEC) are wrapped to count and
time round trips. The remainder of the wall time is Charter's own Python:
planning, sealing, JSON, the package or certificate, SQLAlchemy's compile and
result processing outside the driver call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import redis
from redis.client import Pipeline
from sqlalchemy import Engine, event


class Profile:
    def __init__(self, names: dict[str, str]) -> None:
        self.names = names
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self._originals: dict[str, Callable[..., Any]] = {}

    def _add(self, name: str, took: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + took
        self.calls[name] = self.calls.get(name, 0) + 1

    def _before(self, conn: Any, *_rest: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, *_rest: Any) -> None:
        started = conn.info.pop("bench_started", None)
        if started is not None:
            database = conn.engine.url.database or "?"
            self._add(self.names.get(database, database), time.perf_counter() - started)

    def start(self) -> None:
        self.seconds, self.calls = {}, {}
        event.listen(Engine, "before_cursor_execute", self._before)
        event.listen(Engine, "after_cursor_execute", self._after)
        command = redis.Redis.execute_command
        pipeline = Pipeline.execute
        self._originals = {"command": command, "pipeline": pipeline}
        profile = self

        def timed_command(client: Any, *args: Any, **options: Any) -> Any:
            begun = time.perf_counter()
            try:
                return command(client, *args, **options)
            finally:
                profile._add("redis_store", time.perf_counter() - begun)

        def timed_pipeline(pipe: Any, *args: Any, **options: Any) -> Any:
            begun = time.perf_counter()
            try:
                return pipeline(pipe, *args, **options)
            finally:
                profile._add("redis_store", time.perf_counter() - begun)

        redis.Redis.execute_command = timed_command  # type: ignore[method-assign]
        Pipeline.execute = timed_pipeline  # type: ignore[method-assign]

    def stop(self, wall: float, runs: int) -> dict[str, Any]:
        """Per run: milliseconds and round trips per database, and the rest (Python in the process)."""
        event.remove(Engine, "before_cursor_execute", self._before)
        event.remove(Engine, "after_cursor_execute", self._after)
        redis.Redis.execute_command = self._originals["command"]  # type: ignore[method-assign]
        Pipeline.execute = self._originals["pipeline"]  # type: ignore[method-assign]
        waited = sum(self.seconds.values())
        return {
            "runs": runs,
            "wall_ms_per_run": round(wall / runs * 1000, 1),
            "ms_per_run": {k: round(v / runs * 1000, 1) for k, v in sorted(self.seconds.items())},
            "round_trips_per_run": {k: round(v / runs, 1) for k, v in sorted(self.calls.items())},
            "rest_in_process_ms_per_run": round((wall - waited) / runs * 1000, 1),
        }


def by_package(stats: Any, runs: int, top: int = 12) -> dict[str, Any]:
    """cProfile's own time grouped by the package a function lives in, and the top functions, ms per run."""
    groups: dict[str, float] = {}
    functions: list[tuple[float, str]] = []
    for (filename, line, name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():
        path = filename.replace("\\", "/")
        if "site-packages/" in path:
            package = path.split("site-packages/", 1)[1].split("/", 1)[0]
        elif "/src/charter/" in path:
            package = "charter." + path.split("/src/charter/", 1)[1].split("/", 1)[0].removesuffix(".py")
        elif filename == "~":
            package = "builtins (C)"
        else:
            package = "stdlib / other"
        groups[package] = groups.get(package, 0.0) + tottime
        functions.append((tottime, f"{path.rsplit('/', 1)[-1]}:{line} {name}"))
    functions.sort(reverse=True)
    return {
        "own_time_ms_per_run_by_package": {
            k: round(v / runs * 1000, 1) for k, v in sorted(groups.items(), key=lambda kv: -kv[1])[:top]
        },
        "top_functions_own_ms_per_run": {f: round(t / runs * 1000, 1) for t, f in functions[:top]},
    }
