"""The dashboard's timeline and charts: counts per minute, depth worked back from now,
backfill from stored jobs, and the SVG geometry."""

from __future__ import annotations

from datetime import UTC, datetime

from relayarr.jobqueue import Event, EventKind, Job, JobId, JobStatus
from relayarr.web.dashboard.charts import bar_chart, line_chart
from relayarr.web.dashboard.timeline import MINUTE, Point, Timeline

T0 = 1_700_000_000.0 - (1_700_000_000.0 % MINUTE)  # a minute boundary


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(T0 + seconds, UTC)


def event(kind: EventKind, when: float, job_type: str = "scan") -> Event:
    return Event(id=1, kind=kind, at=at(when), job_id=JobId(1), job_type=job_type)


def job(status: JobStatus, created: float, finished: float | None, job_type: str = "scan") -> Job:
    return Job(
        id=JobId(1),
        type=job_type,
        payload={},
        priority=5,
        status=status,
        attempts=1,
        max_attempts=3,
        run_at=at(created),
        created_at=at(created),
        finished_at=None if finished is None else at(finished),
    )


def test_events_are_counted_per_minute_from_the_first_whole_minute() -> None:
    timeline = Timeline(T0 - 30)  # started half-way through the minute before T0
    for second in (5, 10, 70):
        timeline.on_event(event(EventKind.COMPLETED, second))
    timeline.on_event(event(EventKind.FAILED, 75, "notify"))
    timeline.on_event(event(EventKind.PROGRESS, 75))
    done, failed = timeline.throughput(T0 + 90, minutes=3, step=1)
    # The minute the server started in is not known whole: no value, not a zero.
    assert [p.value for p in done] == [None, 2.0, 1.0]
    assert [p.value for p in failed] == [None, 0.0, 1.0]
    assert done[1].start == T0
    assert timeline.failures_by_type(T0 + 90, 60) == {"notify": 1}


def test_steps_sum_their_minutes() -> None:
    timeline = Timeline(T0)
    for minute in range(6):
        timeline.on_event(event(EventKind.COMPLETED, minute * MINUTE + 1))
    done, _ = timeline.throughput(T0 + 5 * MINUTE + 1, minutes=6, step=3)
    assert [p.value for p in done] == [3.0, 3.0]


def test_depth_is_worked_back_from_now() -> None:
    timeline = Timeline(T0)
    # minute 0: 3 added; minute 1: 1 finished; minute 2: 1 added, 2 finished
    for _ in range(3):
        timeline.on_event(event(EventKind.ADDED, 1))
    timeline.on_event(event(EventKind.COMPLETED, MINUTE + 1))
    timeline.on_event(event(EventKind.ADDED, 2 * MINUTE + 1))
    timeline.on_event(event(EventKind.CANCELLED, 2 * MINUTE + 2))
    timeline.on_event(event(EventKind.FAILED, 2 * MINUTE + 3))
    depth = timeline.depth(T0 + 2 * MINUTE + 30, depth_now=1, minutes=4, step=1)
    # end of minute -1 (before anything): 0; end of 0: 3; end of 1: 2; now: 1
    assert [p.value for p in depth] == [0.0, 3.0, 2.0, 1.0]


def test_depth_before_the_known_minutes_is_left_out() -> None:
    # First whole minute: T0 + 120; so the depth is known from the end of T0 + 60 on.
    timeline = Timeline(T0 + MINUTE + 1)
    depth = timeline.depth(T0 + 3 * MINUTE, depth_now=4, minutes=4, step=1)
    assert [p.value for p in depth] == [None, 4.0, 4.0, 4.0]


def test_backfill_counts_stored_jobs_before_the_timeline_began() -> None:
    timeline = Timeline(T0 + 10 * MINUTE)
    timeline.on_event(event(EventKind.COMPLETED, 10 * MINUTE + 5))
    timeline.backfill(
        [
            job(JobStatus.COMPLETED, 1, 2 * MINUTE),
            job(JobStatus.FAILED, 1, 3 * MINUTE, "notify"),
            job(JobStatus.PENDING, 4 * MINUTE, None),
            # finished after the timeline began: already counted from its event
            job(JobStatus.COMPLETED, 5 * MINUTE, 10 * MINUTE + 5),
        ],
        covered_since=T0,
    )
    assert timeline.backfilled
    done, failed = timeline.throughput(T0 + 10 * MINUTE + 30, minutes=11, step=1)
    assert [p.value for p in done] == [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]
    assert [p.value for p in failed] == [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    assert timeline.failures_by_type(T0 + 10 * MINUTE + 30, 60) == {"notify": 1}
    depth = timeline.depth(T0 + 10 * MINUTE + 30, depth_now=1, minutes=11, step=1)
    # two made at minute 0, done at 2 and 3; one pending from 4; one from 5 done at 10
    assert [p.value for p in depth] == [2, 2, 1, 0, 1, 2, 2, 2, 2, 2, 1]


def test_a_line_chart_breaks_at_unknown_values_and_scales_to_a_round_top() -> None:
    points = [Point(T0 + i * MINUTE, v) for i, v in enumerate([None, 1.0, 7.0, None, 3.0])]
    chart = line_chart("t", [("done", "completed", points)])
    (line,) = chart.lines
    assert len(line.pieces) == 2
    assert len(line.pieces[0].split()) == 2
    assert len(line.pieces[1].split()) == 2  # a lone point is doubled so it shows
    assert [tick.text for tick in chart.y_ticks] == ["0", "5", "10"]
    assert not chart.empty
    assert line_chart("t", [("done", "x", [Point(T0, None)])]).empty


def test_a_bar_chart_puts_the_largest_first() -> None:
    chart = bar_chart("failures", {"a": 1, "b": 4, "c": 2}, limit=2)
    assert [(bar.label, bar.value) for bar in chart.bars] == [("b", 4), ("c", 2)]
    assert chart.bars[0].width > chart.bars[1].width
