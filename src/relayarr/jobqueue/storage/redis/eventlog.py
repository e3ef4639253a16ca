"""The shared event log on Redis: a stream under the prefix, with integer ids that only grow.

Each event is one entry of the stream ``P:events``, appended by ``append_events.lua`` (one
script per batch, so a batch is atomic and its ids are consecutive). The stream's entry ids
are given explicitly as ``n-0``, where ``n`` comes from the INCR counter ``P:events:ids``:
the integer id a reader sees is simply the entry id's first part, it grows by one per event
across every process, and it is never handed out again, even after trimming.

The stream is trimmed with ``XADD ... MAXLEN ~ event_retention`` (URL option, default
100,000): Redis trims whole internal nodes, so about that many newest events stay, a few
more at times. Appending publishes on the engine's wake-up channel (when a process waits
there), so a follower waiting on a ``ChangeWatch`` reads the new events at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson

from relayarr.jobqueue.events import Event, EventKind
from relayarr.jobqueue.models import JobId, dump_json, load_json

_KINDS = {kind.value: kind for kind in EventKind}


def event_args(events: Sequence[Event]) -> list[str]:
    """Two script arguments per event: its head (time, kind, job) and its data, as JSON."""
    args: list[str] = []
    for event in events:
        head = [event.at.timestamp(), event.kind.value, event.job_id, event.job_type]
        args.append(orjson.dumps(head).decode())
        args.append(dump_json(dict(event.data), "event data"))
    return args


def start_after(after_id: int) -> str:
    """The first stream entry id a read after ``after_id`` may return."""
    return f"{max(after_id, 0) + 1}-0"


def to_events(reply: Sequence[Any]) -> list[Event]:
    """Events from ``read_events.lua``'s flat reply: id, head, data per event."""
    out: list[Event] = []
    for index in range(0, len(reply), 3):
        at, kind, job_id, job_type = orjson.loads(reply[index + 1])
        out.append(
            Event(
                id=int(reply[index]),
                kind=_KINDS[kind],
                at=datetime.fromtimestamp(at, UTC),
                job_id=None if job_id is None else JobId(job_id),
                job_type=job_type,
                data=load_json(reply[index + 2]),  # type: ignore[arg-type]  # an object: we wrote it
            )
        )
    return out
