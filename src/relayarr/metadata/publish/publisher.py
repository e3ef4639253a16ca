"""The Publisher: metadata + folder + video file -> NFO and artwork beside the media.

One :meth:`Publisher.publish` call, in order:

1. **Restore**: files relayarr published for this item that are gone (an *arr upgrade
   deleted them) come back from the protected copies, without a provider call.
2. **Read** the existing NFO (or, after an upgrade renamed the video, the old video's NFO
   or its protected copy). A malformed one is reported and left untouched.
3. **Merge** provider, webhook and NFO values with the item's locks; fields edited by
   hand since relayarr last wrote them become locked.
4. **Artwork**: per configured type, the best candidate is downloaded (or taken from a
   protected copy of the same URL) and written, unless the file there is not relayarr's
   (then it is kept, and locked if it replaced relayarr's).
5. **NFO**: written when its bytes change, with everything relayarr does not manage kept.
6. **Clean up** the NFO and artwork of the videos this one replaced.

Each file's outcome is reported; one file failing never stops the others.
"""

from __future__ import annotations

import asyncio
from typing import TypeVar, cast

import httpx

from relayarr.errors import PublishError
from relayarr.jobqueue.clock import Clock, SystemClock
from relayarr.metadata.models import AnyMetadata
from relayarr.metadata.publish.files import SafeFolder
from relayarr.metadata.publish.protect import ContentStore
from relayarr.metadata.publish.results import PublishRequest, PublishResult
from relayarr.metadata.publish.run import Run
from relayarr.metadata.settings import MetadataSettings
from relayarr.metadata.stores import PublishStore

M = TypeVar("M", bound=AnyMetadata)


class Publisher:
    """Writes NFOs and artwork for items; see the module docstring for the steps."""

    def __init__(
        self,
        settings: MetadataSettings,
        *,
        client: httpx.AsyncClient,
        store: PublishStore,
        content: ContentStore,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._client = client
        self._store = store
        self._content = content
        self._clock = clock or SystemClock()

    async def publish(self, request: PublishRequest[M]) -> PublishResult:
        """Publish one item; every file's outcome (and error) is in the result."""
        try:
            folder = await asyncio.to_thread(SafeFolder, request.folder)
        except PublishError as exc:
            return PublishResult(errors=(exc,))
        run = Run(
            self._settings,
            self._client,
            self._store,
            self._content,
            self._clock,
            cast(PublishRequest[AnyMetadata], request),
            folder,
        )
        try:
            return await run.go()
        except PublishError as exc:  # a folder-wide problem (video outside the folder)
            run.fail(exc)
            return run.result(None, frozenset())


__all__ = ["Publisher"]
