"""The library database: SQLAlchemy 2 (async) on SQLite or PostgreSQL, with Alembic
migrations shipped in the package.

>>> await migrate("sqlite:///data/library.db")                  # doctest: +SKIP
>>> store = await LibraryStore.open("sqlite:///data/library.db")

Modules: :mod:`~.models` (tables), :mod:`~.migrate` (Alembic, programmatically),
:mod:`~.store` (the verbs), :mod:`~.queries` (reads and paging), :mod:`~.rows` and
:mod:`~.sync` (a scan written as the difference to what is stored), :mod:`~.records`
(the values the store takes and returns), :mod:`~.engine` (URL and SQLite set-up).
"""

from relayarr.library.db.migrate import MigrationResult, head_revision, migrate
from relayarr.library.db.records import (
    AssetRecord,
    EpisodeRecord,
    EventInfo,
    FileChange,
    FileRecord,
    ItemDetail,
    ItemKind,
    ItemRef,
    ItemSummary,
    JobLinkRecord,
    Page,
    ScanRecord,
    ScanRunRecord,
    ScanStatus,
    SeasonRecord,
)
from relayarr.library.db.store import LibraryStore

__all__ = [
    "AssetRecord",
    "EpisodeRecord",
    "EventInfo",
    "FileChange",
    "FileRecord",
    "ItemDetail",
    "ItemKind",
    "ItemRef",
    "ItemSummary",
    "JobLinkRecord",
    "LibraryStore",
    "MigrationResult",
    "Page",
    "ScanRecord",
    "ScanRunRecord",
    "ScanStatus",
    "SeasonRecord",
    "head_revision",
    "migrate",
]
