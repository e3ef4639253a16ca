"""Checks every engine makes before it writes, written once: engines call them first, so a
bad argument is refused the same way on each and nothing is half done."""

from __future__ import annotations

from collections.abc import Sequence

from relayarr.jobqueue.errors import InvalidTransition
from relayarr.jobqueue.models import TERMINAL_STATUSES, BreakerState, Job, JobStatus


def check_prune_arguments(keep: int | None, statuses: Sequence[JobStatus]) -> None:
    """Refuse a negative ``keep`` (ValueError) and statuses of active jobs
    (InvalidTransition): prune deletes history only."""
    if keep is not None and keep < 0:
        raise ValueError("keep must be >= 0")
    bad = [status for status in statuses if status not in TERMINAL_STATUSES]
    if bad:
        raise InvalidTransition(f"only finished jobs can be pruned, not {bad}")


def check_importable(jobs: Sequence[Job]) -> None:
    """Refuse (ValueError) to import processing jobs: they belong to a running worker and are
    never moved."""
    for job in jobs:
        if job.status is JobStatus.PROCESSING:
            raise ValueError(f"job {job.id} is processing: only pending and finished jobs move")


def check_breaker_name(name: str, state: BreakerState | None) -> None:
    """The check every engine's :meth:`BreakerStore.update_breaker` makes on a transition's
    result before storing it: a breaker's record is found by its name, so a state of
    another name would be stored where nothing looks for it."""
    if state is not None and state.name != name:
        raise ValueError(f"breaker transition renamed {name!r} to {state.name!r}")


__all__ = ["check_breaker_name", "check_importable", "check_prune_arguments"]
