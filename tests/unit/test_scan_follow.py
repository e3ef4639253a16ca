"""What ``relayarr scan --wait`` shows: each job's state in one line, and the lines it
prints off a terminal as the chain runs (progress at most once a second per job)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rich.console import Console

from relayarr.cli.follow import MORE, LineDisplay, lines
from relayarr.cli.outcome import did, state
from relayarr.jobqueue import Job, JobId, JobStatus, JSONValue
from relayarr.pipeline.chain import Node

NOW = datetime.now(UTC)


def job(
    job_id: int,
    job_type: str,
    status: JobStatus,
    *,
    result: JSONValue = None,
    last_error: str | None = None,
    run_at: datetime = NOW,
    attempts: int = 0,
) -> Job:
    return Job(
        id=JobId(job_id),
        type=job_type,
        payload={},
        priority=5,
        status=status,
        attempts=attempts,
        max_attempts=3,
        run_at=run_at,
        created_at=NOW,
        result=result,
        last_error=last_error,
    )


SCAN: JSONValue = {
    "folder": "/srv/movies/Arrival (2016)",
    "created": False,
    "added": ["/srv/movies/Arrival (2016)/a.mkv"],
    "changed": [],
    "removed": ["/srv/movies/Arrival (2016)/b.mkv", "/srv/movies/Arrival (2016)/b.srt"],
    "video": "a.mkv",
    "issue_count": 1,
}


def test_states_say_what_a_job_waits_for_or_did() -> None:
    # Hours ahead: the wording stays "in 2h" however slowly the test runs.
    later = datetime.now(UTC) + timedelta(hours=2, minutes=30)
    assert state(job(1, "scan-movie", JobStatus.PENDING)) == "pending"
    assert state(job(1, "scan-movie", JobStatus.PENDING, run_at=later)) == "pending, due in 2h"
    snoozed = job(1, "scan-movie", JobStatus.PENDING, run_at=later, last_error="root down")
    assert state(snoozed) == "waiting: root down (next look in 2h)"
    running = job(1, "reconcile", JobStatus.PROCESSING, attempts=1)
    assert state(running) == "running"
    assert state(running, (0.456, "/srv/movies: 10 of 20")) == "running 46% /srv/movies: 10 of 20"
    failed = job(1, "webhook", JobStatus.FAILED, last_error="no rule maps /x")
    assert state(failed) == "failed: no rule maps /x"
    assert state(job(1, "scan-movie", JobStatus.CANCELLED)) == "cancelled"


def test_results_are_read_for_each_type_and_shown_raw_otherwise() -> None:
    scan = job(1, "scan-movie", JobStatus.COMPLETED, result=SCAN)
    assert did(scan) == (
        "Arrival (2016): 1 added, 0 changed, 2 removed; video a.mkv; 1 unreadable file"
    )
    told: JSONValue = {
        "change": {"action": "added", "folder": "/m/A", "file": "/m/A/a.mkv"},
        "results": [{"player": "tv", "outcome": "ok", "message": "verified"}],
        "next_round": None,
    }
    assert did(job(2, "notify-players", JobStatus.COMPLETED, result=told)) == (
        "added /m/A/a.mkv: tv: ok (verified)"
    )
    reconciled: JSONValue = {
        "roots": [
            {
                "root": "/m",
                "first_pass": False,
                "new_count": 1,
                "changed_count": 0,
                "removed_count": 2,
            },
            {"root": "/tv", "skipped": "unavailable: /tv/.anchor is missing"},
            {
                "root": "/4k",
                "first_pass": True,
                "new_count": 2,
                "changed_count": 0,
                "removed_count": 0,
            },
            {
                "root": "/kids",
                "first_pass": True,
                "new_count": 0,
                "changed_count": 0,
                "removed_count": 0,
            },
        ]
    }
    assert did(job(3, "reconcile", JobStatus.COMPLETED, result=reconciled)) == (
        "/m: 1 new, 0 changed, 2 removed; /tv: unavailable: /tv/.anchor is missing; "
        "/4k: 2 new, 0 changed, 0 removed (first pass: recorded, players not told); "
        "/kids: 0 new, 0 changed, 0 removed"
    )
    assert did(job(4, "my-own-type", JobStatus.COMPLETED, result={"n": 1})) == '{"n": 1}'
    # A result of another shape than the type's is shown raw rather than failing.
    assert did(job(5, "scan-movie", JobStatus.COMPLETED, result={"odd": True})) == ('{"odd": true}')


def test_the_tree_is_listed_depth_first_with_cut_branches_marked() -> None:
    scan = job(2, "scan-movie", JobStatus.COMPLETED, result=SCAN)
    notify = job(3, "notify-players", JobStatus.PENDING)
    cut_scan = Node(scan, (Node(notify, (), False),), more=True)
    tree = Node(job(1, "webhook", JobStatus.COMPLETED), (cut_scan,), more=False)
    listed = lines(tree)
    assert [(depth, j.id if j else None) for depth, j, _ in listed] == [
        (0, 1),
        (1, 2),
        (2, 3),
        (2, None),
    ]
    assert listed[-1][2] == MORE
    assert not tree.finished  # a job pending, and a branch cut


def test_off_a_terminal_each_change_is_one_line_and_progress_is_throttled() -> None:
    out = io.StringIO()
    display = LineDisplay(Console(file=out, width=80))
    pending = job(7, "reconcile", JobStatus.PENDING)
    display.update(Node(pending, (), False), {})
    display.update(Node(pending, (), False), {})  # nothing new: no line
    running = job(7, "reconcile", JobStatus.PROCESSING, attempts=1)
    display.update(Node(running, (), False), {7: (0.25, "a")})
    display.update(Node(running, (), False), {7: (0.5, "b")})  # within a second: skipped
    done = job(7, "reconcile", JobStatus.COMPLETED, attempts=1, result={"roots": list[JSONValue]()})
    display.update(Node(done, (), False), {7: (1.0, "c")})
    assert out.getvalue().splitlines() == [
        "reconcile #7: pending",
        "reconcile #7: running 25% a",
        "reconcile #7: completed: no library roots",
    ]
