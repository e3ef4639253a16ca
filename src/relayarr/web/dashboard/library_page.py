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

from relayarr.errors import EditInvalid
from relayarr.jobqueue import JSONValue
from relayarr.library.db import ItemDetail, ItemKind
from relayarr.library.db.records import AssetRecord, ItemSummary
from relayarr.library.naming import IMAGE_EXTENSIONS
from relayarr.pipeline.edits import ItemEdit, edit_item, item_metadata
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
    document = await _editable(ctx, detail)
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


async def _editable(ctx: WebContext, detail: ItemDetail) -> dict[str, JSONValue]:
    """The item's fields and locks as the edit form reads them (``locks``: name -> bool),
    from the metadata the API's item detail shows; no ``fields`` while there is none."""
    library = ctx.services.library
    if library is None:
        return {}
    metadata = await item_metadata(library, detail.item.kind, detail.item.id)
    fields, locked = metadata.get("fields"), metadata.get("locks")
    if not isinstance(fields, dict) or not fields:
        return {}
    names = [name for name in locked if isinstance(name, str)] if isinstance(locked, list) else []
    return {"fields": fields, "locks": dict.fromkeys(names, True)}


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
    """Apply what the edit form changed, as ``PATCH /api/v1/library/...`` does (one verb:
    :func:`~relayarr.pipeline.edits.edit_item`), after the page's session and CSRF checks."""
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
    fields, locks = body.get("fields", {}), body.get("locks", {})
    edit = ItemEdit(
        fields=fields if isinstance(fields, dict) else {},
        locks={name: on is True for name, on in locks.items()} if isinstance(locks, dict) else {},
    )
    try:
        result = await edit_item(
            ctx.queue, library_of(ctx), ctx.services.metadata, ItemKind(kind), item_id, edit
        )
    except EditInvalid as exc:
        session.flash = f"Not saved: {exc}"
    else:
        session.flash = editing.saved_line(body, result.to_json())
    return RedirectResponse(target, status_code=303)


__all__ = ["router"]
