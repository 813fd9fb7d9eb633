"""How long a runner keeps trying a step whose store is unavailable: a window of time, not a count.

A store that is down for a few seconds (a restart, a failover, a lock held by
someone else past the statement timeout) must not fail a request, so a step
that meets ``Unavailable`` is tried again with exponential backoff
(``CHARTER_EXECUTION_RETRY_BASE`` × 2^(n-1), capped at
``CHARTER_EXECUTION_RETRY_MAX``, jitter in the upper half) until
``CHARTER_EXECUTION_RETRY_WINDOW_MINUTES`` have passed since its first failure
— the last wait is cut short so that one try falls at the end of the window.
``CHARTER_EXECUTION_MAX_ATTEMPTS``, when set (not 0), also bounds the tries
(the claim counts as one). An error trying again cannot fix (a wrong password,
a missing table: :func:`charter.connectors.sql` translates those to
``StoreRefused``, not ``Unavailable``) never comes here: it fails at once.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from charter.settings import ExecutionSettings


def wait(settings: ExecutionSettings, tried: int) -> float:
    """Exponential (base × 2^(n-1)), capped, with jitter in its upper half."""
    ceiling = float(min(settings.retry_max, settings.retry_base * 2.0 ** max(tried - 1, 0)))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not a secret


def next_wait(settings: ExecutionSettings, tried: int, *, since: datetime, now: datetime) -> float | None:
    """Seconds to wait before trying again after ``tried`` tries, the first failure at ``since``; None: stop."""
    if settings.max_attempts and tried >= settings.max_attempts:
        return None
    left = (since + timedelta(minutes=settings.retry_window_minutes) - now).total_seconds()
    if left <= 0:
        return None
    return min(wait(settings, tried), left)


def gave_up(tried: int, since: datetime, now: datetime, error: str) -> str:
    """Why the step failed, for the step, the run and the console: tries, how long, and the last error."""
    return f"after {tried} attempts over {max(0, round((now - since).total_seconds()))} s: {error}"
