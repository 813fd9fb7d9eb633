"""Settings from the environment: a value a setting cannot take stops start-up with one clear line (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from charter.cli.main import app
from charter.db import Database
from charter.errors import SettingInvalid
from charter.settings import Settings
from tests.cli_runner import invoker


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("CHARTER_REQUESTS_UNVERIFIED_DAYS", "seven", "valid integer"),
        ("CHARTER_REQUESTS_FACTS_KINDS", "deletion,acess", "'acess' is not a request type"),
        ("CHARTER_JOBS_BACKEND", "rabbit", "'inprocess' or 'celery'"),
        ("CHARTER_JOBS_BROKER_URL", "amqp://guest:s3cret@mq//", "redis"),
    ],
)
def test_a_bad_variable_is_named_with_the_fix_never_its_value(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingInvalid) as caught:
        Settings.load(home=tmp_path)
    message = caught.value.detail
    assert message.startswith(f"{variable}: ") and says in message
    assert "s3cret" not in message and "seven" not in message
    assert caught.value.exit_code == 2


def test_the_cli_exits_2_with_one_line(database: Database, tmp_path: Path) -> None:
    invoke = invoker(app, database, tmp_path / "home", CHARTER_REQUESTS_FACTS_KINDS="deletion,acess")
    result = invoke("requests", "expire")
    assert result.exit_code == 2
    assert "CHARTER_REQUESTS_FACTS_KINDS" in result.output and "Traceback" not in result.output
