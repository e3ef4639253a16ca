"""relayarr.jobqueue: a durable job queue with fenced leases, retries and circuit breakers.

>>> from relayarr.jobqueue import Job, JobQueue, JobSpec, open_storage  # doctest: +SKIP
>>> storage = await open_storage("sqlite:///data/queue.db")   # migrates if needed
>>> queue = JobQueue(storage)
>>> @queue.handler("scan-movie", max_attempts=5)
... async def scan(job: Job) -> None: ...
>>> job = await queue.add_job("scan-movie", {"path": "/m"}, priority=2, unique_key="/m")
>>> added = await queue.add(JobSpec("scan-movie", {"path": "/m"}, unique_key="/m"))
>>> added.created, added.job.id == job.id  # the job above holds the key
(False, True)
>>> await queue.start(concurrency=4); ...; await queue.stop(); await storage.aclose()

This package never imports the rest of relayarr.
"""

from relayarr.jobqueue.breaker import BreakerPolicy
from relayarr.jobqueue.clock import Clock, FakeClock, SystemClock
from relayarr.jobqueue.context import JobContextFilter, current_job
from relayarr.jobqueue.errors import (
    DriverMissing,
    HandlerSignal,
    InvalidJob,
    InvalidTransition,
    InvalidURL,
    JobNotFound,
    JobQueueError,
    LeaseLost,
    PermanentFailure,
    Retry,
    Snooze,
    StorageBusy,
    StorageError,
    StorageUnavailable,
    UnknownJobType,
)
from relayarr.jobqueue.events import Event, EventBus, EventKind, Subscription
from relayarr.jobqueue.handlers import Complete, Handler, JobSpec
from relayarr.jobqueue.models import (
    Added,
    BreakerPhase,
    BreakerState,
    Job,
    JobId,
    JobQuery,
    JobStatus,
    JSONObject,
    JSONValue,
    Page,
    QueueStats,
    TypeStats,
)
from relayarr.jobqueue.queue import JobQueue
from relayarr.jobqueue.storage import (
    BreakerStore,
    Capabilities,
    JobAdmin,
    Storage,
    StorageEngine,
    open_storage,
)

__all__ = [
    "Added",
    "BreakerPhase",
    "BreakerPolicy",
    "BreakerState",
    "BreakerStore",
    "Capabilities",
    "Clock",
    "Complete",
    "DriverMissing",
    "Event",
    "EventBus",
    "EventKind",
    "FakeClock",
    "Handler",
    "HandlerSignal",
    "InvalidJob",
    "InvalidTransition",
    "InvalidURL",
    "JSONObject",
    "JSONValue",
    "Job",
    "JobAdmin",
    "JobContextFilter",
    "JobId",
    "JobNotFound",
    "JobQuery",
    "JobQueue",
    "JobQueueError",
    "JobSpec",
    "JobStatus",
    "LeaseLost",
    "Page",
    "PermanentFailure",
    "QueueStats",
    "Retry",
    "Snooze",
    "Storage",
    "StorageBusy",
    "StorageEngine",
    "StorageError",
    "StorageUnavailable",
    "Subscription",
    "SystemClock",
    "TypeStats",
    "UnknownJobType",
    "current_job",
    "open_storage",
]
