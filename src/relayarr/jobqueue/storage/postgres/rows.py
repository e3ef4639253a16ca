"""Rows as the PostgreSQL engine's queries return them, turned into domain values.

Every job query selects 19 columns in the field order of :class:`Job` (see queries.sql),
so one mapping serves the active table and history alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from relayarr.jobqueue.models import Job, JobStatus

_STATUS = {status.value: status for status in JobStatus}
_fromtimestamp = datetime.fromtimestamp
_loads = json.loads


def row_to_job(row: Sequence[Any]) -> Job:
    """Map a 19-column job row (Job's field order, times as epoch seconds) to a Job."""
    started_at, finished_at, result, lease_expires_at = row[9], row[10], row[14], row[16]
    return Job.from_values(
        (
            row[0],
            row[1],
            _loads(row[2]),
            row[3],
            _STATUS[row[4]],
            row[5],
            row[6],
            _fromtimestamp(row[7], UTC),
            _fromtimestamp(row[8], UTC),
            None if started_at is None else _fromtimestamp(started_at, UTC),
            None if finished_at is None else _fromtimestamp(finished_at, UTC),
            row[11],
            row[12],
            row[13],
            None if result is None else _loads(result),
            row[15],
            None if lease_expires_at is None else _fromtimestamp(lease_expires_at, UTC),
            row[17],
            row[18],
        )
    )
