"""Link tokens never reach the access log (secrets stay out of logs)."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI

from charter.web.accesslog import ACCESS_LOGGER, MASK, RedactTokens, redact

TOKEN = "k" * 43


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        (f"/u/{TOKEN}", f"/u/{MASK}"),
        (f"/o/{TOKEN}.gif", f"/o/{MASK}"),
        (f"/privacy/preferences/verify?token={TOKEN}", f"/privacy/preferences/verify?token={MASK}"),
        (f"/privacy/preferences/verify?x=1&token={TOKEN}&y=2", f"/privacy/preferences/verify?x=1&token={MASK}&y=2"),
        ("/privacy/preferences/code?challenge=" + "a" * 32, "/privacy/preferences/code?challenge=" + "a" * 32),
        ("/static/u/charter.css", "/static/u/charter.css"),
        ("/api/v1/banner/config", "/api/v1/banner/config"),
    ],
)
def test_tokens_in_paths_and_queries_are_masked(path: str, shown: str) -> None:
    assert redact(path) == shown


def test_the_app_masks_uvicorn_access_records(app: FastAPI, caplog: pytest.LogCaptureFixture) -> None:
    """``create_app`` installs the filter once; a record in uvicorn's access format comes out masked."""
    logger = logging.getLogger(ACCESS_LOGGER)
    assert sum(isinstance(f, RedactTokens) for f in logger.filters) == 1
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        logger.info('%s - "%s %s HTTP/%s" %d', "192.0.2.1:5000", "POST", f"/u/{TOKEN}", "1.1", 200)
        logger.info('%s - "%s %s HTTP/%s" %d', "192.0.2.1:5000", "GET", f"/o/{TOKEN}.gif", "1.1", 200)
    assert TOKEN not in caplog.text
    assert f'"POST /u/{MASK} HTTP/1.1" 200' in caplog.text
