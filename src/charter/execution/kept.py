"""Store connectors a worker keeps from one run to the next, per thread, for a minute of idleness at most.

A worker runs request after request against the same stores. Building the connectors afresh for each run meant
checking a connection out of the pool and pinging it, per store and per run, and looking every table up again:
on the bench a fifth of an access request's time (issue 11). A worker's runner (``jobs.run_request``) keeps them
here instead: the connections stay checked out between runs, and a unit of writes left open is rolled back when
a run ends (``SqlConnector.rest``).

Kept per thread: a connector and its connections are used by one thread at a time (the in-process job backend
runs requests on several). Kept per system, URL and connector settings: a data map that names another URL or a
change of settings builds a new one. A connector idle for longer than ``idle`` seconds is closed and built again,
so a connection the server or a firewall dropped meanwhile is found by the pool's ping rather than by a run's
first statement (which would be retried as ``Unavailable``, a step's worth of delay). A connector that cannot
rest (a kind without ``rest``, or one whose rollback failed) is closed, as after every run before.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Hashable

from charter.connectors import Connector

log = logging.getLogger("charter.execution")

#: seconds a kept connector may sit unused before it is closed and built again on its next use
IDLE_SECONDS = 60.0


class KeptConnectors:
    """The connectors each thread of a worker keeps between its runs (one instance per worker: ``jobs.KEPT``)."""

    def __init__(self, *, idle: float = IDLE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        self.idle = idle
        self.clock = clock
        self._local = threading.local()

    def _kept(self) -> dict[Hashable, tuple[Connector, float | None]]:
        """This thread's connectors by key, each with when it last rested (None: a run is using it)."""
        kept: dict[Hashable, tuple[Connector, float | None]] | None = getattr(self._local, "kept", None)
        if kept is None:
            kept = self._local.kept = {}
        return kept

    def get(self, key: Hashable, make: Callable[[], Connector]) -> Connector:
        """This thread's connector for ``key``: the one kept, if it rested less than ``idle`` seconds ago; else
        one built by ``make``. Every connector resting longer than that is closed on the way (this one, or one
        no run asks for any more: a URL that changed); one in use by the run is never."""
        kept = self._kept()
        now = self.clock()
        for stale in [k for k, (_c, rested) in kept.items() if rested is not None and now - rested > self.idle]:
            _close(kept.pop(stale)[0])
        found = kept.get(key)
        connector = found[0] if found is not None else make()
        kept[key] = (connector, None)
        return connector

    def rest(self, connector: Connector) -> None:
        """The run that used ``connector`` has ended: keep it for the next one, or close and forget it."""
        kept = self._kept()
        key = next((k for k, (c, _) in kept.items() if c is connector), None)
        rest = getattr(connector, "rest", None)
        if key is not None and rest is not None:
            try:
                rest()
            except Exception as exc:  # noqa: BLE001 - one that cannot rest is closed below, as after every run before
                log.info("a store connector could not rest between runs (%s): closed", type(exc).__name__)
            else:
                kept[key] = (connector, self.clock())
                return
        if key is not None:
            kept.pop(key, None)
        _close(connector)

    def close_all(self) -> None:
        """Close this thread's kept connectors (a worker stopping; a bench dropping its databases)."""
        kept = self._kept()
        for connector, _rested in kept.values():
            _close(connector)
        kept.clear()


def _close(connector: Connector) -> None:
    with contextlib.suppress(Exception):  # closing what may already be broken: nothing more to do with it
        connector.close()
