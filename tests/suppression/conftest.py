"""Suppression tests reuse the web app's fixtures: both backends, callers of any role."""

from tests.web.conftest import app, client, make_token, services  # noqa: F401 - fixtures, re-exported for pytest
