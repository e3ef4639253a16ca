"""Publishing metadata beside the media: Kodi NFOs and artwork, atomically and safely."""

from relayarr.metadata.publish.files import SafeFolder, atomic_write
from relayarr.metadata.publish.protect import ContentStore
from relayarr.metadata.publish.publisher import Publisher
from relayarr.metadata.publish.results import (
    FileOutcome,
    PublishRequest,
    PublishResult,
)

__all__ = [
    "ContentStore",
    "FileOutcome",
    "PublishRequest",
    "PublishResult",
    "Publisher",
    "SafeFolder",
    "atomic_write",
]
