"""``GET /api/v1/jobs/{id}`` shows the whole chain a job set off, as a bounded tree."""

from __future__ import annotations

from typing import Any

from relayarr.jobqueue import JobSpec
from relayarr.pipeline.chain import CHILDREN_PER_NODE, MAX_DEPTH

from .conftest import Service


def ids(node: dict[str, Any]) -> list[Any]:
    """The tree as nested [id, [children...]] lists."""
    return [node["id"], [ids(child) for child in node["children"]]]


def walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [node, *(n for child in node["children"] for n in walk(child))]


async def test_the_chain_nests_every_descendant_under_the_job(service: Service) -> None:
    queue = service.queue
    webhook = await queue.add_job("webhook", {"body": {}})
    scan = await queue.add_job("scan-movie", {"folder": "/m/A"}, parent_id=webhook.id)
    notify = await queue.add_job("notify-players", {"n": 1}, parent_id=scan.id)
    removal = await queue.add_job("notify-players", {"n": 2}, parent_id=scan.id)
    unrelated = await queue.add_job("webhook", {"body": {}})

    detail = (await service.client.get(f"/api/v1/jobs/{webhook.id}")).json()

    chain = detail["chain"]
    assert ids(chain) == [webhook.id, [[scan.id, [[notify.id, []], [removal.id, []]]]]]
    assert [chain["children"][0]["type"], chain["children"][0]["status"]] == [
        "scan-movie",
        "pending",
    ]
    assert chain["more"] is False
    assert detail["chain_finished"] is False
    assert unrelated.id not in [node["id"] for node in walk(chain)]
    # From the middle of the chain, the tree is what that job set off.
    middle = (await service.client.get(f"/api/v1/jobs/{scan.id}")).json()
    assert ids(middle["chain"]) == [scan.id, [[notify.id, []], [removal.id, []]]]


async def test_the_chain_is_finished_once_every_job_is(service: Service) -> None:
    queue = service.queue
    webhook = await queue.add_job("webhook", {"body": {}})
    scan = await queue.add_job("scan-movie", {"folder": "/m/A"}, parent_id=webhook.id)
    await queue.cancel_job(webhook.id)
    detail = (await service.client.get(f"/api/v1/jobs/{webhook.id}")).json()
    assert detail["chain_finished"] is False  # the scan still waits
    await queue.cancel_job(scan.id)
    detail = (await service.client.get(f"/api/v1/jobs/{webhook.id}")).json()
    assert detail["chain_finished"] is True
    assert detail["chain"]["children"][0]["status"] == "cancelled"


async def test_a_wide_chain_is_cut_and_says_so(service: Service) -> None:
    queue = service.queue
    root = await queue.add_job("webhook", {"body": {}})
    await queue.add_jobs(
        JobSpec("notify-players", {"n": n}, parent_id=root.id) for n in range(CHILDREN_PER_NODE + 5)
    )
    chain = (await service.client.get(f"/api/v1/jobs/{root.id}")).json()["chain"]
    assert len(chain["children"]) == CHILDREN_PER_NODE
    assert chain["more"] is True
    first = chain["children"][0]["id"]
    assert first == min(child["id"] for child in chain["children"])  # oldest first


async def test_a_deep_chain_is_cut_and_says_so(service: Service) -> None:
    queue = service.queue
    jobs = [await queue.add_job("webhook", {"body": {}})]
    for _ in range(MAX_DEPTH + 2):
        jobs.append(await queue.add_job("scan-movie", {}, parent_id=jobs[-1].id))
    response = await service.client.get(f"/api/v1/jobs/{jobs[0].id}")
    node = response.json()["chain"]
    depth = 0
    while node["children"]:
        (node,) = node["children"]
        depth += 1
    assert depth == MAX_DEPTH
    assert node["more"] is True  # the jobs below it exist but are not shown
    assert response.json()["chain_finished"] is False
