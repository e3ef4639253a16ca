"""The chain of jobs one job set off: its follow-ups, theirs, and so on, as a tree.

Every follow-up records its parent (:mod:`relayarr.pipeline.jobs`), so the chain of a
webhook is the tree below its job::

    >>> tree = await descendants(queue, webhook_job)          # doctest: +SKIP
    >>> [node.job.type for node in tree.walk()]
    ['webhook', 'scan-movie', 'notify-players']

The API (``GET /api/v1/jobs/{id}``), the dashboard's job page and ``relayarr scan --wait``
read chains through here. Trees are bounded (:data:`MAX_NODES`, :data:`MAX_DEPTH`), so a
runaway chain cannot stall a page or a command; ``more`` marks where jobs were left out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from relayarr.jobqueue import Job, JobNotFound, JobQuery, JobQueue, JSONObject, JSONValue

MAX_DEPTH = 20
MAX_NODES = 300
CHILDREN_PER_NODE = 100


@dataclass(frozen=True, slots=True)
class Node:
    """A job and its follow-ups (oldest first); ``more`` says some were left out."""

    job: Job
    children: tuple[Node, ...]
    more: bool

    def walk(self) -> Iterator[Node]:
        """This node, then every node below it, depth first (the order jobs ran in)."""
        yield self
        for child in self.children:
            yield from child.walk()

    @property
    def size(self) -> int:
        return sum(1 for _ in self.walk())

    def to_json(self) -> JSONObject:
        """The tree as JSON (each job without its payload, which can be large: a
        webhook's whole body)."""
        job = self.job
        children: list[JSONValue] = [child.to_json() for child in self.children]
        return {
            "id": job.id,
            "type": job.type,
            "status": job.status.value,
            "attempts": job.attempts,
            "max_attempts": job.max_attempts,
            "run_at": job.run_at.isoformat(),
            "finished_at": job.finished_at.isoformat() if job.finished_at else None,
            "last_error": job.last_error,
            "result": job.result,
            "children": children,
            "more": self.more,
        }

    @property
    def finished(self) -> bool:
        """True once every job of the tree is finished and none was left out: nothing
        more can join it (a job adds its follow-ups as it completes, atomically)."""
        return all(node.job.status.is_terminal and not node.more for node in self.walk())


async def descendants(
    queue: JobQueue, job: Job, *, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH
) -> Node:
    """The tree below ``job`` (itself included), at most ``max_nodes`` jobs."""
    budget = max_nodes - 1

    async def grow(node_job: Job, depth: int) -> Node:
        nonlocal budget
        if depth >= max_depth or budget <= 0:
            page = await queue.list_jobs(JobQuery(parent_id=node_job.id, limit=1))
            return Node(node_job, (), more=bool(page.jobs))
        page = await queue.list_jobs(JobQuery(parent_id=node_job.id, limit=CHILDREN_PER_NODE))
        kids = sorted(page.jobs, key=lambda child: child.id)[:budget]
        budget -= len(kids)
        more = page.next_cursor is not None or len(kids) < len(page.jobs)
        children = [await grow(kid, depth + 1) for kid in kids]
        return Node(node_job, tuple(children), more)

    return await grow(job, 0)


async def first_of_chain(queue: JobQueue, job: Job) -> tuple[Job, bool]:
    """The job that started ``job``'s chain (its parent's parent...), and whether a parent
    was missing on the way (pruned from history), in which case the oldest one found."""
    root = job
    for _ in range(MAX_DEPTH):
        if root.parent_id is None:
            return root, False
        try:
            root = await queue.get_job(root.parent_id)
        except JobNotFound:
            return root, True
    return root, False


__all__ = ["CHILDREN_PER_NODE", "MAX_DEPTH", "MAX_NODES", "Node", "descendants", "first_of_chain"]
