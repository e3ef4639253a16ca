"""Library artwork for the dashboard: ``GET /library/{kind}/{id}/art/{asset_id}``.

The request names ids only, never a path. An image is served when all of these hold, and
refused with :class:`~relayarr.errors.ArtworkRefused` (404) otherwise:

- the library database lists the asset as one of that item's assets;
- the file, with its symlinks resolved, lies inside the library root the item belongs to
  (a poster swapped for a symlink to ``/etc`` after the scan leads nowhere);
- it is a regular file of at most :data:`MAX_BYTES` whose first bytes are a JPEG, PNG, GIF
  or WebP signature; the content type is the one those bytes prove, never the name's.

The file is opened once, checked, and streamed from that same open file in a worker
thread, so nothing swapped in between the check and the read is sent.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, BinaryIO, Literal

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from starlette.responses import Response, StreamingResponse

from relayarr.errors import ArtworkRefused, ItemNotFound, OutsideLibrary
from relayarr.library.db import ItemDetail, ItemKind
from relayarr.library.db.records import AssetRecord
from relayarr.library.roots import LibraryRoots
from relayarr.web.context import WebContext, context
from relayarr.web.dashboard.guard import RequireSession
from relayarr.web.routes.library import library_of

log = logging.getLogger(__name__)

MAX_BYTES = 32 * 1024 * 1024
CHUNK = 64 * 1024
CACHE = "private, max-age=300"
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),  # after "RIFF" and the length
)

router = APIRouter(include_in_schema=False)
Ctx = Annotated[WebContext, Depends(context)]
Id = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
Kind = Literal["movie", "series"]


def sniff(head: bytes) -> str | None:
    """The image type the first bytes of a file prove, or None."""
    for signature, offset, content_type in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            if content_type == "image/webp" and not head.startswith(b"RIFF"):
                continue
            return content_type
    return None


def choose_poster(assets: Iterable[AssetRecord]) -> AssetRecord | None:
    """The item's poster: the folder's own (``poster.jpg``) before a video's
    (``<video>-poster.jpg``), the first of several, then by path; None without one."""
    posters = [a for a in assets if a.kind == "poster" and a.scope in ("folder", "video")]
    if not posters:
        return None
    return min(posters, key=lambda a: (a.scope != "folder", a.position or 0, a.path))


@dataclass(frozen=True, slots=True)
class OpenImage:
    """An image opened and checked, ready to stream."""

    file: BinaryIO
    content_type: str
    etag: str


def open_artwork(detail: ItemDetail, asset_id: int, roots: LibraryRoots) -> OpenImage:
    """Open asset ``asset_id`` of ``detail``'s item after the checks in the module docs.

    Blocking (it touches the disk): call it in a thread. Raises :class:`ArtworkRefused`.
    """
    item = detail.item
    asset = next((a for a in detail.assets if a.id == asset_id), None)
    if asset is None:
        raise ArtworkRefused(f"the {item.kind.value} {item.id} has no asset {asset_id}")
    try:
        located = roots.locate(asset.path)
    except OutsideLibrary as exc:
        _refused(detail, asset, "outside every library root")
        raise ArtworkRefused(f"asset {asset_id} is not served: {exc}") from None
    if located.root.path != Path(item.root):
        _refused(detail, asset, "outside the item's library root")
        raise ArtworkRefused(f"asset {asset_id} lies outside the root of its item ({item.root})")
    try:
        # O_NOFOLLOW: the checked name must not have become a symlink since; O_NONBLOCK: a
        # FIFO put in the poster's place must not hang the request on open.
        fd = os.open(located.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ArtworkRefused(f"asset {asset_id} is gone from disk: {asset.path}") from None
    except OSError as exc:
        _refused(detail, asset, f"cannot be opened: {exc.strerror}")
        raise ArtworkRefused(f"asset {asset_id} cannot be opened: {exc.strerror}") from None
    file = os.fdopen(fd, "rb")
    try:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ArtworkRefused(f"asset {asset_id} is not a regular file")
        if info.st_size > MAX_BYTES:
            raise ArtworkRefused(f"asset {asset_id} is larger than {MAX_BYTES} bytes")
        content_type = sniff(file.read(16))
        if content_type is None:
            _refused(detail, asset, "not a JPEG, PNG, GIF or WebP image")
            raise ArtworkRefused(f"asset {asset_id} is not a JPEG, PNG, GIF or WebP image")
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return OpenImage(file, content_type, f'"{info.st_size:x}-{info.st_mtime_ns:x}"')


def _refused(detail: ItemDetail, asset: AssetRecord, reason: str) -> None:
    log.warning(
        "dashboard artwork refused",
        extra={
            "item_kind": detail.item.kind.value,
            "item_id": detail.item.id,
            "asset_id": asset.id,
            "reason": reason,
        },
    )


async def _stream(file: BinaryIO) -> AsyncIterator[bytes]:
    try:
        sent = 0
        while sent < MAX_BYTES and (chunk := await asyncio.to_thread(file.read, CHUNK)):
            sent += len(chunk)
            yield chunk
    finally:
        file.close()


async def item_detail(ctx: WebContext, kind: Kind, item_id: int) -> ItemDetail:
    """The item from the library database; :class:`ItemNotFound` when there is none."""
    store = library_of(ctx).store
    detail = await (store.get_movie(item_id) if kind == "movie" else store.get_series(item_id))
    if detail is None:
        raise ItemNotFound(f"no {kind} with id {item_id}")
    return detail


@router.get("/library/{kind}/{item_id}/art/{asset_id}")
async def artwork(
    request: Request, ctx: Ctx, _: RequireSession, kind: Kind, item_id: Id, asset_id: Id
) -> Response:
    library = library_of(ctx)
    detail = await item_detail(ctx, kind, item_id)
    image = await asyncio.to_thread(open_artwork, detail, asset_id, library.roots)
    headers = {"ETag": image.etag, "Cache-Control": CACHE}
    if request.headers.get("if-none-match") == image.etag:
        image.file.close()
        return Response(status_code=304, headers=headers)
    return StreamingResponse(_stream(image.file), media_type=image.content_type, headers=headers)


def art_url(kind: ItemKind, item_id: int, asset_id: int) -> str:
    return f"/library/{kind.value}/{item_id}/art/{asset_id}"


__all__ = ["MAX_BYTES", "OpenImage", "art_url", "choose_poster", "open_artwork", "router", "sniff"]
