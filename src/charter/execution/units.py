"""A batch's writes, one store transaction per system: committed together after the batch's last write.

Eleven erase steps on one store used to be eleven statements, each its own
commit (and its own flush of the store's log); a batch that failed at its
sixth step left five steps' changes behind. A store that has several writes
in a batch now takes them in one transaction (``connectors.base.Transactional``),
committed after the last one, so the batch costs one commit and either all of
its writes on that store hold or none do. A system with a single write keeps
the autocommit statement: a transaction around one statement is two round trips
more for nothing. ``queued``: where the store can, a transaction's writes by primary key go together in one
round trip at its commit (``connectors.sql_queue``); a count that is not the one expected raises ``Miscounted``
and the batch is written again one statement at a time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable

from charter.connectors.base import Connector, Transactional


class Units:
    """The store transactions of one batch's writes, opened as the writes reach each system."""

    def __init__(
        self, connector_of: Callable[[str], Connector], systems: Iterable[str], *, queued: bool = False
    ) -> None:
        self._connector_of = connector_of
        self._queued = queued
        self._shared = {system for system, writes in Counter(systems).items() if writes > 1}
        self._open: dict[str, Transactional] = {}
        self._committed: set[str] = set()
        self._undone: set[str] = set()

    def connector(self, system: str) -> Connector:
        """The system's connector, inside the batch's transaction on it when it has one."""
        connector = self._connector_of(system)
        if system in self._shared and system not in self._open and isinstance(connector, Transactional):
            connector.begin(queued=self._queued)
            self._open[system] = connector
        return connector

    def holds(self, system: str) -> bool:
        """Are ``system``'s writes in a transaction of this batch (not sent alone, committed at once)?"""
        return system in self._open

    def commit(self) -> None:
        """Commit each system's transaction, in the order they were opened. A commit that fails rolls back
        the ones not committed yet and raises; :meth:`persisted` says which systems' writes hold. Writes queued
        (``queued``) are sent on every system before any commits, so a miscount on one commits none."""
        try:
            for unit in self._open.values():
                unit.send_queued()
        except BaseException:
            self.rollback()
            raise
        for system in list(self._open):
            unit = self._open.pop(system)
            try:
                unit.commit()
            except BaseException:
                self._undone.add(system)
                self.rollback()
                raise
            self._committed.add(system)

    def rollback(self) -> None:
        """Undo every transaction not committed yet (never raises)."""
        for system, unit in list(self._open.items()):
            unit.rollback()
            self._undone.add(system)
        self._open.clear()

    def persisted(self, system: str) -> bool:
        """Do the writes made on ``system`` hold: committed with its transaction, or sent alone in autocommit?"""
        return system not in self._undone and system not in self._open
