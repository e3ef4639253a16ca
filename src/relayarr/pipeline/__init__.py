"""The job handlers of relayarr's media pipeline, and :func:`register` to install them.

Handlers connect services and create the follow-up jobs; the rules live in the services
(:mod:`relayarr.library`, the players, metadata). The chain of one webhook, each job the
parent of the next (see :mod:`relayarr.pipeline.jobs` for the payloads)::

    webhook ─► scan-movie | scan-series ─► enrich ─► publish ─► notify-players
          │                        └──────► notify-players   (no [metadata])
          └──► notify-players   (deletes)
    reconcile ─► scan-* | notify-players   (what changed on disk since the last scans)
    prune-history ─► prune-history   (daily, when [queue] history_days is set)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

from relayarr.jobqueue import Job, JobQueue
from relayarr.pipeline.context import Library, Metadata, PipelineContext
from relayarr.pipeline.enrich import (
    ENRICH_ATTEMPTS,
    METADATA_TIMEOUT,
    PUBLISH_ATTEMPTS,
    handle_enrich,
)
from relayarr.pipeline.jobs import (
    ENRICH,
    NOTIFY_PLAYERS,
    PUBLISH,
    RECONCILE,
    SCAN_MOVIE,
    SCAN_SERIES,
    WEBHOOK,
)
from relayarr.pipeline.notify import handle_notify_players
from relayarr.pipeline.publish import handle_publish
from relayarr.pipeline.reconcile import handle_reconcile, reconcile_now, schedule_reconcile
from relayarr.pipeline.retention import PRUNE_HISTORY, handle_prune_history, schedule_retention
from relayarr.pipeline.scan import handle_scan
from relayarr.pipeline.webhook import handle_webhook
from relayarr.players.roster import Roster

SCAN_TIMEOUT = 600.0
"""Seconds a scan may run: a folder on a stalled network mount must not hold a worker
slot for ever (its lease is kept alive by heartbeats meanwhile)."""


def register(
    queue: JobQueue,
    library: Library | None = None,
    players: Roster | None = None,
    metadata: Metadata | None = None,
    *,
    history_days: float = 0.0,
) -> PipelineContext:
    """Register the pipeline's handlers on ``queue`` (called by the composition root);
    ``history_days`` is how long the daily prune keeps finished jobs (0: all of them)."""
    ctx = PipelineContext(queue=queue, library=library, players=players, metadata=metadata)

    def bind(
        fn: Callable[[PipelineContext, Job], Awaitable[object]],
    ) -> Callable[[Job], Awaitable[object]]:
        return partial(fn, ctx)

    queue.register(WEBHOOK, bind(handle_webhook))
    queue.register(SCAN_MOVIE, bind(handle_scan), timeout=SCAN_TIMEOUT)
    queue.register(SCAN_SERIES, bind(handle_scan), timeout=SCAN_TIMEOUT)
    queue.register(RECONCILE, bind(handle_reconcile), max_attempts=3)
    queue.register(NOTIFY_PLAYERS, bind(handle_notify_players), max_attempts=3)
    # Registered even when off: a prune scheduled under an earlier configuration must end.
    queue.register(PRUNE_HISTORY, partial(handle_prune_history, queue, history_days))
    queue.register(
        ENRICH, bind(handle_enrich), max_attempts=ENRICH_ATTEMPTS, timeout=METADATA_TIMEOUT
    )
    queue.register(
        PUBLISH, bind(handle_publish), max_attempts=PUBLISH_ATTEMPTS, timeout=METADATA_TIMEOUT
    )
    return ctx


__all__ = [
    "ENRICH",
    "NOTIFY_PLAYERS",
    "PRUNE_HISTORY",
    "PUBLISH",
    "RECONCILE",
    "SCAN_MOVIE",
    "SCAN_SERIES",
    "WEBHOOK",
    "Library",
    "Metadata",
    "PipelineContext",
    "reconcile_now",
    "register",
    "schedule_reconcile",
    "schedule_retention",
]
