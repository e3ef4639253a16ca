"""The rules every engine stores the outcome of, written once above them: the rescue of a
stalled job, a listing's limit and pages, and the stats. The contract suite checks each
engine stores what they decide; these check the rules' own edges."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from relayarr.jobqueue.models import Job, JobId, JobQuery, JobStatus, TypeStats
from relayarr.jobqueue.rescue import rescue_failure, rescue_note
from relayarr.jobqueue.storage.answers import page_of, queue_stats


@pytest.mark.parametrize(
    ("rescues", "attempts", "expected"),
    [
        (0, 1, None),
        (1, 2, None),  # the second rescue of three allowed, one attempt left
        (2, 1, "poison job: its worker died or lost the lease 3 times (limit 2); last owner w"),
        (0, 3, "worker (w) died or lost the lease during the last allowed attempt (3 of 3)"),
        (2, 3, "poison job: its worker died or lost the lease 3 times (limit 2); last owner w"),
    ],
)
def test_a_rescue_fails_a_poison_job_or_a_lost_last_attempt(
    rescues: int, attempts: int, expected: str | None
) -> None:
    verdict = rescue_failure(
        rescues=rescues, attempts=attempts, max_attempts=3, max_rescues=2, owner="w"
    )
    assert verdict == expected


def test_a_rescued_job_keeps_its_error_or_says_why_it_runs_again() -> None:
    assert rescue_note("player busy", "w") == "player busy"
    assert rescue_note(None, "w") == "rescued after its worker (w) stopped"


@pytest.mark.parametrize("limit", [0, -1, 1001, 2.0, True])
def test_a_listing_limit_outside_1_to_1000_is_refused(limit: object) -> None:
    with pytest.raises(ValueError, match="limit"):
        JobQuery(limit=limit)  # type: ignore[arg-type]
    assert JobQuery(limit=1000).limit == 1000


def job(job_id: int) -> Job:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return Job(JobId(job_id), "t", {}, 5, JobStatus.PENDING, 0, 3, at, at)


def test_a_page_has_a_cursor_only_when_more_matched() -> None:
    assert page_of([job(9), job(8), job(7)], 2).jobs == [job(9), job(8)]
    assert page_of([job(9), job(8), job(7)], 2).next_cursor == 8
    assert page_of([job(9), job(8)], 2).next_cursor is None
    assert page_of([], 2).next_cursor is None


def test_stats_are_assembled_from_counts() -> None:
    stats = queue_stats(
        [("a", "pending", 2), ("a", "failed", 1), ("b", "completed", 4)],
        oldest_due=100.0,
        finished=3,
        now=130.0,
    )
    assert dict(stats.by_type) == {"a": TypeStats(pending=2, failed=1), "b": TypeStats(completed=4)}
    assert (stats.oldest_pending_age, stats.finished_last_minute) == (30.0, 3)
    assert queue_stats([], oldest_due=None, finished=0, now=1.0).oldest_pending_age is None
