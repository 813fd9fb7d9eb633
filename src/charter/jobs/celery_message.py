"""A Celery task message, as ``send_task`` puts it on Redis, built without Celery.

The web server only ever sends one kind of message ("carry out request X")
and never consumes one. Importing Celery's application, kombu's transport
and their dependencies to do it costs the server about 5 MB for its whole
life (docs/bench.md, memory). What goes on the wire is small and stable:

* the body and headers are Celery's task protocol version 2
  (docs.celeryq.dev, "Message Protocol"): the body is the JSON list
  ``[args, kwargs, embed]``, the headers name the task and its id;
* kombu's Redis transport wraps it in a JSON envelope (body base64,
  content type, properties with the delivery info) and ``LPUSH``es it on
  the list named after the queue, under the transport's key prefix, which
  is where the worker's ``BRPOP`` waits. A message sent to the default
  exchange (``""``) is routed by its queue name, without a binding table.

``tests/jobs/test_celery_message.py`` holds this equal to what Celery's own
``send_task`` writes, key for key (so an upgrade of Celery or kombu that
changes the format fails there), and a real ``charter worker`` application
consumes it on the real Redis.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import uuid
from typing import Any


def origin() -> str:
    """Who sent it, as Celery names an anonymous sender (``gen<pid>@<host>``): shown in the worker's log."""
    return f"gen{os.getpid()}@{socket.gethostname()}"


def task_message(task: str, args: list[str], *, queue: str, task_id: str | None = None) -> bytes:
    """The Redis payload of ``send_task(task, args=args, queue=queue)``: the worker runs it like Celery's own.

    Arguments are strings only (a request's public id): their ``repr`` is the ``argsrepr`` Celery would
    show, with no truncation to mimic.
    """
    ident = task_id or str(uuid.uuid4())
    body = json.dumps([args, {}, {"callbacks": None, "errbacks": None, "chain": None, "chord": None}])
    headers: dict[str, Any] = {
        "lang": "py",
        "task": task,
        "id": ident,
        "shadow": None,
        "eta": None,
        "expires": None,
        "group": None,
        "group_index": None,
        "retries": 0,
        "timelimit": [None, None],
        "root_id": ident,
        "parent_id": None,
        "argsrepr": repr(args),
        "kwargsrepr": "{}",
        "origin": origin(),
        "ignore_result": None,
        "replaced_task_nesting": 0,
        "stamped_headers": None,
        "stamps": {},
    }
    envelope = {
        "body": base64.b64encode(body.encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": {
            "correlation_id": ident,
            "reply_to": "",  # no result is kept (task_ignore_result): nobody waits for a reply
            "delivery_mode": 2,  # persistent
            "delivery_info": {"exchange": "", "routing_key": queue},
            "priority": 0,
            "body_encoding": "base64",
            "delivery_tag": str(uuid.uuid4()),
        },
    }
    return json.dumps(envelope).encode()
