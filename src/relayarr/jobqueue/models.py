"""The queue's domain values: frozen, slotted, storage-agnostic.

Times are aware UTC datetimes on the public types; engines store them as epoch seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, NewType, TypeAlias, TypeVar

import orjson

from relayarr.jobqueue.errors import InvalidJob

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

JobId = NewType("JobId", int)
_T = TypeVar("_T", bound="DataclassInstance")

JSONValue: TypeAlias = "str | int | float | bool | list[JSONValue] | dict[str, JSONValue] | None"
JSONObject: TypeAlias = dict[str, JSONValue]

MIN_PRIORITY = 1  # most urgent
MAX_PRIORITY = 10  # least urgent
DEFAULT_PRIORITY = 5
DEFAULT_MAX_ATTEMPTS = 3
MAX_TYPE_LENGTH = 100
MAX_UNIQUE_KEY_LENGTH = 1000
MAX_PAGE = 1000  # jobs one listing returns at most


class JobStatus(StrEnum):
    """Where a job is in its life. The first two live in the active table, the rest in history."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_active(self) -> bool:
        return self in (JobStatus.PENDING, JobStatus.PROCESSING)

    @property
    def is_terminal(self) -> bool:
        return not self.is_active


TERMINAL_STATUSES = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)


def to_datetime(epoch: float | None) -> datetime | None:
    """Epoch seconds (as engines store them) to an aware UTC datetime."""
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)


def to_epoch(moment: datetime) -> float:
    """An aware datetime to epoch seconds; naive datetimes are refused (they are ambiguous)."""
    if moment.tzinfo is None:
        raise InvalidJob("run_at must be timezone-aware (use datetime.now(UTC) or similar)")
    return moment.timestamp()


