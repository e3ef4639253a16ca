"""The chain a job belongs to: up its parents to the first job (the webhook), then every
follow-up down from there, as a tree (:mod:`relayarr.pipeline.chain`, bounded, so a
runaway chain cannot stall a page)."""

from __future__ import annotations

from dataclasses import dataclass

from relayarr.jobqueue import Job, JobQueue
from relayarr.pipeline.chain import MAX_NODES, Node, descendants, first_of_chain


@dataclass(frozen=True, slots=True)
class Chain:
    """The tree from the first job; ``root_missing`` when a parent was pruned from history."""

    root: Node
    root_missing: bool
    size: int


async def chain_of(queue: JobQueue, job: Job) -> Chain:
    """The whole chain ``job`` is part of (at most :data:`MAX_NODES` jobs)."""
    first, root_missing = await first_of_chain(queue, job)
    tree = await descendants(queue, first)
    return Chain(tree, root_missing, tree.size)


__all__ = ["MAX_NODES", "Chain", "Node", "chain_of"]
