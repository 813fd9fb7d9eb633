"""Charter in-process, as the data-subject-request benches drive it, plus their statistics.

``Charter`` holds Charter's own database (migrated, example statements
published), settings with a home folder, the vault and a loaded data map; it
creates requests and approves them outside the clock (the issue's clock starts
at "a request that needs no further approval") and times ``Runner.run``.
Worker processes build their own ``Charter`` from the same arguments: the
secret key lives in ``home/secret.key``, so every process opens the same
sealed requests.
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.requests.conftest import Recorder  # noqa: E402  (the tests' in-memory mailer)
from tests.subjects.factories import make_vault, publish_examples  # noqa: E402

from charter.db import Database, migrate  # noqa: E402
from charter.db.base import utcnow  # noqa: E402
from charter.execution import service  # noqa: E402

try:  # a version before issue 11's kept connectors (``dsr_ab.py --base-src``) builds them per run
    from charter.execution.kept import KeptConnectors
except ImportError:  # only with an older src
    KeptConnectors = None  # type: ignore[assignment,misc]
from charter.execution.runner import Outcome, Runner  # noqa: E402
from charter.requests import intake, notices, review  # noqa: E402
from charter.requests.kinds import RequestKind  # noqa: E402
from charter.settings import DatabaseSettings, ExecutionSettings, Settings  # noqa: E402
from charter.subjects.service import Vault  # noqa: E402

__all__ = ["Charter", "RequestKind", "StatementCounter", "compare", "rss_mb", "stats", "timed", "vm_hwm_mb"]


def rss_mb() -> float:
    """Peak resident set of this process so far (``ru_maxrss``), MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vm_hwm_mb() -> float:
    """The kernel's own high-water mark of this process's resident set (``VmHWM``), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return rss_mb()


class StatementCounter:
    """Statements and round trips per database, counted where psycopg sends them (PostgreSQL only).

    Counted below SQLAlchemy so that what Charter sends on psycopg's pipeline (a run's reads, its end) counts
    too: an ``execute`` or ``executemany`` is one statement (an executemany of 500 rows is one), and a round
    trip is a statement sent outside a pipeline, or a pipeline's sync; BEGIN and COMMIT count as statements
    and round trips of their own. Keys: the database's name, ``" (round trips)"`` after it for the trips."""

    def __init__(self) -> None:
        import psycopg

        self.counts: dict[str, int] = {}
        self._patched: list[tuple[Any, str, Any]] = []
        counts = self.counts

        def add(conn: Any, statements: int, trips: int) -> None:
            name = conn.info.dbname or "?"
            counts[name] = counts.get(name, 0) + statements
            key = f"{name} (round trips)"
            counts[key] = counts.get(key, 0) + trips

        def wrap(owner: Any, attr: str, make: Callable[[Any], Any]) -> None:
            original = getattr(owner, attr)
            self._patched.append((owner, attr, original))
            setattr(owner, attr, make(original))

        def executing(original: Any) -> Any:
            def execute(cursor: Any, *args: Any, **kwargs: Any) -> Any:
                add(cursor.connection, 1, 0 if cursor.connection._pipeline else 1)
                return original(cursor, *args, **kwargs)

            return execute

        def commanding(original: Any) -> Any:  # BEGIN, COMMIT, ROLLBACK, SAVEPOINT sent by psycopg itself
            def command(conn: Any, *args: Any, **kwargs: Any) -> Any:
                add(conn, 1, 0 if conn._pipeline else 1)
                return original(conn, *args, **kwargs)

            return command

        def piping(original: Any) -> Any:
            @contextmanager
            def pipeline(conn: Any, *args: Any, **kwargs: Any) -> Any:
                outer = conn._pipeline is None
                with original(conn, *args, **kwargs) as opened:
                    yield opened
                if outer:
                    add(conn, 0, 1)

            return pipeline

        wrap(psycopg.Cursor, "execute", executing)
        wrap(psycopg.Cursor, "executemany", executing)
        wrap(psycopg.Connection, "_exec_command", commanding)
        wrap(psycopg.Connection, "pipeline", piping)

    def take(self) -> dict[str, int]:
        out = dict(self.counts)
        self.counts.clear()
        return out

    def close(self) -> None:
        for owner, attr, original in reversed(self._patched):
            setattr(owner, attr, original)
        self._patched.clear()


class Charter:
    def __init__(
        self,
        state_url: str,
        env: Mapping[str, str],
        home: Path,
        datamap_dir: Path,
        *,
        migrate_state: bool = True,
    ) -> None:
        self.database = Database(state_url)
        if migrate_state:
            migrate(self.database)
            publish_examples(self.database)
        self.config = Settings.load(
            env="test",
            home=home,
            database=DatabaseSettings(url=state_url),
            execution=ExecutionSettings(max_attempts=3, retry_base=0.01, retry_max=0.05),
        )
        self.vault: Vault = make_vault(self.config.secret_key())
        self.datamap = service.load_datamap(self.config, datamap_dir)
        self.env = dict(env)
        self.kept = KeptConnectors() if KeptConnectors is not None else None  # as the worker keeps them (jobs.KEPT)

    def approved(self, kind: RequestKind, mail: str) -> str:
        """As tests/execution/conftest.py's ``approved``: received, verified by its code, approved."""
        mailer = Recorder()
        now = utcnow()
        submission = intake.Submission(kind=kind, identity_kind="email", identity=mail, jurisdiction="eu", details={})
        done = intake.submit(self.database, mailer, submission, vault=self.vault, settings=self.config, now=now)
        intake.verify_code(
            self.database,
            done.public_id,
            mailer.code(),
            vault=self.vault,
            settings=self.config,
            now=now + timedelta(seconds=1),
        )
        with self.database.session() as session:
            review.approve(
                session, review.get(session, done.public_id), actor="bench", vault=self.vault, identity_checked=True
            )
        # as the console and the API do after an approval: its e-mail goes out now, not with the run
        notices.deliver(self.database, mailer, vault=self.vault, settings=self.config, public_id=done.public_id)
        return done.public_id

    def runner(self, *, per_run: bool = False) -> Runner:
        """A runner as the worker builds it (``jobs.run_request``: store connectors kept between runs); ``per_run``:
        as a one-shot ``charter requests run`` builds it (connectors built and closed with each run)."""
        options: dict[str, Any] = {} if per_run or self.kept is None else {"kept": self.kept}
        return Runner(
            self.database, self.config, self.vault, self.datamap, env=self.env, sleep=lambda _s: None, **options
        )

    def run(self, public_id: str, *, per_run: bool = False) -> tuple[float, Outcome]:
        """``Runner.run`` timed, with the worker's kept connectors (``per_run``: built and closed with the run)."""
        runner = self.runner(per_run=per_run)
        begun = time.perf_counter()
        outcome = runner.run(public_id)
        took = time.perf_counter() - begun
        if outcome.status != "completed":
            raise RuntimeError(f"request {public_id}: {outcome.as_dict()}")
        return took, outcome

    def close(self) -> None:
        if self.kept is not None:
            self.kept.close_all()
        self.database.engine.dispose()


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: with 20 samples p95 is the 19th value)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def stats(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(percentile(values, 0.95) * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
    }


def compare(charter: list[float], baseline: list[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(charter) / statistics.median(baseline), 2),
        "p95": round(percentile(charter, 0.95) / percentile(baseline, 0.95), 2),
    }


def timed(fn: Callable[..., Any], *args: Any) -> float:
    begun = time.perf_counter()
    fn(*args)
    return time.perf_counter() - begun
