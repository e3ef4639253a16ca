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

from relayarr.jobqueue.rescue import rescue_failure, rescue_note
from relayarr.jobqueue.storage.redis.codec import Fields


def verdict_args(rows: Sequence[Fields], max_rescues: int) -> list[str]:
    """What ``rescue.lua`` stores for each job of ``stalled.lua``'s reply: per job its id,
    the lease seen (token and expiry, the text as stored), the status the rule gives it,
    its rescue count and its last error."""
    args: list[str] = []
    for job_id, token, expires, owner, rescues, attempts, max_attempts, last_error in rows:
        error = rescue_failure(
            rescues=int(rescues),
            attempts=int(attempts),
            max_attempts=int(max_attempts),
            max_rescues=max_rescues,
            owner=owner,
        )
        if error is None:
            note = rescue_note(last_error, owner)
            args += (job_id, token, expires, "pending", str(int(rescues) + 1), note)
        else:
            args += (job_id, token, expires, "failed", rescues, error)
    return args


__all__ = ["verdict_args"]
