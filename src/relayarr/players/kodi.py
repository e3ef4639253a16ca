"""Kodi: scan exactly the folder that changed, then verify the item is in the library.

For an addition, the folder goes to ``VideoLibrary.Scan`` in Kodi's own form (mapped,
with the trailing separator Kodi stores; without it Kodi silently adds nothing), then
the notifier polls the library by file path, waiting while ``Library.IsScanning``.
Only when the item is still missing does it scan the whole source once, and verify again.
A change to an item Kodi already has refreshes that item (``VideoLibrary.RefreshMovie``
or ``RefreshEpisode``), which re-reads its NFO. A removal runs ``VideoLibrary.Clean``
limited to the folder, with ``showdialogs: false`` (with dialogs on, a clean that finds
a missing source blocks the HTTP request on a modal dialog), then verifies the item is
gone. Kodi limits a clean to a directory only when the directory's own content matches
the clean's: a movie folder's is "movies", but a show's folder is "seasons" and a season's
"episodes", which no clean accepts (Kodi quietly cleans nothing); so an episode's removal
cleans the tvshows source that holds it, the narrowest directory Kodi allows. Kodi's
scans are asynchronous and answer "OK" at once, whatever the folder.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from relayarr.errors import PlayerPathError
from relayarr.players.change import Action, Kind, MediaChange
from relayarr.players.kodirpc import KodiItem, KodiRpc, same_file
from relayarr.players.notifier import Delivery, Library, Outcome, PlayerInfo, ToPlayer
from relayarr.players.pathforms import as_directory, longest_container
from relayarr.players.settings import PlayerSettings, PlayerType

log = logging.getLogger(__name__)

POLL_FIRST = 0.05
POLL_MAX = 1.0
"""The library is polled after 50 ms, then at doubling intervals up to 1 s: a folder scan
usually lands within a few hundred ms, a long one costs few requests."""
SETTLE_SECONDS = 1.5
"""How long Kodi must be seen idle before a missing item counts as not added: a scan
request is queued before it runs, so a first idle look proves nothing."""

_CONTENT = {Kind.MOVIE: "movies", Kind.EPISODE: "tvshows"}
_REFRESH = {
    Kind.MOVIE: ("VideoLibrary.RefreshMovie", "movieid"),
    Kind.EPISODE: ("VideoLibrary.RefreshEpisode", "episodeid"),
}


class KodiNotifier:
    """Tells one Kodi (JSON-RPC over HTTP, Basic auth) about changes, and verifies them."""

    kind = PlayerType.KODI
    cleans_library = True

    def __init__(
        self,
        settings: PlayerSettings,
        to_player: ToPlayer,
        *,
        poll_first: float = POLL_FIRST,
        settle_seconds: float = SETTLE_SECONDS,
    ) -> None:
        self.name = settings.name
        self._rpc = KodiRpc(settings)
        self._to_player = to_player
        self._verify_timeout = settings.verify_timeout
        self._poll_first = poll_first
        self._settle_seconds = settle_seconds
        self._sources: tuple[Library, ...] | None = None

    async def check(self) -> PlayerInfo:
        version = await self._rpc.version()
        self._sources = await self._rpc.sources()
        return PlayerInfo(version=version, libraries=self._sources)

    async def is_playing(self) -> bool:
        return await self._rpc.playing_video()

    async def aclose(self) -> None:
        await self._rpc.http.aclose()

    async def notify(self, changes: Sequence[MediaChange]) -> Sequence[Delivery]:
        first = changes[0]
        folder = as_directory(self._to_player(first.folder))
        source = await self._source_for(folder)
        targets = [None if c.file is None else self._to_player(c.file) for c in changes]
        if first.action is Action.REMOVED:
            scope = folder if first.kind is Kind.MOVIE else as_directory(source)
            return await self._clean(first.kind, folder, scope, targets)
        if first.action is Action.CHANGED:
            await self._refresh_known(first.kind, folder, targets)
        return await self._scan(first.kind, folder, source, targets)

    # -- the steps ---------------------------------------------------------------------------

    async def _source_for(self, folder: str) -> str:
        """The source path holding ``folder``; sources are read again once on a miss."""
        for attempt in range(2):
            if self._sources is None or attempt:
                self._sources = await self._rpc.sources()
            paths = [path for source in self._sources for path in source.paths]
            found = longest_container(folder, paths)
            if found is not None:
                return found
        known = ", ".join(path for source in self._sources or () for path in source.paths)
        raise PlayerPathError(self.name, folder, f"Kodi's video sources: {known or 'none'}")

    async def _scan(
        self, kind: Kind, folder: str, source: str, targets: list[str | None]
    ) -> list[Delivery]:
        started = time.monotonic()
        await self._rpc.call("VideoLibrary.Scan", {"directory": folder, "showdialogs": False})
        found = await self._settle(lambda: self._all_present(kind, folder, targets))
        how = f"scanned {folder!r}"
        if not found:
            log.info(
                "item not in kodi after a folder scan, scanning its source",
                extra={"player": self.name, "folder": folder, "source": source},
            )
            await self._rpc.call(
                "VideoLibrary.Scan", {"directory": as_directory(source), "showdialogs": False}
            )
            await self._settle(lambda: self._all_present(kind, folder, targets))
            how += f", then the whole source {source!r} (the folder scan did not add it)"
        present = await self._present(kind, folder, targets)
        took = time.monotonic() - started
        return [
            Delivery(Outcome.OK, f"{how}; verified in Kodi's library after {took:.1f} s")
            if target in present
            else Delivery(
                Outcome.FAILED,
                f"{how}, but Kodi's library has no {_what(kind, target, folder)} "
                "(check the source's content type and scraper, and the NFO)",
            )
            for target in targets
        ]

    async def _refresh_known(self, kind: Kind, folder: str, targets: list[str | None]) -> None:
        """Re-read the NFO of items Kodi has already (a scan skips known files)."""
        method, id_key = _REFRESH[kind]
        for item in await self._rpc.items_under(kind, folder):
            if any(target is None or same_file(item.file, target) for target in targets):
                await self._rpc.call(method, {id_key: item.id, "ignorenfo": False})

    async def _clean(
        self, kind: Kind, folder: str, scope: str, targets: list[str | None]
    ) -> list[Delivery]:
        """Clean ``scope`` (the folder, or for episodes its source), then verify that the
        targets under ``folder`` are gone."""
        started = time.monotonic()
        params = {"showdialogs": False, "content": _CONTENT[kind], "directory": scope}
        await self._rpc.call("VideoLibrary.Clean", params)

        async def all_gone() -> bool:
            return not await self._present(kind, folder, targets)

        await self._settle(all_gone)
        left = await self._present(kind, folder, targets)
        took = time.monotonic() - started
        return [
            Delivery(
                Outcome.FAILED,
                f"cleaned {scope!r}, but Kodi still lists {_what(kind, target, folder)} "
                "(does Kodi see the file gone?)",
            )
            if target in left
            else Delivery(
                Outcome.OK, f"cleaned {scope!r}; gone from Kodi's library in {took:.1f} s"
            )
            for target in targets
        ]

    # -- looking -----------------------------------------------------------------------------

    async def _present(self, kind: Kind, folder: str, targets: list[str | None]) -> set[str | None]:
        """Which targets Kodi lists (None: the folder, present when it holds any item)."""
        items: list[KodiItem] = await self._rpc.items_under(kind, folder)
        return {
            target
            for target in targets
            if (items if target is None else [i for i in items if same_file(i.file, target)])
        }

    async def _all_present(self, kind: Kind, folder: str, targets: list[str | None]) -> bool:
        return len(await self._present(kind, folder, targets)) == len(set(targets))

    async def _settle(self, done: Callable[[], Awaitable[bool]]) -> bool:
        """Poll ``done`` until true, or until Kodi has been idle for the settle time (or the
        verify timeout passes); True when ``done`` came true."""
        deadline = time.monotonic() + self._verify_timeout
        idle_since = time.monotonic()
        interval = self._poll_first
        while True:
            if await done():
                return True
            now = time.monotonic()
            if await self._rpc.scanning():
                idle_since = now
            elif now - idle_since >= self._settle_seconds:
                return False
            if now >= deadline:
                return False
            await asyncio.sleep(interval)
            interval = min(interval * 2, POLL_MAX)


def _what(kind: Kind, target: str | None, folder: str) -> str:
    noun = "movie" if kind is Kind.MOVIE else "episode"
    return f"{noun} file {target!r}" if target is not None else f"{noun} under {folder!r}"


__all__ = ["KodiNotifier"]
