"""The job row both SQL engines select: Job's fields in order, read by one mapper."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from relayarr.jobqueue.models import Job, JobId, JobStatus
from relayarr.jobqueue.storage import sql


def test_the_named_positions_are_jobs_fields_in_order() -> None:
    names = [field.name for field in dataclasses.fields(Job)]
    assert [getattr(sql, name.upper()) for name in names] == list(range(len(names)))


def test_a_row_maps_to_every_field() -> None:
    at = 1_700_000_000.25
    row = (
        7,
        "scan-movie",
        '{"path":"/m","n":[1,2.5]}',
        2,
        "completed",
        3,
        5,
        at,
        at + 1,
        at + 2,
        at + 3,
        "boom",
        "folder:/m",
        6,
        '{"files":3}',
        "host:1:abc",
        None,
        None,
        1,
    )
    assert sql.row_to_job(row) == Job(
        id=JobId(7),
        type="scan-movie",
        payload={"path": "/m", "n": [1, 2.5]},
        priority=2,
        status=JobStatus.COMPLETED,
        attempts=3,
        max_attempts=5,
        run_at=datetime.fromtimestamp(at, UTC),
        created_at=datetime.fromtimestamp(at + 1, UTC),
        started_at=datetime.fromtimestamp(at + 2, UTC),
        finished_at=datetime.fromtimestamp(at + 3, UTC),
        last_error="boom",
        unique_key="folder:/m",
        parent_id=JobId(6),
        result={"files": 3},
        lease_owner="host:1:abc",
        rescues=1,
    )
