"""One publish of one item, step by step (see :mod:`relayarr.metadata.publish.publisher`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from relayarr.errors import NfoMalformed, PublishError
from relayarr.jobqueue.clock import Clock
from relayarr.metadata.artwork import pick
from relayarr.metadata.fields import FieldValues, field_names, fingerprints, values_of
from relayarr.metadata.merge import FieldLocks, MergeResult, merge
from relayarr.metadata.models import AnyMetadata, EpisodeMetadata
from relayarr.metadata.nfo import NfoDocument, parse_nfo, read_values, render_nfo
from relayarr.metadata.publish import names
from relayarr.metadata.publish.files import SafeFolder
from relayarr.metadata.publish.images import Image, download_image, sniff
from relayarr.metadata.publish.protect import ContentStore, sha256
from relayarr.metadata.publish.results import Action, FileOutcome, PublishRequest, PublishResult
from relayarr.metadata.settings import MetadataSettings
from relayarr.metadata.stores import AssetRecord, ItemRef, PublishStore

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Base:
    """The NFO a publish starts from, and where it was found."""

    document: NfoDocument | None = None
    origin: str = ""
    blocked: bool = False  # an NFO exists but cannot be read: do not write one


class Run:
    """One publish of one item: its state and steps."""

    def __init__(
        self,
        settings: MetadataSettings,
        client: httpx.AsyncClient,
        store: PublishStore,
        content: ContentStore,
        clock: Clock,
        request: PublishRequest[AnyMetadata],
        folder: SafeFolder,
    ) -> None:
        self.settings = settings
        self.client = client
        self.store = store
        self.content = content
        self.clock = clock
        self.request = request
        self.item: ItemRef = request.item
        self.kind = request.kind
        self.folder = folder
        self.outcomes: list[FileOutcome] = []
        self.errors: list[PublishError] = []
        self.records: dict[str, AssetRecord] = {}

    # -- outcomes ----------------------------------------------------------------------

    def note(self, name: str, action: Action, detail: str = "") -> None:
        self.outcomes.append(FileOutcome(name, action, detail))

    def fail(self, error: PublishError) -> None:
        logger.warning("publish file failed", extra={"item": self.item, "error": str(error)})
        self.errors.append(error)
        self.note(error.path, "failed", error.detail)

    def result(self, metadata: AnyMetadata | None, edited: frozenset[str]) -> PublishResult:
        return PublishResult(tuple(self.outcomes), tuple(self.errors), edited, metadata)

    # -- the steps ---------------------------------------------------------------------

    async def go(self) -> PublishResult:
        stem = self._stem(self.request.video)
        self.records = {r.name: r for r in await self.store.assets(self.item)}
        nfo_name = names.nfo_name(self.kind, self.settings.nfo, stem)
        art_bases = self._art_bases(stem)
        old_stems = await asyncio.to_thread(self._old_stems, stem)
        await self._carry_over(old_stems, art_bases)
        await self._restore(nfo_name, art_bases)
        base = await asyncio.to_thread(self._read_base, nfo_name, old_stems)
        locks = await self.store.get_locks(self.item)
        last = await self.store.get_written(self.item) if base.document else None
        merged = merge(
            self.kind,
            provider=self.request.provider,
            webhook=self.request.webhook,
            nfo=read_values(base.document, self.kind) if base.document else {},
            locks=locks,
            last_written=last,
        )
        art_urls, art_locks = await self._artwork(merged, art_bases)
        final_locks = merged.locks
        if art_locks:
            final_locks = FieldLocks(final_locks.fields | art_locks, final_locks.values)
        if final_locks != locks:
            await self.store.set_locks(self.item, final_locks)
        if nfo_name and not base.blocked:
            await self._write_nfo(nfo_name, merged, art_urls, base.document)
        await self._clean(old_stems)
        if merged.edited:
            logger.info(
                "hand edits kept and locked",
                extra={"item": self.item, "fields": sorted(merged.edited)},
            )
        return self.result(merged.metadata, merged.edited | art_locks)

    def _stem(self, video: Path | None) -> str | None:
        if video is None:
            return None
        name = self.folder.relative(video)
        if name is None:
            raise PublishError(str(video), "video is not inside the item folder")
        return names.stem_of(name)

    def _art_bases(self, stem: str | None) -> dict[str, str]:
        kinds: tuple[str, ...] = self.settings.artwork
        if self.kind is EpisodeMetadata:
            kinds = ("thumb",) if kinds else ()
        bases = {k: names.art_base(self.kind, k, self.settings.artwork_style, stem) for k in kinds}
        return {k: b for k, b in bases.items() if b is not None}

    def _old_stems(self, stem: str | None) -> list[str]:
        found = []
        for old in self.request.replaced:
            name = self.folder.relative(old)
            if name is None:
                self.fail(PublishError(str(old), "replaced video is not in the item folder"))
                continue
            old_stem = names.stem_of(name)
            if old.is_file():
                continue  # still there: not replaced after all, its files stay
            if old_stem != stem and old_stem not in found:
                found.append(old_stem)
        return found

    async def _carry_over(self, old_stems: list[str], bases: Mapping[str, str]) -> None:
        """Move the replaced videos' images to the new video's names (the user's own
        included), so nothing is downloaded again and hand-picked art survives."""
        moves = await asyncio.to_thread(self._move_old_art, old_stems, bases)
        for old, new in moves:
            self.note(new, "moved", f"from {old}")
            record = self.records.pop(old, None)
            await self.store.drop_asset(self.item, old)
            if record is not None:
                await self._record(new, record.role, record.sha256, record.size, record.source)

    def _move_old_art(
        self, old_stems: list[str], bases: Mapping[str, str]
    ) -> list[tuple[str, str]]:
        moves = []
        style = self.settings.artwork_style
        for stem in old_stems:
            for art, base in bases.items():
                old_base = names.art_base(self.kind, art, style, stem)
                if old_base is None or old_base == base or self._existing(base) is not None:
                    continue
                old = self._existing(old_base)
                if old is None:
                    continue
                new = base + Path(old[0]).suffix
                try:
                    self.folder.move(old[0], new)
                except PublishError as exc:
                    self.fail(exc)
                    continue
                moves.append((old[0], new))
        return moves

    async def _restore(self, nfo_name: str | None, art_bases: Mapping[str, str]) -> None:
        wanted = {nfo_name} if nfo_name else set()
        for base in art_bases.values():
            wanted.update(names.art_names(base))
        for name in sorted(wanted & self.records.keys()):
            record = self.records[name]
            action = await asyncio.to_thread(self._restore_one, record)
            if action:
                self.note(name, "restored", "from the protected copy")

    def _restore_one(self, record: AssetRecord) -> bool:
        try:
            if self.folder.exists(record.name):
                return False
            data = self.content.get(record.sha256)
            if data is None:
                return False  # no copy: the normal steps write it afresh
            self.folder.write(record.name, data)
            return True
        except PublishError as exc:
            self.fail(exc)
            return False

    def _read_base(self, nfo_name: str | None, old_stems: list[str]) -> _Base:
        if nfo_name is None:
            return _Base()
        candidates = [nfo_name] + [f"{s}.nfo" for s in old_stems]
        for name in candidates:
            try:
                data = self.folder.read(name)
            except PublishError as exc:
                self.fail(exc)
                return _Base(blocked=name == nfo_name)
            if data is not None:
                return self._parse(name, data, blocked_if_bad=name == nfo_name)
        for name in candidates[1:]:
            record = self.records.get(name)
            data = self.content.get(record.sha256) if record else None
            if data is not None:
                return self._parse(name, data, blocked_if_bad=False)
        return _Base()

    def _parse(self, name: str, data: bytes, *, blocked_if_bad: bool) -> _Base:
        try:
            return _Base(parse_nfo(data, name, self.kind), name)
        except NfoMalformed as exc:
            self.fail(exc)
            return _Base(blocked=blocked_if_bad)

    # -- artwork -----------------------------------------------------------------------

    async def _artwork(
        self, merged: MergeResult[AnyMetadata], bases: Mapping[str, str]
    ) -> tuple[dict[str, str], frozenset[str]]:
        urls: dict[str, str] = {}
        new_locks: set[str] = set()
        for art, base in bases.items():
            choice = pick(merged.metadata.artwork, art, self.settings.language)
            if choice is not None:
                urls[art] = choice.url
            try:
                if await self._one_image(art, base, choice.url if choice else None, merged):
                    new_locks.add(art)
            except PublishError as exc:
                self.fail(exc)
        return urls, frozenset(new_locks)

    async def _one_image(
        self, art: str, base: str, url: str | None, merged: MergeResult[AnyMetadata]
    ) -> bool:
        """Publish one image; True when it turned out to be the user's (lock it)."""
        existing = await asyncio.to_thread(self._existing, base)
        if existing is not None:
            name, digest = existing
            record = self.records.get(name)
            if record is None:
                self.note(name, "kept", "not written by relayarr")
                return False
            if record.sha256 != digest:
                self.note(name, "kept", "changed by hand: locked")
                return art not in merged.locks.fields
            if art in merged.locks.fields:
                self.note(name, "kept", "locked")
                return False
            if url is None or record.source == url:
                self.note(name, "unchanged")
                return False
        elif art in merged.locks.fields:
            return False
        if url is None:
            return False
        image = await self._fetch(base, url)
        await self._put_image(art, base, url, image, existing[0] if existing else None)
        return False

    def _existing(self, base: str) -> tuple[str, str] | None:
        for name in names.art_names(base):
            data = self.folder.read(name)
            if data is not None:
                return name, sha256(data)
        return None

    async def _fetch(self, base: str, url: str) -> Image:
        for record in self.records.values():
            if record.source == url:
                data = await asyncio.to_thread(self.content.get, record.sha256)
                found = sniff(data) if data is not None else None
                if data is not None and found is not None:
                    return Image(data, found)
        return await download_image(
            self.client,
            url,
            name=base,
            max_bytes=self.settings.max_image_bytes,
            seconds=self.settings.timeout * 3,
        )

    async def _put_image(
        self, art: str, base: str, url: str, image: Image, previous: str | None
    ) -> None:
        name = base + image.extension
        digest = await asyncio.to_thread(self._write_kept, name, image.data)
        self.note(name, "written")
        await self._record(name, art, digest, len(image.data), url)
        if previous is not None and previous != name:
            await asyncio.to_thread(self.folder.remove, previous)
            await self.store.drop_asset(self.item, previous)
            self.note(previous, "removed", f"replaced by {name}")

    def _write_kept(self, name: str, data: bytes) -> str:
        self.folder.write(name, data)
        return self.content.put(data)

    async def _record(self, name: str, role: str, digest: str, size: int, source: str) -> None:
        record = AssetRecord(
            self.item, str(self.folder.root), name, role, digest, size, source, self.clock.now()
        )
        self.records[name] = record
        await self.store.put_asset(record)

    # -- NFO and cleanup ---------------------------------------------------------------

    async def _write_nfo(
        self,
        name: str,
        merged: MergeResult[AnyMetadata],
        art_urls: Mapping[str, str],
        base: NfoDocument | None,
    ) -> None:
        # Rendering and reading back are XML work on the whole document: off the loop too.
        data = await asyncio.to_thread(
            render_nfo, self.kind, values_of(merged.metadata), art_urls, base
        )
        try:
            current = await asyncio.to_thread(self.folder.read, name)
            if current == data:
                self.note(name, "unchanged")
                digest = sha256(data)
                if self.records.get(name) is None or self.records[name].sha256 != digest:
                    await asyncio.to_thread(self.content.put, data)
            else:
                digest = await asyncio.to_thread(self._write_kept, name, data)
                self.note(name, "written")
        except PublishError as exc:
            self.fail(exc)
            return
        await self._record(name, "nfo", digest, len(data), "")
        # Fingerprints of the file as written, read back: what the next publish compares.
        written = await asyncio.to_thread(self._read_back, data, name)
        await self.store.set_written(self.item, fingerprints(written, field_names(self.kind)))

    def _read_back(self, data: bytes, name: str) -> FieldValues:
        return read_values(parse_nfo(data, name, self.kind), self.kind)

    async def _clean(self, old_stems: list[str]) -> None:
        for stem in old_stems:
            for name in names.stale_names(stem, self.settings.nfo):
                try:
                    removed = await asyncio.to_thread(self.folder.remove, name)
                except PublishError as exc:
                    self.fail(exc)
                    continue
                if removed:
                    self.note(name, "removed", "belonged to the replaced video")
                if name in self.records:
                    await self.store.drop_asset(self.item, name)
                    del self.records[name]


__all__ = ["Run"]