@dataclass(frozen=True, slots=True)
class Lease:
    """The right to write to a claimed job: every write after the claim is fenced by token."""

    job_id: JobId
    token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of work, active or historical, as the storage engine last saw it."""

    id: JobId
    type: str
    payload: JSONObject
    priority: int
    status: JobStatus
    attempts: int
    max_attempts: int
    run_at: datetime
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    last_error: str | None = None
    unique_key: str | None = None
    parent_id: JobId | None = None
    result: JSONValue = None
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    lease_token: str | None = field(default=None, repr=False)
    rescues: int = 0

    @classmethod
    def from_values(cls, values: Sequence[object]) -> Job:
        """Build a Job from all its field values in declaration order, without __init__.

        For storage engines that build thousands of jobs per call, where a frozen
        dataclass's generated __init__ would be much of the cost. No validation happens here.
        """
        if len(values) != _JOB_FIELDS:
            raise ValueError(f"a Job has {_JOB_FIELDS} fields, got {len(values)} values")
        job: Job = _make_job(*values)
        return job

    @property
    def lease(self) -> Lease:
        """The lease this job was claimed under; only processing jobs have one."""
        if self.status is not JobStatus.PROCESSING or self.lease_token is None:
            raise InvalidJob(f"job {self.id} is {self.status}, not processing: it has no lease")
        return Lease(self.id, self.lease_token)


def _slot_filler(cls: type[_T]) -> Callable[..., _T]:
    """A function that makes an instance of the frozen slotted dataclass ``cls`` from its
    field values in order, setting the slots directly.

    Generated with exec, as dataclasses generates __init__, because an unrolled sequence
    of slot stores is what makes it fast (a frozen dataclass's __init__ goes through
    object.__setattr__ and keyword parsing); it validates nothing.
    """
    names = [spec.name for spec in fields(cls)]
    scope: dict[str, object] = {"new": object.__new__, "cls": cls}
    body = ["def fill(" + ", ".join(f"v{i}" for i in range(len(names))) + "):"]
    body.append("    obj = new(cls)")
    for index, name in enumerate(names):
        scope[f"set{index}"] = getattr(cls, name).__set__
        body.append(f"    set{index}(obj, v{index})")
    body.append("    return obj")
    exec("\n".join(body), scope)  # fixed source built from our own field names
    filler: Callable[..., _T] = scope["fill"]  # type: ignore[assignment]  # made just above
    return filler


_JOB_FIELDS = len(fields(Job))
_make_job = _slot_filler(Job)


# orjson: JSON both ways is most of a batch add's cost, and orjson does it many times
# faster than the json module. Types json would refuse (datetimes, dataclasses) are refused
# too, not silently converted.
_DUMP_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS


def dump_json(value: object, what: str) -> str:
    """Serialise strictly: no NaN/Infinity, no objects JSON cannot represent."""
    return _dump(value, what, None)


def dump_and_load(value: object, what: str) -> tuple[str, JSONValue]:
    """:func:`dump_json`, plus the value parsed back from the JSON (a deep copy holding
    exactly what a reader of the JSON will see). Cheaper than both done apart: the copy
    lets NaN be ruled out by one comparison instead of a walk over the value."""
    parsed: list[JSONValue] = []
    text = _dump(value, what, parsed)
    return text, parsed[0]


def _dump(value: object, what: str, parsed: list[JSONValue] | None) -> str:
    try:
        data = orjson.dumps(value, option=_DUMP_OPTIONS)
    except (TypeError, orjson.JSONEncodeError) as exc:
        raise InvalidJob(f"{what} is not JSON-serialisable: {exc}") from exc
    copy: JSONValue = orjson.loads(data) if parsed is not None else None
    if parsed is not None:
        parsed.append(copy)
    # orjson writes NaN and infinities as null; JSON has no such numbers, so refuse them.
    # Only possible where a null was written; then a copy equal to the value rules them
    # out at C speed (nan == None is false), and only a difference needs the slow walk.
    if b"null" in data and (parsed is None or copy != value) and _has_non_finite(value):
        raise InvalidJob(f"{what} is not JSON-serialisable: NaN and infinities are not JSON")
    return data.decode()


def load_json(text: str | bytes) -> JSONValue:
    """Parse JSON written by :func:`dump_json` (or any valid JSON)."""
    value: JSONValue = orjson.loads(text)
    return value


def _has_non_finite(value: object) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(item) for item in value)
    return False


@dataclass(frozen=True, slots=True)
class NewJob:
    """A validated job description ready for storage. Build it with :meth:`create`."""

    type: str
    payload_json: str
    priority: int
    run_at: float
    max_attempts: int
    unique_key: str | None = None
    debounce: bool = False
    parent_id: JobId | None = None
    # The payload as stored (payload_json parsed back), so engines can build the Job they
    # return without parsing it again.
    payload: JSONObject = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def create(
        cls,
        job_type: str,
        payload: Mapping[str, object] | None,
        *,
        now: float,
        priority: int = DEFAULT_PRIORITY,
        delay: float = 0.0,
        run_at: datetime | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        unique_key: str | None = None,
        debounce: bool = False,
        parent_id: int | None = None,
    ) -> NewJob:
        """Validate every field and serialise the payload; raise :class:`InvalidJob` if bad.

        Written for speed (batch adds validate 100,000 jobs a second): the common case takes
        the cheapest checks first, and job types already seen are not checked again.
        """
        if job_type not in _VALID_TYPES:
            _check_type(job_type)
        if payload is None:
            payload = {}
        elif type(payload) is not dict:
            if not isinstance(payload, Mapping):
                raise InvalidJob(
                    f"payload must be a JSON object (a mapping), not {type(payload)!r}"
                )
            payload = dict(payload)
        if type(priority) is not int or not MIN_PRIORITY <= priority <= MAX_PRIORITY:
            raise InvalidJob(
                f"priority must be an integer from {MIN_PRIORITY} (most urgent) "
                f"to {MAX_PRIORITY}, got {priority!r}"
            )
        if type(max_attempts) is not int or max_attempts < 1:
            raise InvalidJob(f"max_attempts must be an integer >= 1, got {max_attempts!r}")
        if delay == 0 and type(delay) in (int, float):
            when = now if run_at is None else to_epoch(run_at)
        else:
            if type(delay) not in (int, float):
                raise InvalidJob(f"delay must be a number of seconds, got {delay!r}")
            if not math.isfinite(delay) or delay < 0:
                raise InvalidJob(f"delay must be a finite number of seconds >= 0, got {delay!r}")
            if run_at is not None:
                raise InvalidJob("give either delay or run_at, not both")
            when = now + delay
        if unique_key is not None and (
            type(unique_key) is not str or not unique_key or len(unique_key) > MAX_UNIQUE_KEY_LENGTH
        ):
            raise InvalidJob(f"unique_key must be a non-empty string of <= {MAX_UNIQUE_KEY_LENGTH}")
        if debounce and unique_key is None:
            raise InvalidJob("debounce needs a unique_key")
        if parent_id is not None and (type(parent_id) is not int or parent_id < 1):
            raise InvalidJob(f"parent_id must be a positive job id, got {parent_id!r}")
        # Parsed back rather than copied: the Job an engine returns then holds exactly what
        # a worker will see, and nothing the caller may still mutate.
        payload_json, stored = dump_and_load(payload, "payload")
        job: NewJob = _make_new_job(
            job_type,
            payload_json,
            priority,
            when,
            max_attempts,
            unique_key,
            bool(debounce),
            parent_id,
            stored,
        )
        return job

    def stored(self, job_id: int, now: float, created_at: datetime) -> Job:
        """The Job an engine stored for this under ``job_id`` at ``now`` (``created_at`` is
        ``now`` as a datetime, made once per batch), built without reading it back."""
        run_at = created_at if self.run_at == now else datetime.fromtimestamp(self.run_at, UTC)
        return _make_job(
            job_id,
            self.type,
            self.payload,
            self.priority,
            JobStatus.PENDING,
            0,
            self.max_attempts,
            run_at,
            created_at,
            None,
            None,
            None,
            self.unique_key,
            self.parent_id,
            None,
            None,
            None,
            None,
            0,
        )


_VALID_TYPES: set[str] = set()  # job types that passed _check_type (bounded below)


def _check_type(job_type: object) -> None:
    if not isinstance(job_type, str) or not job_type or len(job_type) > MAX_TYPE_LENGTH:
        raise InvalidJob(f"job type must be a non-empty string of at most {MAX_TYPE_LENGTH}")
    if job_type != job_type.strip() or any(ch.isspace() and ch != " " for ch in job_type):
        raise InvalidJob(f"job type {job_type!r} has leading/trailing or control whitespace")
    if len(_VALID_TYPES) < 10_000:  # a bound, should someone make types from user input
        _VALID_TYPES.add(job_type)


_make_new_job = _slot_filler(NewJob)


@dataclass(frozen=True, slots=True)
class Added:
    """What :meth:`Storage.add` did with one NewJob: the stored job, and whether it is new."""

    job: Job
    created: bool

    @classmethod
    def new(cls, job: Job) -> Added:
        """``Added(job, created=True)``, cheaply (engines make one per added job)."""
        added: Added = _make_added(job, True)
        return added


_make_added = _slot_filler(Added)


@dataclass(frozen=True, slots=True)
class JobQuery:
    """Filters and keyset paging for listing jobs (newest first, by id)."""

    statuses: Sequence[JobStatus] = ()
    types: Sequence[str] = ()
    parent_id: JobId | None = None
    unique_key: str | None = None
    before_id: JobId | None = None  # cursor: only jobs with a smaller id
    limit: int = 50

    def __post_init__(self) -> None:
        if type(self.limit) is not int or not 1 <= self.limit <= MAX_PAGE:
            raise ValueError(f"limit must be from 1 to {MAX_PAGE}, got {self.limit!r}")


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a listing; pass ``next_cursor`` as ``before_id`` for the next."""

    jobs: Sequence[Job]
    next_cursor: JobId | None


@dataclass(frozen=True, slots=True)
class TypeStats:
    """Counts for one job type (history counts are over the retained history)."""

    pending: int = 0
    processing: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0


@dataclass(frozen=True, slots=True)
class QueueStats:
    """A snapshot of the queue: counts by status and type, age of the oldest due job,
    and jobs finished in the last minute."""

    by_type: Mapping[str, TypeStats]
    oldest_pending_age: float | None  # seconds the oldest due pending job has waited
    finished_last_minute: int

    def count(self, status: JobStatus) -> int:
        return sum(getattr(stats, status.value) for stats in self.by_type.values())


class BreakerPhase(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True, slots=True)
class BreakerState:
    """Shared circuit-breaker state of one name (a job type or an external target)."""

    name: str
    phase: BreakerPhase = BreakerPhase.CLOSED
    failures: int = 0  # consecutive failures
    opened_at: float | None = None
    reopen_at: float | None = None  # when an open breaker lets a probe through
    trips: int = 0  # how many times in a row it has opened (grows the cool-down)
    probe_owner: str | None = None
    updated_at: float = 0.0
