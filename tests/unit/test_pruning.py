"""The one prune loop above the engines (storage/pruning.py): batch sizes, when it stops,
what it reports, and the count-bounded cut. The contract suite checks each engine's
batches against real databases; this drives the loop over a history held in a list."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from relayarr.jobqueue.errors import InvalidTransition
from relayarr.jobqueue.models import JobStatus
from relayarr.jobqueue.storage.pruning import Cut, prune_history

DONE, FAILED = JobStatus.COMPLETED, JobStatus.FAILED


@dataclass
class ListHistory:
    """Finished jobs as (finished_at, id, status), deleting as an engine's batches do."""

    rows: list[tuple[float, int, JobStatus]]
    limits: list[int] = field(default_factory=list)
    keep_cut_result: Cut | None = None

    async def keep_cut(self, keep: int, statuses: Sequence[JobStatus]) -> Cut | None:
        return self.keep_cut_result

    async def delete_batch(self, cut: Cut, statuses: Sequence[JobStatus], limit: int) -> int:
        self.limits.append(limit)
        inside = sorted(
            row
            for row in self.rows
            if (not statuses or row[2] in statuses) and _inside(cut, row[0], row[1])
        )[:limit]
        for row in inside:
            self.rows.remove(row)
        return len(inside)


def _inside(cut: Cut, finished_at: float, job_id: int) -> bool:
    if finished_at < cut.finished_at:
        return True
    return (
        finished_at == cut.finished_at and cut.through_id is not None and job_id <= cut.through_id
    )


def history(count: int, status: JobStatus = DONE) -> ListHistory:
    return ListHistory([(float(n), n, status) for n in range(1, count + 1)])


async def prune(engine: ListHistory, *, reports: list[int] | None = None, **kwargs: object) -> int:
    options: dict[str, object] = {"older_than": None, "keep": None, "statuses": ()}
    options.update(kwargs)
    return await prune_history(
        engine,
        progress=None if reports is None else reports.append,
        batch=10,
        **options,  # type: ignore[arg-type]
    )


async def test_batches_run_until_one_comes_back_short() -> None:
    engine = history(40)
    reports: list[int] = []
    assert await prune(engine, reports=reports, older_than=26.0) == 25
    assert engine.limits == [10, 10, 10]
    assert reports == [10, 20, 25]
    assert [row[1] for row in engine.rows] == list(range(26, 41))


async def test_a_last_full_batch_is_followed_by_an_empty_one_reported_nowhere() -> None:
    engine = history(20)
    reports: list[int] = []
    assert await prune(engine, reports=reports, older_than=100.0) == 20
    assert engine.limits == [10, 10, 10]
    assert reports == [10, 20]


async def test_a_counted_cut_deletes_that_many_of_the_oldest_and_stops() -> None:
    engine = history(40)
    engine.keep_cut_result = Cut(float("inf"), most=23)
    assert await prune(engine, keep=17) == 23
    assert engine.limits == [10, 10, 3]
    assert [row[1] for row in engine.rows] == list(range(24, 41))


async def test_a_boundary_cut_deletes_through_its_id_at_its_finish_time() -> None:
    engine = ListHistory([(1.0, 1, DONE), (2.0, 2, DONE), (2.0, 3, DONE), (2.0, 4, DONE)])
    engine.keep_cut_result = Cut(2.0, through_id=3)
    assert await prune(engine, keep=1) == 3
    assert engine.rows == [(2.0, 4, DONE)]


async def test_age_then_count_with_statuses() -> None:
    engine = ListHistory([(float(n), n, FAILED if n % 2 else DONE) for n in range(1, 21)])
    engine.keep_cut_result = Cut(15.0, through_id=15)
    assert await prune(engine, older_than=5.0, keep=3, statuses=[FAILED]) == 8
    assert [row[1] for row in engine.rows if row[2] is FAILED] == [17, 19]


async def test_nothing_beyond_keep_deletes_nothing() -> None:
    engine = history(5)
    assert await prune(engine, keep=10) == 0
    assert engine.limits == []


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"keep": -1}, ValueError),
        ({"older_than": 100.0, "statuses": [DONE, JobStatus.PENDING]}, InvalidTransition),
    ],
)
async def test_bad_arguments_are_refused_before_any_batch(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    engine = history(5)
    with pytest.raises(error):
        await prune(engine, **kwargs)
    assert engine.limits == []
    assert len(engine.rows) == 5
