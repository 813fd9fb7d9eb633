"""The access package is on disk before the request says "completed" (P-RGT-1, P-SEC-1).

The run's end commits durably; without ``fsync`` of the file and of its folder, a crash of the machine could
keep the database's "completed" and lose the package still in the page cache: the person would be told
their copy is ready and find none. These tests watch the order (both ``fsync`` before the commit) and the
failure (a disk that refuses leaves the request in progress, with no package and nothing claimed done).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from charter.db import Database
from charter.db.base import utcnow
from charter.errors import Unavailable
from charter.execution import package
from charter.execution.models import ExecutionStep
from charter.execution.runner import Runner
from charter.requests import review
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import approved

MakeRunner = Callable[..., Runner]


def test_the_package_file_and_its_folder_reach_the_disk_before_the_end_commits(
    database: Database,
    config: Settings,
    vault: Vault,
    home: Path,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    runner = make_runner()
    events: list[str] = []
    fsync = os.fsync

    def watched(fd: int) -> None:
        fsync(fd)
        target = os.readlink(f"/proc/self/fd/{fd}")
        events.append("fsync folder" if Path(target).is_dir() else f"fsync {Path(target).name}")

    monkeypatch.setattr(package.os, "fsync", watched)
    listener = lambda _conn: events.append("commit")  # noqa: E731
    event.listen(runner.database.engine, "commit", listener)
    try:
        assert runner.run(public_id).status == "completed"
    finally:
        event.remove(runner.database.engine, "commit", listener)
    final = events.index("commit", events.index("commit") + 1)  # the first commit opened the run
    landed = [e for e in events[:final] if e.startswith("fsync")]
    assert landed[0].startswith(f"fsync .{public_id}.zip.sealed.") and landed[1] == "fsync folder"
    assert (home / package.FOLDER / f"{public_id}.zip.sealed").exists()
    assert not [p for p in (home / package.FOLDER).iterdir() if p.name.endswith(".tmp")]


def test_a_disk_that_refuses_the_package_leaves_the_request_in_progress(
    database: Database,
    config: Settings,
    vault: Vault,
    home: Path,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The fsync fails (a full or failing disk): the end rolls back, nothing says done or completed, no file
    (not even a partial one) is left; once the disk is back, the next worker completes the request."""
    public_id = approved(database, config, vault, RequestKind.ACCESS)

    def refused(_fd: int) -> Any:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(package.os, "fsync", refused)
    with pytest.raises(Unavailable, match="could not be written to disk"):
        make_runner(worker="first").run(public_id)
    with database.session() as session:
        assert review.get(session, public_id).status == "in_progress"
        assert {s.status for s in session.scalars(select(ExecutionStep))} == {"claimed"}
    assert list((home / package.FOLDER).iterdir()) == []

    monkeypatch.undo()
    later = utcnow() + timedelta(seconds=config.execution.lease_seconds + 1)
    assert make_runner(worker="second", clock=lambda: later).run(public_id).status == "completed"
    assert (home / package.FOLDER / f"{public_id}.zip.sealed").exists()
