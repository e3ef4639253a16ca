"""Named SQL blocks loaded from files shipped in the package.

A file holds blocks introduced by ``-- name: <name>`` and a one-line purpose comment; each
block runs to the next ``-- name:`` line. Loaded once, never built from f-strings.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib.resources import files
from typing import Any

from relayarr.jobqueue.models import BreakerPhase, BreakerState, Job, dump_json

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def load_queries(package: str, resource: str = "queries.sql") -> dict[str, str]:
    """Parse ``resource`` in ``package`` into {name: sql}; duplicate names are an error."""
    text = files(package).joinpath(resource).read_text(encoding="utf-8")
    queries: dict[str, str] = {}
    parts = _NAME.split(text)
    # parts = [preamble, name1, body1, name2, body2, ...]
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"duplicate query name {name!r} in {package}/{resource}")
        queries[name] = body.strip()
    return queries


def load_migrations(package: str) -> list[tuple[int, str, str]]:
    """Numbered migration files ``NNNN_name.sql`` in ``package``, sorted: (number, name, sql)."""
    found: list[tuple[int, str, str]] = []
    for entry in files(package).iterdir():
        match = re.fullmatch(r"(\d{4})_([a-z0-9_]+)\.sql", entry.name)
        if match:
            found.append((int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort()
    numbers = [number for number, _, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError(f"migrations in {package} are not numbered 1..n: {numbers}")
    return found


def row_to_breaker(row: Sequence[Any]) -> BreakerState:
    """A breakers-table row (name, phase, failures, opened_at, reopen_at, trips,
    probe_owner, updated_at), as both SQL engines store it, to a BreakerState."""
    name, phase, failures, opened_at, reopen_at, trips, probe_owner, updated_at = row
    return BreakerState(
        name=name,
        phase=BreakerPhase(phase),
        failures=failures,
        opened_at=opened_at,
        reopen_at=reopen_at,
        trips=trips,
        probe_owner=probe_owner,
        updated_at=updated_at,
    )


def breaker_params(state: BreakerState) -> tuple[Any, ...]:
    """The breakers-table columns of a BreakerState, in row_to_breaker's order."""
    return (
        state.name,
        state.phase.value,
        state.failures,
        state.opened_at,
        state.reopen_at,
        state.trips,
        state.probe_owner,
        state.updated_at,
    )


# -- moving jobs between engines (JobImport): the same parameter order in both SQL engines --


def pending_import_params(job: Job) -> tuple[Any, ...]:
    """``import_pending``'s parameters for a pending job."""
    return (
        job.id,
        job.type,
        dump_json(job.payload, "payload"),
        job.priority,
        job.attempts,
        job.max_attempts,
        job.run_at.timestamp(),
        job.created_at.timestamp(),
        None if job.started_at is None else job.started_at.timestamp(),
        job.last_error,
        job.unique_key,
        job.parent_id,
        job.rescues,
    )


def finished_import_params(job: Job) -> tuple[Any, ...]:
    """``import_finished``'s parameters for a finished job (one without a finish time
    counts as finished when it was created)."""
    return (
        job.id,
        job.type,
        dump_json(job.payload, "payload"),
        job.priority,
        job.status.value,
        job.attempts,
        job.max_attempts,
        job.run_at.timestamp(),
        job.created_at.timestamp(),
        None if job.started_at is None else job.started_at.timestamp(),
        (job.finished_at or job.created_at).timestamp(),
        job.last_error,
        job.unique_key,
        job.parent_id,
        job.lease_owner,
        job.rescues,
        None if job.result is None else dump_json(job.result, "result"),
    )
