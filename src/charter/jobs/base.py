"""The job interface and the registry that picks its backend from ``CHARTER_JOBS_BACKEND``.

A job here is "carry out this request": the backends only decide *where*
it runs. Nothing else is queued: the sweeper runs inside ``charter worker``
(or once, from the command line) and submits runs through this same
interface, so one protocol method is enough.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit, urlunsplit

from charter.errors import Misconfigured, Unavailable

if TYPE_CHECKING:
    from charter.services import Services


class JobsMisconfigured(Misconfigured):
    """The jobs settings cannot do what was asked (e.g. ``charter worker`` with the in-process backend)."""

    code = "jobs_misconfigured"
    exit_code = 2  # the operator's command line or environment is wrong: same exit as bad input


class BrokerUnavailable(Unavailable):
    """The Redis that carries the jobs cannot be reached (the run is not lost: the sweeper submits it later)."""

    code = "broker_unavailable"
    exit_code = 2  # `charter worker` refuses to start with one line, like bad input


class JobQueue(Protocol):
    """Where approved requests go to be carried out."""

    @property
    def backend(self) -> str:
        """``inprocess`` or ``celery``: shown in answers and reports."""
        ...

    def submit_run(self, public_id: str) -> None:
        """Have the request carried out (or resumed) soon. Submitting twice is harmless: claims decide."""
        ...


def masked(url: str) -> str:
    """``url`` without its password, for messages (``redis://:***@host:6379/0``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.hostname or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _inprocess(services: Services, inline: bool) -> JobQueue:
    from charter.jobs.inprocess import InProcessQueue

    return InProcessQueue(services, inline=inline)


def _celery(services: Services, _inline: bool) -> JobQueue:
    from charter.jobs.celery_queue import CeleryQueue

    return CeleryQueue(services.settings)


BACKENDS: dict[str, Callable[[Services, bool], JobQueue]] = {"inprocess": _inprocess, "celery": _celery}


def queue_for(services: Services, *, inline: bool = False) -> JobQueue:
    """The configured backend. ``inline``: the in-process backend runs in the caller's thread (a CLI that exits)."""
    return BACKENDS[services.settings.jobs.backend](services, inline)
