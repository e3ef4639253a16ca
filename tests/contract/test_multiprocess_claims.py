"""Several OS processes claim and complete from one database at once: no job is claimed
twice and none is lost. Real processes, real clock; only engines that share across
processes (``capabilities.multi_process``) take part."""

from __future__ import annotations

import asyncio
import json
import sys
from collections import Counter
from typing import TypedDict

import pytest

from relayarr.jobqueue.models import JobQuery, JobStatus, NewJob
from relayarr.jobqueue.storage import open_storage
from relayarr.jobqueue.testing import ContractBase

pytestmark = pytest.mark.slow

PROCESSES = 4
JOBS = 2_000
JOB_TYPE = "contract-mp"


class Report(TypedDict):
    claimed: list[int]
    lost: int  # completions refused with LeaseLost


# Each worker says "ready", waits for "go" so all start claiming together, then claims and
# completes until nothing is left, and reports what it claimed as one JSON line.
WORKER = """
import asyncio, json, sys
from relayarr.jobqueue.errors import LeaseLost
from relayarr.jobqueue.storage import open_storage

async def main(url, owner, job_type):
    storage = await open_storage(url, create=False)
    claimed, lost = [], 0
    try:
        print("ready", flush=True)
        sys.stdin.readline()
        while jobs := await storage.claim(owner, [job_type], 5, 600.0):
            for job in jobs:
                claimed.append(job.id)
                try:
                    await storage.complete(job.lease, json.dumps({"by": owner}))
                except LeaseLost:
                    lost += 1
    finally:
        await storage.aclose()
    print(json.dumps({"claimed": claimed, "lost": lost}), flush=True)

asyncio.run(main(*sys.argv[1:]))
"""


async def run_workers(url: str) -> dict[str, Report]:
    """Start the workers, release them together, and collect their reports by owner."""
    owners = [f"proc-{index}" for index in range(PROCESSES)]
    processes: list[asyncio.subprocess.Process] = []
    try:
        for owner in owners:
            processes.append(
                await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-c",
                    WORKER,
                    url,
                    owner,
                    JOB_TYPE,
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
            )
        for process in processes:
            assert process.stdout is not None
            line = await asyncio.wait_for(process.stdout.readline(), timeout=120)
            if line != b"ready\n":
                assert process.stderr is not None
                errors = (await process.stderr.read()).decode(errors="replace")
                raise AssertionError(f"worker did not start: {line!r}\n{errors}")
        outputs = await asyncio.wait_for(
            asyncio.gather(*(process.communicate(b"go\n") for process in processes)), timeout=600
        )
    finally:
        for process in processes:
            if process.returncode is None:
                process.kill()
                await process.wait()
    reports: dict[str, Report] = {}
    for owner, process, (stdout, stderr) in zip(owners, processes, outputs, strict=True):
        assert process.returncode == 0, stderr.decode(errors="replace")
        reports[owner] = json.loads(stdout.decode().splitlines()[-1])
    return reports


async def test_processes_never_claim_a_job_twice(queue_url: str) -> None:
    storage = await open_storage(queue_url)
    try:
        if not storage.capabilities.multi_process:
            pytest.skip(f"{storage.capabilities.engine}: one process only, by capability")
        now = storage.clock.now()
        added = await storage.add([NewJob.create(JOB_TYPE, {"n": n}, now=now) for n in range(JOBS)])
        expected = {result.job.id for result in added}

        reports = await run_workers(queue_url)

        claims = Counter(job_id for report in reports.values() for job_id in report["claimed"])
        assert [job_id for job_id, count in claims.items() if count > 1] == []
        assert set(claims) == expected
        assert [report["lost"] for report in reports.values()] == [0] * PROCESSES
        claimed_by = {
            job_id: owner for owner, report in reports.items() for job_id in report["claimed"]
        }
        history = await ContractBase.list_all(storage, JobQuery(limit=500))
        assert {job.id for job in history} == expected
        for job in history:
            assert job.status is JobStatus.COMPLETED
            assert job.attempts == 1
            assert job.result == {"by": claimed_by[job.id]}
        assert len([owner for owner, report in reports.items() if report["claimed"]]) > 1, (
            "only one process ever claimed: the test did not exercise concurrency"
        )
    finally:
        await storage.aclose()
