"""The library pages: recent imports with their posters, searchable and paged; one item
with its files, assets, locks and the jobs that touched it; and the save of its edit form
(:mod:`.editing`)."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import RedirectResponse, Response

from relayarr.library.db import ItemDetail, ItemKind
from relayarr.library.db.records import AssetRecord, ItemSummary
from relayarr.library.naming import IMAGE_EXTENSIONS
from relayarr.web.context import WebContext, context
from relayarr.web.dashboard import editing
from relayarr.web.dashboard.artwork import Id, Kind, art_url, choose_poster, item_detail
from relayarr.web.dashboard.guard import RequireCsrf, RequireSession
from relayarr.web.dashboard.render import render
from relayarr.web.routes.library import library_of

PAGE_SIZES = (24, 48, 96)
KINDS: dict[str, tuple[ItemKind, ...]] = {
    "all": (ItemKind.MOVIE, ItemKind.SERIES),
    "movie": (ItemKind.MOVIE,),
    "series": (ItemKind.SERIES,),
}
PLURAL = {"movie": "movies", "series": "series"}

router = APIRouter(include_in_schema=False)
Ctx = Annotated[WebContext, Depends(context)]


@dataclass(frozen=True, slots=True)
class Row:
    """One item of the recent list: the item and its poster's URL (None: no poster)."""

    item: ItemSummary
    poster: str | None

    @property
    def href(self) -> str:
        return f"/library/{self.item.kind.value}/{self.item.id}"


@dataclass(frozen=True, slots=True)
class Shown:
    """A file or asset as the item page lists it: its path relative to the item's folder."""

    name: str
    path: str
    image: str | None  # the artwork route, for images


def unconfigured(ctx: WebContext) -> str | None:
    """The sentence a page shows when no library is configured, else None."""
    if ctx.services.library is None:
        return "No library is configured: add [[library.roots]] to the configuration."
    return None


@router.get("/library")
async def library_page(
    request: Request,
    ctx: Ctx,
    session: RequireSession,
    kind: Literal["all", "movie", "series"] = "all",
    search: Annotated[str, Query(max_length=200)] = "",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: int = PAGE_SIZES[0],
) -> Response:
    missing = unconfigured(ctx)
    if missing is not None:
        return render(request, "library.html", session=session, active="library", missing=missing)
    lib = library_of(ctx)
    limit = limit if limit in PAGE_SIZES else PAGE_SIZES[0]
    search = search.strip()
    page = await lib.store.list_recent(KINDS[kind], search or None, cursor, limit)
    posters: dict[tuple[ItemKind, int], str] = {}
    for item_kind in KINDS[kind]:
        ids = [item.id for item in page.items if item.kind is item_kind]
        for item_id, assets in (await lib.store.posters(item_kind, ids)).items():
            chosen = choose_poster(assets)
            if chosen is not None:
                posters[item_kind, item_id] = art_url(item_kind, item_id, chosen.id)
    roots = await asyncio.to_thread(lib.roots.status)

    def query(**changes: object) -> str:
        values: dict[str, object] = {"kind": kind, "search": search, "limit": limit}
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None)})

    return render(
        request,
        "library.html",
        session=session,
        active="library",
        missing=None,
        rows=[Row(item, posters.get((item.kind, item.id))) for item in page.items],
        kind=kind,
        search=search,
        limit=limit,
        page_sizes=PAGE_SIZES,
        first_page=cursor is None,
        newest=query(),
        older=query(cursor=page.next_cursor) if page.next_cursor else None,
        down=[status for status in roots if not status.available],
        now=datetime.now(UTC),
    )


@router.get("/library/{kind}/{item_id}")
async def item_page(
    request: Request, ctx: Ctx, session: RequireSession, kind: Kind, item_id: Id
) -> Response:
    missing = unconfigured(ctx)
    if missing is not None:
        return render(request, "library.html", session=session, active="library", missing=missing)
    detail = await item_detail(ctx, kind, item_id)
    document = detail.to_json()
    locks = document.get("locks")
    poster = choose_poster(detail.assets)
    return render(
        request,
        "item.html",
        session=session,
        active="library",
        detail=detail,
        item=detail.item,
        kind=kind,
        poster=art_url(detail.item.kind, item_id, poster.id) if poster else None,
        files=[(record, _shown(detail, record.path, None)) for record in detail.files],
        assets=[(asset, _shown(detail, asset.path, asset)) for asset in detail.assets],
        locks=sorted(locks.items()) if isinstance(locks, dict) else None,
        form=editing.edit_form(document),
        now=datetime.now(UTC),
    )


def _shown(detail: ItemDetail, path: str, asset: AssetRecord | None) -> Shown:
    folder = detail.item.folder.rstrip("/") + "/"
    name = path[len(folder) :] if path.startswith(folder) else path
    image = None
    if asset is not None and os.path.splitext(path)[1].lower().lstrip(".") in IMAGE_EXTENSIONS:
        image = art_url(detail.item.kind, detail.item.id, asset.id)
    return Shown(name, path, image)


@router.post("/library/{kind}/{item_id}/edit")
async def save_edit(
    request: Request, ctx: Ctx, session: RequireCsrf, kind: Kind, item_id: Id
) -> Response:
    """Send what the edit form changed to the metadata service (see :mod:`.editing`)."""
    await item_detail(ctx, kind, item_id)  # a 404 page for an unknown item, as on GET
    target = f"/library/{kind}/{item_id}"
    try:
        body = editing.changes(await request.form())
    except editing.EditRefused as exc:
        session.flash = f"Not saved: {exc}"
        return RedirectResponse(target, status_code=303)
    if not body:
        session.flash = "Nothing changed."
        return RedirectResponse(target, status_code=303)
    outcome = await editing.save(request.app, ctx.api_key, PLURAL[kind], item_id, body)
    session.flash = outcome.message
    return RedirectResponse(target, status_code=303)


__all__ = ["router"]
