"""``charter worker``: refusals (exit 2, one line), and ``--sweep-once`` resuming a stopped run in-process.

Promises: P-RGT-3 (a run a dead worker left is finished by a sweep).
Starting real workers is tests/jobs/test_workers.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from charter.cli.main import app
from charter.db import Database
from charter.db.base import utcnow
from charter.demo import stores
from charter.requests import review
from charter.services import Services
from tests.cli_runner import Invoke, invoker
from tests.conftest import EXAMPLES
from tests.jobs.test_sweeper import approved, died_mid_erasure
from tests.requests.conftest import datamap_services
from tests.subjects.factories import publish_examples

pytestmark = pytest.mark.parametrize("database", ["sqlite"], indirect=True)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def make_invoke(database: Database, home: Path) -> Callable[..., Invoke]:
    def make(**env: str) -> Invoke:
        return invoker(app, database, home, CHARTER_ENV="test", CHARTER_DATAMAP_PATH=str(EXAMPLES / "datamap"), **env)

    return make


@pytest.fixture
def invoke(make_invoke: Callable[..., Invoke]) -> Invoke:
    return make_invoke()


@pytest.fixture
def services(database: Database, home: Path) -> Iterator[Services]:
    publish_examples(database)
    stores.create(home, count=10)
    built = datamap_services(database, home)
    yield built
    built.close()


def test_the_worker_refuses_the_in_process_backend_with_one_line(invoke: Invoke) -> None:
    result = invoke("worker")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "CHARTER_JOBS_BACKEND=celery" in result.stderr


def test_the_worker_refuses_a_broker_it_cannot_reach_without_showing_the_password(
    make_invoke: Callable[..., Invoke],
) -> None:
    invoke = make_invoke(CHARTER_JOBS_BACKEND="celery", CHARTER_JOBS_BROKER_URL="redis://:hush@127.0.0.1:1/0")
    for args in (("worker",), ("worker", "--sweep-once")):
        result = invoke(*args)
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1
        assert "cannot be reached" in result.stderr and "hush" not in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("worker", "--loglevel", "chatty"), "--loglevel"),
        (("worker", "--concurrency", "0"), "--concurrency"),
        (("worker", "--sweep-every", "-1"), "--sweep-every"),
    ],
)
def test_bad_options_exit_2(make_invoke: Callable[..., Invoke], args: tuple[str, ...], message: str) -> None:
    result = make_invoke(CHARTER_JOBS_BACKEND="celery")(*args)
    assert result.exit_code == 2 and message in result.output


def test_sweep_once_in_process_finishes_a_run_a_dead_worker_left_p_rgt_3(invoke: Invoke, services: Services) -> None:
    public_id = approved(services)
    died_mid_erasure(services, public_id, at=utcnow() - timedelta(hours=1))  # its lease ran out long ago
    with services.database.session() as session:
        assert review.get(session, public_id).status == "in_progress"

    result = invoke("worker", "--sweep-once", "--json")

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["backend"] == "inprocess" and report["resumed"] == [public_id] and report["started"] == []
    with services.database.session() as session:
        assert review.get(session, public_id).status == "completed"
    again = invoke("worker", "--sweep-once")
    assert again.exit_code == 0 and "0 stopped runs resumed, 0 approved requests started" in again.stdout
