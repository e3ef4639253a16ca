"""Metadata: providers (TMDB, fanart.tv), merging with the user's locks, and publishing
Kodi NFOs and artwork beside the media. See ``docs/metadata.md``.

Services, each with one job: :class:`Enricher` (ids -> provider metadata, never raising
a provider failure) and :class:`Publisher` (metadata + folder + video -> files).
"""

from relayarr.metadata.enricher import Enricher, Enrichment, ProviderFailure
from relayarr.metadata.merge import FieldLocks, MergeResult, merge
from relayarr.metadata.models import (
    Actor,
    AnyMetadata,
    Artwork,
    Collection,
    EpisodeMetadata,
    MovieMetadata,
    Rating,
    SeriesMetadata,
    UniqueIds,
)
from relayarr.metadata.providers import Providers, build_providers
from relayarr.metadata.publish import (
    ContentStore,
    FileOutcome,
    Publisher,
    PublishRequest,
    PublishResult,
)
from relayarr.metadata.settings import MetadataSettings
from relayarr.metadata.stores import (
    AssetRecord,
    AssetStore,
    ItemRef,
    LockStore,
    MemoryPublishStore,
    MemoryResponseCache,
    PublishStore,
    ResponseCache,
    WrittenStore,
)

__all__ = [
    "Actor",
    "AnyMetadata",
    "Artwork",
    "AssetRecord",
    "AssetStore",
    "Collection",
    "ContentStore",
    "Enricher",
    "Enrichment",
    "EpisodeMetadata",
    "FieldLocks",
    "FileOutcome",
    "ItemRef",
    "LockStore",
    "MemoryPublishStore",
    "MemoryResponseCache",
    "MergeResult",
    "MetadataSettings",
    "MovieMetadata",
    "ProviderFailure",
    "Providers",
    "PublishRequest",
    "PublishResult",
    "PublishStore",
    "Publisher",
    "Rating",
    "ResponseCache",
    "SeriesMetadata",
    "UniqueIds",
    "WrittenStore",
    "build_providers",
    "merge",
]
