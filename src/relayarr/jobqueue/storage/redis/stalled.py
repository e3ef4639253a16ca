"""A reclaim in two steps: ``stalled.lua`` fetches the stalled jobs, the rescue rule
(:mod:`relayarr.jobqueue.rescue`) decides each here, and ``rescue.lua`` stores the verdicts.

Each verdict carries the lease it was decided on (token and expiry, as fetched): the store
applies it only while the job still holds that very lease. Between the steps any other
process may act on the job; a heartbeat moves the expiry, a completion, failure, release or
another reclaimer's rescue ends the lease, and then the verdict is dropped instead of
clobbering what happened. So reclaimers may race each other and the workers freely: a job is
rescued once, and only if its lease really lapsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from relayarr.jobqueue.rescue import rescue_failure, rescue_note
from relayarr.jobqueue.storage.redis.codec import Fields


@dataclass(frozen=True, slots=True)
class Stalled:
    """A processing job as ``stalled.lua`` found it."""

    id: str
    token: str
    expires: str  # exactly as stored: the fence compares the text
    owner: str | None
    rescues: int
    attempts: int
    max_attempts: int
    last_error: str | None

    @classmethod
    def from_fields(cls, f: Fields) -> Stalled:
        return cls(f[0], f[1], f[2], f[3], int(f[4]), int(f[5]), int(f[6]), f[7])


def verdict_args(rows: Sequence[Fields], max_rescues: int) -> list[str]:
    """What ``rescue.lua`` stores for each job of ``stalled.lua``'s reply: per job its id,
    the lease seen, the status the rule gives it, its rescue count and last error."""
    args: list[str] = []
    for job in map(Stalled.from_fields, rows):
        error = rescue_failure(
            rescues=job.rescues,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            max_rescues=max_rescues,
            owner=job.owner,
        )
        if error is None:
            verdict = ["pending", str(job.rescues + 1), rescue_note(job.last_error, job.owner)]
        else:
            verdict = ["failed", str(job.rescues), error]
        args += [job.id, job.token, job.expires, *verdict]
    return args


__all__ = ["Stalled", "verdict_args"]
