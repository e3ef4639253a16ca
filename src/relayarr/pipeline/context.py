"""What the handlers are given: the queue and the services, built by the composition root.

Handlers connect services; they never build one. A part of relayarr that is not
configured is None here, and the handlers say so in their results instead of failing
(a fresh install records webhooks until ``[[library.roots]]`` names a library).
"""

from __future__ import annotations

from dataclasses import dataclass

from relayarr.jobqueue import JobQueue
from relayarr.library.db import LibraryStore
from relayarr.library.db.metastore import MetadataStore
from relayarr.library.roots import LibraryRoots
from relayarr.library.scanner import Scanner
from relayarr.metadata import Enricher, MetadataSettings, Publisher
from relayarr.pipeline.resolve import Resolver
from relayarr.players.roster import Roster


@dataclass(frozen=True, slots=True)
class Library:
    """The library services, present once ``[[library.roots]]`` names at least one root.

    ``settle_seconds``: how long a scan waits after the last event for its folder;
    ``reconcile_every``: seconds between reconciliation passes, 0 for none.
    """

    resolver: Resolver
    roots: LibraryRoots
    scanner: Scanner
    store: LibraryStore
    settle_seconds: float
    reconcile_every: float


@dataclass(frozen=True, slots=True)
class Metadata:
    """The metadata services, present once ``[metadata]`` says what to publish (and a
    library holds the items): the enricher (no provider key: it asks nobody), the
    publisher, and their tables in the library database."""

    settings: MetadataSettings
    enricher: Enricher
    publisher: Publisher
    store: MetadataStore


@dataclass(frozen=True, slots=True)
class PipelineContext:
    """Everything a handler may use."""

    queue: JobQueue
    library: Library | None = None
    players: Roster | None = None
    metadata: Metadata | None = None


__all__ = ["Library", "Metadata", "PipelineContext"]
