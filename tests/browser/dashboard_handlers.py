"""Handlers for the dashboard's browser tests: ``relayarr serve --import dashboard_handlers``.

Both wait on files the test creates, so a test decides when a job may finish:

* ``gated`` fails (one attempt) while its gate file is missing, with a message that holds
  markup, and completes once the file exists (after a retry from the page);
* ``slow`` reports progress and runs until its gate file exists.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from relayarr.jobqueue import Job, JobQueue

GATE_POLL_SECONDS = 0.05


def _gate(job: Job) -> Path:
    return Path(str(job.payload["gate"]))


def register(queue: JobQueue) -> None:
    @queue.handler("gated", max_attempts=1, breaker=False)
    async def gated(job: Job) -> dict[str, str]:
        gate = _gate(job)
        if not gate.exists():
            raise RuntimeError(f"gate {gate.name} is closed <b>not bold</b>")
        return {"gate": "open"}

    @queue.handler("slow", breaker=False)
    async def slow(job: Job) -> None:
        gate = _gate(job)
        queue.progress(job, 0.5, "waiting for the gate")
        while not gate.exists():  # noqa: ASYNC110 - the test's file is all there is to wait on
            await asyncio.sleep(GATE_POLL_SECONDS)
