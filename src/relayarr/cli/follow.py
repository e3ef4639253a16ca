"""Following a chain of jobs to its end, for ``relayarr scan --wait``.

The chain (the job and every follow-up it set off, :mod:`relayarr.pipeline.chain`) is
read from storage a few times a second; progress comes from the shared event log, where
workers in any process publish it (a reconciliation reports each root's share of folders
examined). While it runs, stderr shows it: a live tree on a terminal, otherwise one line
each time a job's state changes. Nothing here runs a job: a worker (``relayarr serve``
or ``relayarr worker``) must be running, and a hint says so when none takes the job.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from types import TracebackType
from typing import Protocol

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.text import Text

from relayarr.cli.outcome import WIDTH, state
from relayarr.jobqueue import EventKind, Job, JobQueue, JobStatus, Storage
from relayarr.jobqueue.relay import EventRelay
from relayarr.pipeline.chain import Node, descendants

POLL_SECONDS = 0.2
IDLE_HINT_SECONDS = 10.0
"""A due job nobody has taken for this long gets the hint that no worker may be running."""
LINE_PROGRESS_SECONDS = 1.0
"""Progress lines (not on a terminal) are printed at most this often per job."""

Progress = dict[int, tuple[float, str | None]]
"""The latest progress of each job: fraction done and message."""


class Display(Protocol):
    """Shows the chain as it runs."""

    def update(self, tree: Node, progress: Progress) -> None: ...

    def note(self, text: str) -> None: ...

    def __enter__(self) -> Display: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


async def follow_chain(
    queue: JobQueue,
    job: Job,
    display: Display,
    *,
    after_event: int | None,
) -> Node:
    """Wait until every job of ``job``'s chain is finished; the final tree.

    ``after_event`` is the shared event log's last id from before the job was added
    (None: no progress is shown). Bound it with ``asyncio.timeout`` if need be.
    """
    progress: Progress = {}
    reader = (
        asyncio.create_task(_read_progress(queue.storage, after_event, progress))
        if after_event is not None
        else None
    )
    hinted = False
    try:
        while True:
            root = await queue.get_job(job.id)
            tree = await descendants(queue, root)
            display.update(tree, progress)
            if tree.finished:
                return tree
            if not hinted and _unclaimed(tree):
                display.note(
                    "no worker has taken the job yet: is `relayarr serve` or `relayarr worker`"
                    " running on this queue?"
                )
                hinted = True
            await asyncio.sleep(POLL_SECONDS)
    finally:
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader


async def _read_progress(storage: Storage, after: int, progress: Progress) -> None:
    async for event in EventRelay(storage).follow(after):
        if event.kind is EventKind.PROGRESS and event.job_id is not None:
            fraction = event.data.get("fraction")
            message = event.data.get("message")
            if isinstance(fraction, int | float):
                progress[event.job_id] = (
                    float(fraction),
                    message if isinstance(message, str) else None,
                )


def _unclaimed(tree: Node) -> bool:
    job = tree.job
    if job.status is not JobStatus.PENDING or job.attempts or job.last_error:
        return False
    return (datetime.now(UTC) - job.run_at).total_seconds() > IDLE_HINT_SECONDS


def failures(tree: Node) -> list[Job]:
    """The jobs of a finished chain that did not complete."""
    return [node.job for node in tree.walk() if node.job.status is not JobStatus.COMPLETED]


def lines(
    tree: Node, progress: Progress | None = None, *, width: int | None = WIDTH
) -> list[tuple[int, Job | None, str]]:
    """(depth, job, state) for every job of the tree, depth first; a job of None marks
    where follow-ups were left out (the tree is bounded). States are cut at ``width``."""
    found: list[tuple[int, Job | None, str]] = []

    def visit(node: Node, depth: int) -> None:
        job = node.job
        found.append((depth, job, state(job, (progress or {}).get(job.id), width=width)))
        for child in node.children:
            visit(child, depth + 1)
        if node.more:
            found.append((depth + 1, None, MORE))

    visit(tree, 0)
    return found


MORE = "… more follow-ups, not shown"


def label(job: Job | None) -> str:
    return "" if job is None else f"{job.type} #{job.id}"


class LiveDisplay:
    """A live tree of the chain on the terminal (stderr), gone once it ends."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._spinner = Spinner("dots")
        self._live = Live(console=console, transient=True, refresh_per_second=8)

    def update(self, tree: Node, progress: Progress) -> None:
        rows = []
        for depth, job, text in lines(tree, progress):
            line = Text("  " * depth + ("└ " if depth else ""))
            line.append(label(job), style="bold")
            line.append(f"  {text}")
            rows.append(line)
        self._live.update(Group(self._spinner, *rows))

    def note(self, text: str) -> None:
        self._console.print(text, style="yellow")

    def __enter__(self) -> LiveDisplay:
        self._live.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._live.stop()


class LineDisplay:
    """One line on stderr each time a job appears or its state changes (for logs and
    pipes); progress of a running job at most every :data:`LINE_PROGRESS_SECONDS`."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._shown: dict[int, object] = {}
        self._progress_at: dict[int, float] = {}

    def update(self, tree: Node, progress: Progress) -> None:
        for _, job, text in lines(tree, progress):
            if job is None:
                continue
            # What the job is, not how it reads: "due in 59s" changes every second.
            key = (job.status, job.attempts, job.last_error, job.run_at, progress.get(job.id))
            if self._shown.get(job.id) == key:
                continue
            if job.status is JobStatus.PROCESSING and job.id in progress:
                now = time.monotonic()
                if now - self._progress_at.get(job.id, -LINE_PROGRESS_SECONDS) < (
                    LINE_PROGRESS_SECONDS
                ):
                    continue
                self._progress_at[job.id] = now
            self._shown[job.id] = key
            self._console.print(f"{label(job)}: {text}", soft_wrap=True, highlight=False)

    def note(self, text: str) -> None:
        self._console.print(f"note: {text}", soft_wrap=True, highlight=False)

    def __enter__(self) -> LineDisplay:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class QuietDisplay(LineDisplay):
    """Nothing while it runs (``--json`` into a pipe: the document is the output)."""

    def update(self, tree: Node, progress: Progress) -> None:
        return None


def display_for(*, quiet: bool) -> Display:
    """The live tree on a terminal; lines otherwise; nothing when ``quiet`` off a terminal."""
    console = Console(stderr=True, highlight=False)
    if console.is_terminal:
        return LiveDisplay(console)
    return QuietDisplay(console) if quiet else LineDisplay(console)


__all__ = [
    "Display",
    "LineDisplay",
    "LiveDisplay",
    "Progress",
    "QuietDisplay",
    "display_for",
    "failures",
    "follow_chain",
    "label",
    "lines",
]
