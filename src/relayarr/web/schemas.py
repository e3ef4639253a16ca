"""The JSON shapes of the HTTP API (they are its public contract, and its OpenAPI)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from relayarr.jobqueue import BreakerState, Job, JobStatus, QueueStats
from relayarr.jobqueue.models import DEFAULT_PRIORITY, MAX_PRIORITY, MIN_PRIORITY
from relayarr.pipeline.chain import Node

MAX_BULK = 1000


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class JobOut(_Out):
    """A job, active or finished (the same fields as ``relayarr jobs show --json``)."""

    id: int
    type: str
    status: JobStatus
    priority: int
    attempts: int
    max_attempts: int
    payload: dict[str, JsonValue]
    run_at: datetime
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    last_error: str | None
    unique_key: str | None
    parent_id: int | None
    result: JsonValue
    lease_owner: str | None
    lease_expires_at: datetime | None
    rescues: int

    @classmethod
    def of(cls, job: Job) -> JobOut:
        """The API view of ``job`` (everything but its lease token)."""
        return cls(
            id=job.id,
            type=job.type,
            status=job.status,
            priority=job.priority,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            payload=job.payload,
            run_at=job.run_at,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            last_error=job.last_error,
            unique_key=job.unique_key,
            parent_id=job.parent_id,
            result=job.result,
            lease_owner=job.lease_owner,
            lease_expires_at=job.lease_expires_at,
            rescues=job.rescues,
        )


class JobPage(_Out):
    """Jobs newest first. Pass ``next_cursor`` as ``cursor`` for the next page; null means
    the listing is complete. A page filtered by ``text`` or time may hold fewer than
    ``limit`` jobs (even none) and still have a next cursor: keep paging."""

    jobs: list[JobOut]
    next_cursor: int | None


class ChainNodeOut(_Out):
    """One job of a chain and the follow-ups it added, oldest first; ``more`` is true
    where jobs were left out (the tree is bounded)."""

    id: int
    type: str
    status: JobStatus
    attempts: int
    max_attempts: int
    run_at: datetime
    created_at: datetime
    finished_at: datetime | None
    last_error: str | None
    result: JsonValue
    children: list[ChainNodeOut]
    more: bool

    @classmethod
    def of(cls, node: Node) -> ChainNodeOut:
        job = node.job
        return cls(
            id=job.id,
            type=job.type,
            status=job.status,
            attempts=job.attempts,
            max_attempts=job.max_attempts,
            run_at=job.run_at,
            created_at=job.created_at,
            finished_at=job.finished_at,
            last_error=job.last_error,
            result=job.result,
            children=[cls.of(child) for child in node.children],
            more=node.more,
        )


class JobDetail(_Out):
    """A job with its parent, its first children (follow-up jobs it created), and its
    ``chain``: the tree of every job it set off, itself at the root (a webhook's scan,
    the scan's notify-players...), bounded to a few hundred jobs; ``chain_finished`` is
    true once every job of it is finished and none can join."""

    job: JobOut
    parent: JobOut | None
    children: list[JobOut]
    more_children: bool
    chain: ChainNodeOut
    chain_finished: bool


class EnqueueRequest(BaseModel):
    """A job to add. ``type`` must be one this node knows (has a handler for)."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=100)
    payload: dict[str, JsonValue] = Field(default_factory=dict)
    priority: int = Field(default=DEFAULT_PRIORITY, ge=MIN_PRIORITY, le=MAX_PRIORITY)
    delay: float = Field(default=0.0, ge=0, le=366 * 86400, description="seconds")
    unique_key: str | None = Field(default=None, min_length=1, max_length=1000)
    debounce: bool = False
    max_attempts: int | None = Field(default=None, ge=1, le=1000)


class EnqueueResult(_Out):
    """The stored job; ``created`` is false when an active job already held the key."""

    job: JobOut
    created: bool


class BulkRetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[int] = Field(min_length=1, max_length=MAX_BULK)


class BulkError(_Out):
    id: int
    code: Literal["job_not_found", "invalid_transition"]
    message: str


class BulkRetryResult(_Out):
    """The jobs queued again, and why the others were not."""

    retried: list[JobOut]
    errors: list[BulkError]


class TypeCounts(_Out):
    pending: int
    processing: int
    completed: int
    failed: int
    cancelled: int


class StatsOut(_Out):
    """Counts by type and status (history: what is retained), the oldest due job's wait,
    and jobs finished in the last minute."""

    by_type: dict[str, TypeCounts]
    totals: TypeCounts
    oldest_pending_age: float | None
    finished_last_minute: int

    @classmethod
    def of(cls, stats: QueueStats) -> StatsOut:
        by_type = {
            name: TypeCounts(
                pending=counts.pending,
                processing=counts.processing,
                completed=counts.completed,
                failed=counts.failed,
                cancelled=counts.cancelled,
            )
            for name, counts in sorted(stats.by_type.items())
        }
        totals = TypeCounts(**{status.value: stats.count(status) for status in JobStatus})
        return cls(
            by_type=by_type,
            totals=totals,
            oldest_pending_age=stats.oldest_pending_age,
            finished_last_minute=stats.finished_last_minute,
        )


def _moment(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


class BreakerOut(_Out):
    """One circuit breaker (a job type or an external target) as all workers share it."""

    name: str
    phase: Literal["closed", "open", "half_open"]
    failures: int
    trips: int
    opened_at: datetime | None
    reopen_at: datetime | None
    probe_owner: str | None
    updated_at: datetime | None

    @classmethod
    def of(cls, state: BreakerState) -> BreakerOut:
        return cls(
            name=state.name,
            phase=state.phase.value,
            failures=state.failures,
            trips=state.trips,
            opened_at=_moment(state.opened_at),
            reopen_at=_moment(state.reopen_at),
            probe_owner=state.probe_owner,
            updated_at=_moment(state.updated_at or None),
        )


class RootHealth(_Out):
    path: str
    kind: str
    available: bool
    missing: str | None = None


class Health(_Out):
    status: Literal["ok", "degraded", "unavailable"]
    engine: str
    workers: bool
    uptime_seconds: float
    roots: list[RootHealth] = []


class WebhookAccepted(_Out):
    job_id: int
    status: Literal["queued"] = "queued"


class WebhookTest(_Out):
    status: Literal["ok"] = "ok"
    test: Literal[True] = True


class ErrorField(_Out):
    loc: str
    msg: str


class ErrorDetail(_Out):
    code: str
    message: str
    fields: list[ErrorField]


class ErrorOut(_Out):
    """Every error answer."""

    error: ErrorDetail


__all__ = [
    "MAX_BULK",
    "BreakerOut",
    "BulkError",
    "BulkRetryRequest",
    "BulkRetryResult",
    "EnqueueRequest",
    "EnqueueResult",
    "ErrorOut",
    "Health",
    "JobDetail",
    "JobOut",
    "JobPage",
    "StatsOut",
    "WebhookAccepted",
    "WebhookTest",
]
