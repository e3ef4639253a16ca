"""What a rescue does to a job whose worker died or lost its lease: the rule, written once.

Engines find the stalled jobs and store the outcome; this decides it (as :mod:`.breaker`
decides breaker transitions). The job goes back to pending with one more rescue, unless
that would pass ``max_rescues`` (a poison job: it keeps killing or losing its workers) or
the lost run was its last allowed attempt (the run counted; another would pass
``max_attempts``): then it fails, with a last error that says which.
"""

from __future__ import annotations


def rescue_failure(
    *, rescues: int, attempts: int, max_attempts: int, max_rescues: int, owner: str | None
) -> str | None:
    """The last error of a job this rescue fails, or None when it goes back to pending.

    ``rescues`` counts the rescues before this one; ``owner`` is the lost lease's.
    """
    if rescues + 1 > max_rescues:
        return (
            f"poison job: its worker died or lost the lease {rescues + 1} times "
            f"(limit {max_rescues}); last owner {owner}"
        )
    if attempts >= max_attempts:
        return (
            f"worker ({owner}) died or lost the lease during the last allowed "
            f"attempt ({attempts} of {max_attempts})"
        )
    return None


def rescue_note(last_error: str | None, owner: str | None) -> str:
    """The last error a job going back to pending keeps: its own, or why it runs again."""
    return last_error or f"rescued after its worker ({owner}) stopped"


__all__ = ["rescue_failure", "rescue_note"]
