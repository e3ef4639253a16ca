"""Prometheus metrics of the service, in a registry of its own (one per app).

Counters and histograms of job outcomes are fed by the queue's events of *this process*
(a web-only node sees none: scrape each worker process, or read the queue-depth gauges,
which come from storage and cover every process). Queue depth and breaker states are read
from storage when /metrics is scraped.

====================================  =====================================================
relayarr_queue_jobs{type,status}      jobs in storage (active and retained history)
relayarr_queue_oldest_pending_seconds wait of the oldest due pending job
relayarr_jobs_finished_total          jobs that ended here, by type and outcome
                                      (completed, failed, cancelled)
relayarr_job_retries_total{type}      attempts that failed and were scheduled again
relayarr_job_duration_seconds{type}   run time of completed jobs
relayarr_webhook_requests_total       webhook requests by source and outcome (accepted,
                                      test, unauthorized, too_large, malformed_json,
                                      invalid_payload, invalid_request, method_not_allowed,
                                      storage_unavailable, internal_error)
relayarr_webhook_ack_seconds{source}  time to answer an accepted webhook (stored job)
relayarr_breaker_state{name,phase}    1 for the phase each breaker is in, else 0
====================================  =====================================================
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from relayarr.jobqueue import BreakerPhase, BreakerState, Event, EventKind, QueueStats

CONTENT_TYPE = CONTENT_TYPE_LATEST

_FINISHED = {
    EventKind.COMPLETED: "completed",
    EventKind.FAILED: "failed",
    EventKind.CANCELLED: "cancelled",
}
_ACK_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0)
_JOB_BUCKETS = (0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    """The service's metrics. Feed it with :meth:`on_event` (a queue event listener),
    :meth:`webhook` per webhook request, and render it with :meth:`render`."""

    def __init__(self) -> None:
        # The *_created series double the output and no dashboard here reads them.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream
        self.registry = CollectorRegistry()
        registry = self.registry
        self.queue_jobs = Gauge(
            "relayarr_queue_jobs", "Jobs in storage", ["type", "status"], registry=registry
        )
        self.oldest_pending = Gauge(
            "relayarr_queue_oldest_pending_seconds",
            "Seconds the oldest due pending job has waited",
            registry=registry,
        )
        self.finished = Counter(
            "relayarr_jobs_finished",
            "Jobs that ended in this process, by outcome",
            ["type", "outcome"],
            registry=registry,
        )
        self.retries = Counter(
            "relayarr_job_retries",
            "Failed attempts scheduled to run again",
            ["type"],
            registry=registry,
        )
        self.durations = Histogram(
            "relayarr_job_duration_seconds",
            "Handler run time of completed jobs",
            ["type"],
            buckets=_JOB_BUCKETS,
            registry=registry,
        )
        self.webhooks = Counter(
            "relayarr_webhook_requests",
            "Webhook requests by source and outcome",
            ["source", "outcome"],
            registry=registry,
        )
        self.ack = Histogram(
            "relayarr_webhook_ack_seconds",
            "Time to store and acknowledge a webhook",
            ["source"],
            buckets=_ACK_BUCKETS,
            registry=registry,
        )
        # labels() checks and locks on every call: webhook children are looked up once.
        self._webhook_counts: dict[tuple[str, str], Counter] = {}
        self._webhook_acks: dict[str, Histogram] = {}
        self.breakers = Gauge(
            "relayarr_breaker_state",
            "Circuit breaker phase (1 for the current phase)",
            ["name", "phase"],
            registry=registry,
        )

    def on_event(self, event: Event) -> None:
        """Count a queue event (an :class:`EventBus` listener: quick, never raises)."""
        job_type = event.job_type or "unknown"
        outcome = _FINISHED.get(event.kind)
        if outcome is not None:
            self.finished.labels(job_type, outcome).inc()
            if event.kind is EventKind.COMPLETED:
                duration_ms = event.data.get("duration_ms")
                if isinstance(duration_ms, int | float):
                    self.durations.labels(job_type).observe(duration_ms / 1000.0)
        elif event.kind is EventKind.RETRYING:
            self.retries.labels(job_type).inc()

    def webhook(self, source: str, outcome: str, seconds: float | None = None) -> None:
        """Count one webhook request; ``seconds`` is the ack time of an accepted one."""
        counter = self._webhook_counts.get((source, outcome))
        if counter is None:
            counter = self._webhook_counts[source, outcome] = self.webhooks.labels(source, outcome)
        counter.inc()
        if seconds is not None:
            ack = self._webhook_acks.get(source)
            if ack is None:
                ack = self._webhook_acks[source] = self.ack.labels(source)
            ack.observe(seconds)

    def render(self, stats: QueueStats, breakers: list[BreakerState]) -> bytes:
        """The text exposition, with the storage snapshot ``stats`` and ``breakers``."""
        self.queue_jobs.clear()
        for job_type, counts in stats.by_type.items():
            for status in ("pending", "processing", "completed", "failed", "cancelled"):
                self.queue_jobs.labels(job_type, status).set(getattr(counts, status))
        self.oldest_pending.set(stats.oldest_pending_age or 0.0)
        self.breakers.clear()
        for state in breakers:
            for phase in BreakerPhase:
                self.breakers.labels(state.name, phase.value).set(
                    1.0 if state.phase is phase else 0.0
                )
        return generate_latest(self.registry)


__all__ = ["CONTENT_TYPE", "Metrics"]
