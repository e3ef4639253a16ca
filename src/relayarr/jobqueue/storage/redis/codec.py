"""Between the values scripts take and return (strings, lists) and the domain types.

Times travel as ``repr(float)``, which round-trips exactly; Lua never formats them.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from relayarr.jobqueue.models import (
    BreakerPhase,
    BreakerState,
    Job,
    JobStatus,
    NewJob,
    dump_json,
    load_json,
)

_STATUS = {status.value: status for status in JobStatus}
_fromtimestamp = datetime.fromtimestamp
_DOUBLE = struct.Struct(">d")
_BITS = struct.Struct(">Q")
_SIGN = 1 << 63
_ALL = (1 << 64) - 1
Fields = Sequence[Any]  # script replies: strings, or None for an absent field


def num(value: float) -> str:
    """A float as scripts receive it: exact, never rounded."""
    return repr(float(value))


def run_key(run_at: float) -> str:
    """16 hex digits that sort as ``run_at`` does (the ready set orders ties by it)."""
    (bits,) = _BITS.unpack(_DOUBLE.pack(run_at))
    bits = bits ^ _ALL if bits & _SIGN else bits | _SIGN
    return f"{bits:016x}"


def _when(value: str | None) -> datetime | None:
    return None if value is None else _fromtimestamp(float(value), UTC)


def to_job(f: Fields) -> Job:
    """A job from the 19 fields scripts return, in Job's declaration order."""
    return Job.from_values(
        (
            int(f[0]),
            f[1],
            load_json(f[2]),
            int(f[3]),
            _STATUS[f[4]],
            int(f[5]),
            int(f[6]),
            _fromtimestamp(float(f[7]), UTC),
            _fromtimestamp(float(f[8]), UTC),
            _when(f[9]),
            _when(f[10]),
            f[11],
            f[12],
            None if f[13] is None else int(f[13]),
            None if f[14] is None else load_json(f[14]),
            f[15],
            _when(f[16]),
            f[17],
            int(f[18]),
        )
    )


def finished(job: Job, status: JobStatus, now: float, result_json: str | None) -> Job:
    """What a claimed ``job`` becomes in history, finished at ``now`` (lease gone)."""
    return Job.from_values(
        (
            job.id,
            job.type,
            job.payload,
            job.priority,
            status,
            job.attempts,
            job.max_attempts,
            job.run_at,
            job.created_at,
            job.started_at,
            _fromtimestamp(now, UTC),
            job.last_error,
            job.unique_key,
            job.parent_id,
            None if result_json is None else load_json(result_json),
            job.lease_owner,
            None,
            None,
            job.rescues,
        )
    )


def job_args(jobs: Sequence[NewJob], now: float, now_text: str) -> list[str]:
    """The 9 values per job that ``add_jobs`` in _lib.lua reads; ``now_text`` is
    ``num(now)``, reused for the many jobs due at once."""
    if not jobs:
        return []
    now_key = run_key(now)
    args: list[str] = []
    for new in jobs:
        run_at = new.run_at
        args += (
            new.type,
            new.payload_json,
            str(new.priority),
            str(new.max_attempts),
            now_text if run_at == now else num(run_at),
            now_key if run_at == now else run_key(run_at),
            new.unique_key or "",
            "1" if new.debounce else "0",
            "" if new.parent_id is None else str(new.parent_id),
        )
    return args


def count_rows(counts: Sequence[str]) -> list[tuple[str, str, int]]:
    """``(type, status, count)`` rows from the stats script's flat ``status\ttype, n``
    pairs."""
    rows: list[tuple[str, str, int]] = []
    for index in range(0, len(counts), 2):
        status, _, job_type = counts[index].partition("\t")
        rows.append((job_type, status, int(counts[index + 1])))
    return rows


def dump_breaker(state: BreakerState) -> str:
    return dump_json(
        {
            "name": state.name,
            "phase": state.phase.value,
            "failures": state.failures,
            "opened_at": state.opened_at,
            "reopen_at": state.reopen_at,
            "trips": state.trips,
            "probe_owner": state.probe_owner,
            "updated_at": state.updated_at,
        },
        "breaker state",
    )


def load_breaker(text: str) -> BreakerState:
    data = load_json(text)
    assert isinstance(data, dict)
    return BreakerState(
        name=str(data["name"]),
        phase=BreakerPhase(str(data["phase"])),
        failures=int(data["failures"]),  # type: ignore[arg-type]
        opened_at=_opt_float(data["opened_at"]),
        reopen_at=_opt_float(data["reopen_at"]),
        trips=int(data["trips"]),  # type: ignore[arg-type]
        probe_owner=None if data["probe_owner"] is None else str(data["probe_owner"]),
        updated_at=float(data["updated_at"]),  # type: ignore[arg-type]
    )


def _opt_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]
