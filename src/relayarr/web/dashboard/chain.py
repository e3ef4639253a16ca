"""The chain a job belongs to: up its parents to the first job (the webhook), then every
follow-up down from there, as a tree. Bounded, so a runaway chain cannot stall a page."""

from __future__ import annotations

from dataclasses import dataclass

from relayarr.jobqueue import Job, JobNotFound, JobQuery, JobQueue

MAX_DEPTH = 20
MAX_NODES = 300
CHILDREN_PER_NODE = 100


@dataclass(frozen=True, slots=True)
class Node:
    """A job and its follow-ups (oldest first); ``more`` says some were left out."""

    job: Job
    children: tuple[Node, ...]
    more: bool


@dataclass(frozen=True, slots=True)
class Chain:
    """The tree from the first job; ``root_missing`` when a parent was pruned from history."""

    root: Node
    root_missing: bool
    size: int


async def chain_of(queue: JobQueue, job: Job) -> Chain:
    """The whole chain ``job`` is part of (at most :data:`MAX_NODES` jobs)."""
    root = job
    root_missing = False
    for _ in range(MAX_DEPTH):
        if root.parent_id is None:
            break
        try:
            root = await queue.get_job(root.parent_id)
        except JobNotFound:
            root_missing = True
            break
    budget = [MAX_NODES - 1]

    async def grow(node_job: Job, depth: int) -> Node:
        if depth >= MAX_DEPTH or budget[0] <= 0:
            return Node(node_job, (), more=True)
        page = await queue.list_jobs(JobQuery(parent_id=node_job.id, limit=CHILDREN_PER_NODE))
        kids = sorted(page.jobs, key=lambda child: child.id)[: budget[0]]
        budget[0] -= len(kids)
        more = page.next_cursor is not None or len(kids) < len(page.jobs)
        children = [await grow(kid, depth + 1) for kid in kids]
        return Node(node_job, tuple(children), more)

    tree = await grow(root, 0)
    return Chain(tree, root_missing, MAX_NODES - budget[0])


__all__ = ["MAX_NODES", "Chain", "Node", "chain_of"]
