"""Receiving jobs moved from another engine, under their own ids (see JobImport).

Each job travels to ``import.lua`` as one JSON object of strings (times as ``repr``, so
exact; None as an absent key), and the script raises the ``ids`` counter past the largest
stored id, so the engine never hands one out again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson

from relayarr.jobqueue.models import Job, dump_json
from relayarr.jobqueue.storage.redis.codec import num, run_key


def _at(value: datetime | None) -> str | None:
    return None if value is None else num(value.timestamp())


def import_args(jobs: Sequence[Job]) -> list[str]:
    """One JSON argument per job for import.lua."""
    args: list[str] = []
    for job in jobs:
        run_at = job.run_at.timestamp()
        fields: dict[str, str | None] = {
            "id": str(int(job.id)),
            "type": job.type,
            "payload": dump_json(job.payload, "payload"),
            "priority": str(job.priority),
            "status": job.status.value,
            "attempts": str(job.attempts),
            "max_attempts": str(job.max_attempts),
            "run_at": num(run_at),
            "rk": run_key(run_at),
            "created_at": num(job.created_at.timestamp()),
            "started_at": _at(job.started_at),
            "finished_at": _at(job.finished_at or job.created_at),
            "last_error": job.last_error,
            "unique_key": job.unique_key,
            "parent_id": None if job.parent_id is None else str(int(job.parent_id)),
            "lease_owner": job.lease_owner,
            "result": None if job.result is None else dump_json(job.result, "result"),
            "rescues": str(job.rescues),
        }
        present = {name: value for name, value in fields.items() if value is not None}
        args.append(orjson.dumps(present).decode())
    return args
