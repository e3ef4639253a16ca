"""One line for people about a job of the pipeline: what it is doing, or what it did.

Read from the job's status, last error and result (the shapes the handlers in
:mod:`relayarr.pipeline` return); a result of another shape is shown as short JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import PurePath

from relayarr.cli.output import age
from relayarr.jobqueue import Job, JobStatus, JSONValue
from relayarr.pipeline.jobs import NOTIFY_PLAYERS, RECONCILE, SCAN_MOVIE, SCAN_SERIES, WEBHOOK

WIDTH = 160
"""Characters of a state shown while a chain runs (the outcome at its end is never cut)."""
JSON_WIDTH = 200
"""Characters of a result shown as JSON when its shape is not one this module knows."""


def state(
    job: Job, progress: tuple[float, str | None] | None = None, *, width: int | None = WIDTH
) -> str:
    """Where the job is: ``pending, due in 8s``, ``running 45% ...``, ``completed: ...``,
    ``failed: <error>``; a snoozed job says what it waits for. On one line, cut at
    ``width`` characters (None: never cut)."""
    return _cut(_state(job, progress), width)


def _state(job: Job, progress: tuple[float, str | None] | None) -> str:
    status = job.status
    if status is JobStatus.PENDING:
        due = job.run_at > datetime.now(UTC)
        if job.last_error:
            return f"waiting: {job.last_error} (next look {age(job.run_at)})"
        return f"pending, due {age(job.run_at)}" if due else "pending"
    if status is JobStatus.PROCESSING:
        if progress is None:
            return "running"
        fraction, message = progress
        return f"running {fraction:.0%}" + (f" {message}" if message else "")
    if status is JobStatus.COMPLETED:
        return f"completed: {did(job)}"
    if status is JobStatus.FAILED:
        return f"failed: {job.last_error or 'no error recorded'}"
    return "cancelled"


def did(job: Job) -> str:
    """What a completed job did, from its result."""
    result = job.result
    if not isinstance(result, Mapping):
        return "done" if result is None else _json(result)
    describe = _DESCRIBE.get(job.type)
    if describe is None:
        return _json(result)
    try:
        return describe(result)
    except (KeyError, TypeError, ValueError):
        return _json(result)  # a result of an older or newer shape


def _scan(result: Mapping[str, JSONValue]) -> str:
    name = PurePath(str(result["folder"])).name
    if result.get("gone"):
        return f"{name}: the folder is gone; forgotten, the players told"
    added, changed, removed = (_count(result.get(key)) for key in ("added", "changed", "removed"))
    if result.get("created"):
        text = f"{name}: new, {added} file{_s(added)}"
    elif added or changed or removed:
        text = f"{name}: {added} added, {changed} changed, {removed} removed"
    else:
        text = f"{name}: unchanged"
    if result.get("video"):
        text += f"; video {result['video']}"
    issues = _count(result.get("issue_count"))
    if issues:
        text += f"; {issues} unreadable file{_s(issues)}"
    return text


def _notify(result: Mapping[str, JSONValue]) -> str:
    told = result.get("would_tell")
    if isinstance(told, Mapping):
        return f"no players configured; would tell: {told['action']} {_what(told)}"
    change = result["change"]
    assert isinstance(change, Mapping)
    results = result["results"]
    assert isinstance(results, list)
    players = "; ".join(
        f"{item['player']}: {item['outcome']} ({item['message']})"
        for item in results
        if isinstance(item, Mapping)
    )
    text = f"{change['action']} {_what(change)}: {players or 'every player already told'}"
    next_round = result.get("next_round")
    if isinstance(next_round, Mapping):
        text += f"; asking again in {next_round['in_seconds']} s"
    return text


def _reconcile(result: Mapping[str, JSONValue]) -> str:
    roots = result["roots"]
    assert isinstance(roots, list)
    parts = []
    for root in roots:
        assert isinstance(root, Mapping)
        if "skipped" in root or "error" in root:
            parts.append(f"{root['root']}: {root.get('skipped') or root.get('error')}")
            continue
        counts = ", ".join(f"{root[f'{kind}_count']} {kind}" for kind in _CHANGE_KINDS)
        # The first pass over a root records what the players already hold.
        baseline = root.get("first_pass") and _count(root.get("new_count"))
        first = " (first pass: recorded, players not told)" if baseline else ""
        parts.append(f"{root['root']}: {counts}{first}")
    return "; ".join(parts) or "no library roots"


def _webhook(result: Mapping[str, JSONValue]) -> str:
    action = result["action"]
    folder = result.get("folder")
    return f"{action} {folder}" if folder else str(action)


_CHANGE_KINDS = ("new", "changed", "removed")
_DESCRIBE: dict[str, Callable[[Mapping[str, JSONValue]], str]] = {
    SCAN_MOVIE: _scan,
    SCAN_SERIES: _scan,
    NOTIFY_PLAYERS: _notify,
    RECONCILE: _reconcile,
    WEBHOOK: _webhook,
}


def _what(change: Mapping[str, JSONValue]) -> str:
    return str(change.get("file") or change["folder"])


def _count(value: JSONValue | None) -> int:
    if isinstance(value, list):
        return len(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _s(count: int) -> str:
    return "" if count == 1 else "s"


def _json(value: JSONValue) -> str:
    return _cut(json.dumps(value, ensure_ascii=False), JSON_WIDTH)


def _cut(text: str, width: int | None) -> str:
    line = " ".join(text.split())
    return line if width is None or len(line) <= width else line[: width - 1] + "…"


__all__ = ["did", "state"]
