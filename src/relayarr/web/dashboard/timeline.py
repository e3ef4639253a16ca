"""Per-minute counts of the queue's events, for the charts: throughput, depth, failures.

Fed by the web layer's event feed (every process's events on engines that share them),
one O(1) update per event. The queue keeps no time series of its own, so the last day
before this server started is filled in from history once (:func:`backfill`): each job
counts as added at its ``created_at`` and finished at its ``finished_at``.

Queue depth (pending + processing) at the end of each minute is worked back from the
depth now: ``depth(t) = depth(now) - added(t, now] + finished(t, now]``. It is exact for
the minutes the timeline has seen whole; before that it is left out.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from relayarr.jobqueue import Event, EventKind, Job, JobStatus

MINUTE = 60
KEEP_MINUTES = 24 * 60 + 60


@dataclass(slots=True)
class Bucket:
    """What happened in one minute."""

    added: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    failed_by_type: dict[str, int] = field(default_factory=dict)

    @property
    def finished(self) -> int:
        return self.completed + self.failed + self.cancelled


@dataclass(frozen=True, slots=True)
class Point:
    """One step of a series: its start (epoch seconds) and value (None: not known)."""

    start: float
    value: float | None


class Timeline:
    """Minute buckets of the last day; ``known_since`` is the first minute counted whole."""

    def __init__(self, now: float) -> None:
        self._buckets: dict[int, Bucket] = {}
        self.known_since = math.ceil(now / MINUTE)  # the minute of "now" is seen only in part
        self.backfilled = False

    def _bucket(self, minute: int) -> Bucket:
        bucket = self._buckets.get(minute)
        if bucket is None:
            bucket = self._buckets[minute] = Bucket()
            if len(self._buckets) > KEEP_MINUTES:
                cutoff = minute - KEEP_MINUTES
                for old in [m for m in self._buckets if m < cutoff]:
                    del self._buckets[old]
        return bucket

    def on_event(self, event: Event) -> None:
        """Count one event (a listener of the web layer's event feed)."""
        kind = event.kind
        if kind is EventKind.ADDED:
            self._bucket(int(event.at.timestamp() // MINUTE)).added += 1
        elif kind is EventKind.COMPLETED:
            self._bucket(int(event.at.timestamp() // MINUTE)).completed += 1
        elif kind is EventKind.FAILED:
            bucket = self._bucket(int(event.at.timestamp() // MINUTE))
            bucket.failed += 1
            name = event.job_type or "?"
            bucket.failed_by_type[name] = bucket.failed_by_type.get(name, 0) + 1
        elif kind is EventKind.CANCELLED:
            self._bucket(int(event.at.timestamp() // MINUTE)).cancelled += 1

    def backfill(self, jobs: Iterable[Job], covered_since: float) -> None:
        """Count ``jobs`` (from history and the active set) for the minutes before the
        timeline started; ``covered_since`` is how far back the jobs given are complete."""
        first = self.known_since
        for job in jobs:
            created = int(job.created_at.timestamp() // MINUTE)
            if created < first:
                self._bucket(created).added += 1
            if job.finished_at is None:
                continue
            finished = int(job.finished_at.timestamp() // MINUTE)
            if finished >= first:
                continue
            bucket = self._bucket(finished)
            if job.status is JobStatus.COMPLETED:
                bucket.completed += 1
            elif job.status is JobStatus.FAILED:
                bucket.failed += 1
                bucket.failed_by_type[job.type] = bucket.failed_by_type.get(job.type, 0) + 1
            else:
                bucket.cancelled += 1
        self.known_since = min(first, math.ceil(covered_since / MINUTE))
        self.backfilled = True

    def _steps(self, now: float, minutes: int, step: int) -> list[range]:
        end = int(now // MINUTE) + 1  # the current minute included
        start = end - minutes
        return [range(m, min(m + step, end)) for m in range(start, end, step)]

    def throughput(self, now: float, minutes: int, step: int) -> tuple[list[Point], list[Point]]:
        """Jobs completed and jobs failed per ``step`` minutes over the last ``minutes``."""
        done: list[Point] = []
        failed: list[Point] = []
        for span in self._steps(now, minutes, step):
            start = float(span.start * MINUTE)
            if span.start < self.known_since:
                done.append(Point(start, None))
                failed.append(Point(start, None))
                continue
            buckets = [self._buckets[m] for m in span if m in self._buckets]
            done.append(Point(start, float(sum(b.completed for b in buckets))))
            failed.append(Point(start, float(sum(b.failed for b in buckets))))
        return done, failed

    def depth(self, now: float, depth_now: int, minutes: int, step: int) -> list[Point]:
        """Active jobs at the end of each ``step`` over the last ``minutes``."""
        spans = self._steps(now, minutes, step)
        points: list[Point] = []
        depth = float(depth_now)
        for span in reversed(spans):
            start = float(span.start * MINUTE)
            # depth is the value at the end of this span; the span's own changes lead back
            # to the end of the one before.
            points.append(Point(start, depth if span.stop >= self.known_since else None))
            for minute in span:
                bucket = self._buckets.get(minute)
                if bucket is not None:
                    depth -= bucket.added - bucket.finished
            depth = max(depth, 0.0)
        points.reverse()
        return points

    def failures_by_type(self, now: float, minutes: int) -> dict[str, int]:
        """Failed jobs per type over the last ``minutes`` (as far back as known)."""
        end = int(now // MINUTE) + 1
        totals: dict[str, int] = {}
        for minute in range(max(end - minutes, self.known_since), end):
            bucket = self._buckets.get(minute)
            if bucket is not None:
                for name, count in bucket.failed_by_type.items():
                    totals[name] = totals.get(name, 0) + count
        return dict(sorted(totals.items(), key=lambda item: (-item[1], item[0])))


__all__ = ["KEEP_MINUTES", "MINUTE", "Bucket", "Point", "Timeline"]
