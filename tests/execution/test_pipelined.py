"""A run's opening and an access run's end, each sent in two round trips on PostgreSQL (``execution.pipelined``),
write exactly what the one-by-one forms write, and fall back to them whenever a condition does not hold
(P-RGT-1, P-RGT-5).

Everything is compared by plain SQL on Charter's tables: the steps, the run, the stored package, the request,
the notice queued for the person and the audit entries, which must still form an intact chain.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from charter import audit
from charter.db import Database
from charter.execution import pipelined
from charter.execution.runner import Runner
from charter.execution.steps import Step
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import ANA, approved, package_collections

MakeRunner = Callable[..., Runner]

pytestmark = pytest.mark.parametrize("database", ["postgresql"], indirect=True)


def _rows(database: Database, public_id: str) -> dict[str, Any]:
    """What the end left for one request, by SQL, without what differs from request to request by nature
    (ids, times, the request's own id inside hashed or sealed values)."""
    with database.engine.connect() as conn:
        request_id = conn.execute(
            text("SELECT id FROM privacy_requests WHERE public_id = :p"), {"p": public_id}
        ).scalar()
        params = {"r": request_id}
        run = conn.execute(
            text(
                "SELECT id, status, package IS NOT NULL, package_sha256 IS NOT NULL, finished_at IS NOT NULL, "
                "certificate IS NULL, error FROM execution_runs WHERE request_id = :r"
            ),
            params,
        ).one()
        steps = conn.execute(
            text(
                "SELECT action, collection, status, summary::text, sealed IS NULL, lease_until IS NULL, error, "
                "finished_at IS NOT NULL, claimed_by IS NOT NULL "
                "FROM execution_steps WHERE run_id = :run ORDER BY position"
            ),
            {"run": run[0]},
        ).all()
        packages = conn.execute(text("SELECT count(*) FROM execution_packages WHERE run_id = :run"), {"run": run[0]})
        status = conn.execute(text("SELECT status FROM privacy_requests WHERE id = :r"), params).scalar()
        notices = conn.execute(
            text("SELECT kind, note, attempts, sent_at IS NULL FROM request_notices WHERE request_id = :r ORDER BY id"),
            params,
        ).all()
        entries = conn.execute(
            text("SELECT actor, action, data::text FROM audit_entries WHERE target = :t ORDER BY seq"),
            {"t": f"request:{public_id}"},
        ).all()
    finished = [
        (actor, action, {k: v for k, v in _json(data).items() if k not in ("package_sha256", "due_at")})
        for actor, action, data in entries
    ]
    return {
        "run": tuple(run[1:]),
        "steps": [tuple(s) for s in steps],
        "packages": packages.scalar(),
        "status": status,
        "notices": [tuple(n) for n in notices],
        "audit": finished,
    }


def _json(text_value: str) -> dict[str, Any]:
    import json

    loaded = json.loads(text_value)
    assert isinstance(loaded, dict)
    return loaded


@pytest.mark.parametrize("email", [ANA, "nobody@example.org"], ids=["found", "nothing found"])
def test_the_pipelined_opening_and_end_write_what_the_one_by_one_forms_write(
    database: Database,
    config: Settings,
    vault: Vault,
    home: Path,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
    email: str,
) -> None:
    ended: list[bool] = []
    complete = pipelined.complete

    def watched(*args: Any, **kwargs: Any) -> bool:
        ended.append(complete(*args, **kwargs))
        return ended[-1]

    monkeypatch.setattr(pipelined, "complete", watched)
    piped = approved(database, config, vault, RequestKind.ACCESS, email=email)
    assert make_runner().run(piped).status == "completed"
    assert ended == [True]  # the pipelined end did it

    monkeypatch.setattr(pipelined, "applies", lambda *_a, **_k: False)  # the end one by one
    monkeypatch.setattr(pipelined, "opens", lambda *_a, **_k: False)  # and the opening
    one_by_one = approved(database, config, vault, RequestKind.ACCESS, email=email)
    assert make_runner().run(one_by_one).status == "completed"
    assert ended == [True]  # not used this time

    assert _rows(database, piped) == _rows(database, one_by_one)
    assert package_collections(database, home, vault, piped) == package_collections(database, home, vault, one_by_one)
    with database.session() as session:
        assert audit.verify(session).ok


def test_a_run_closed_meanwhile_falls_back_and_nothing_of_the_pipeline_holds(
    database: Database, config: Settings, vault: Vault, make_runner: MakeRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker closed the run after this one's last step: the pipelined end finds its condition broken,
    rolls back before any COMMIT, and the one-by-one end reports what it always did (not completed by us):
    no package, no notice, no "request.completed" entry, from either."""
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    results: list[bool] = []
    complete = pipelined.complete

    def watched(*args: Any, **kwargs: Any) -> bool:
        results.append(complete(*args, **kwargs))
        return results[-1]

    def closed_by_another(where: str, _step: Step) -> None:
        if where == "after":
            with database.engine.begin() as conn:
                conn.execute(text("UPDATE execution_runs SET status = 'completed'"))

    monkeypatch.setattr(pipelined, "complete", watched)
    outcome = make_runner(fault=closed_by_another).run(public_id)
    assert results == [False]
    assert outcome.status == "in_progress"  # not completed by this worker: the one that closed the run decides
    rows = _rows(database, public_id)
    assert rows["packages"] == 0 and rows["status"] == "in_progress"
    assert "completed" not in [kind for kind, *_ in rows["notices"]]
    assert "request.completed" not in [action for _actor, action, _data in rows["audit"]]
    assert {status for _a, _c, status, *_ in rows["steps"]} == {"done"}  # the steps were ours: stored, as before
    with database.session() as session:
        assert audit.verify(session).ok


def test_a_request_started_by_another_runner_meanwhile_is_resumed_not_opened_twice(
    database: Database, config: Settings, vault: Vault, make_runner: MakeRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between reading the request (approved) and opening its run, another runner opened it: the pipelined
    opening's UPDATE changes nothing and its INSERT finds the run there; nothing is committed, and this runner
    resumes the other's run (its steps are under the other's lease: it waits)."""
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    opened: list[int | None] = []
    open_run = pipelined.open_run

    def raced(session: Any, row: Any, *args: Any, **kwargs: Any) -> int | None:
        other = make_runner(worker="other")
        monkeypatch.setattr(pipelined, "open_run", open_run)  # the other runner opens as usual
        with pytest.MonkeyPatch.context() as inner:  # and stops after its opening, as if still working
            inner.setattr(Runner, "_loop", lambda *_a, **_k: None)
            other._run(public_id)
        opened.append(open_run(session, row, *args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(pipelined, "open_run", raced)
    outcome = make_runner(worker="late").run(public_id)
    assert opened == [None] and outcome.status == "in_progress" and outcome.executed == []
    with database.engine.connect() as conn:
        runs = conn.execute(text("SELECT count(*) FROM execution_runs")).scalar()
        claimed = set(
            conn.execute(text("SELECT DISTINCT claimed_by FROM execution_steps WHERE claimed_by IS NOT NULL")).scalars()
        )
        started = conn.execute(
            text("SELECT count(*) FROM audit_entries WHERE action = 'request.in_progress' AND target = :t"),
            {"t": f"request:{public_id}"},
        ).scalar()
    assert (runs, claimed, started) == (1, {"other"}, 1)
