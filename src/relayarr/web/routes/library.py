"""The library API: manual scans, the path-mapping tester, and the library's items.

- ``POST /api/v1/scan {"path": ...}``: scan the movie or series folder holding a path, as
  relayarr sees it (202 with the job);
- ``POST /api/v1/mappings/try {"source": "radarr", "path": ...}``: how an *arr's path maps,
  which rule matched (or why none did) and which library root holds the result;
- ``GET /api/v1/library/movies`` and ``/series`` (``search``, ``cursor``, ``limit``), and
  ``/{id}`` for one item with its files, assets, seasons and episodes, the jobs that
  touched it, and its metadata (published fields and locks);
- ``PATCH /api/v1/library/movies/{id}`` and ``/series/{id}`` with
  ``{"fields": {"title": ...}, "locks": {"poster": true}}``: your edits win (a field set
  is locked; see :mod:`relayarr.pipeline.edits`), then a publish job writes the NFO.

Library errors map to HTTP in :mod:`relayarr.web.errors` (409 when no library is
configured, 422 for a path outside every root, 404 for an unknown item or path).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field, JsonValue
from starlette.responses import JSONResponse

from relayarr.errors import ItemNotFound, LibraryNotConfigured
from relayarr.jobqueue import JSONObject, JSONValue
from relayarr.library.db.records import ItemDetail, ItemKind, ItemSummary, Page
from relayarr.library.results import to_json
from relayarr.pipeline import Library
from relayarr.pipeline.edits import ItemEdit, edit_item, item_metadata
from relayarr.pipeline.manual import NO_LIBRARY, scan_path
from relayarr.web.auth import RequireKey
from relayarr.web.context import WebContext, context
from relayarr.web.schemas import ErrorOut

router = APIRouter(prefix="/api/v1", tags=["library"], dependencies=[RequireKey])
Ctx = Annotated[WebContext, Depends(context)]
ItemId = Annotated[int, PathParam(ge=1, le=2**63 - 1)]
ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ErrorOut},
}


class ScanIn(BaseModel):
    path: str = Field(min_length=1, max_length=4096, description="a path as relayarr sees it")


class ItemEditIn(BaseModel):
    """Fields to set (each becomes locked) and locks to set or clear."""

    model_config = ConfigDict(extra="forbid")

    fields: dict[str, JsonValue] = Field(
        default_factory=dict, examples=[{"title": "Arrival", "plot": "..."}]
    )
    locks: dict[str, bool] = Field(default_factory=dict, examples=[{"poster": True}])


class MappingTryIn(BaseModel):
    source: str = Field(min_length=1, max_length=64, examples=["radarr", "radarr/4k"])
    path: str = Field(min_length=1, max_length=4096, examples=["/movies/Arrival (2016)"])


def library_of(ctx: WebContext) -> Library:
    library = ctx.services.library
    if library is None:
        raise LibraryNotConfigured(NO_LIBRARY)
    return library


@router.post("/scan", status_code=202, responses=ERRORS, summary="Scan the folder holding a path")
async def scan(body: ScanIn, ctx: Ctx) -> JSONResponse:
    """Enqueue a scan, due now, of the movie or series folder that holds ``path``; a scan
    already waiting for the folder is the same job. 202 with the job id, the folder, its
    root and, while the root's mount is down, what is missing (the scan waits for it)."""
    library = library_of(ctx)
    manual = await scan_path(ctx.queue, library.roots, body.path)
    return JSONResponse(manual.to_json(), status_code=202)


@router.post(
    "/mappings/try", response_model=None, responses=ERRORS, summary="Show how an *arr's path maps"
)
async def try_mapping(body: MappingTryIn, ctx: Ctx) -> JSONObject:
    """Every rule tried for ``source`` and ``path``, the one that matched and the result,
    and the library root holding it (or why none does)."""
    library = library_of(ctx)
    return await asyncio.to_thread(library.resolver.explain, body.path, body.source)


@router.get(
    "/library/movies", response_model=None, responses=ERRORS, summary="Movies in the library"
)
async def list_movies(
    ctx: Ctx,
    search: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JSONObject:
    page = await library_of(ctx).store.list_movies(search, cursor, limit)
    return _page(page)


@router.get(
    "/library/movies/{movie_id}", response_model=None, responses=ERRORS, summary="One movie"
)
async def get_movie(movie_id: ItemId, ctx: Ctx) -> JSONObject:
    library = library_of(ctx)
    detail = _detail(await library.store.get_movie(movie_id), "movie", movie_id)
    return {**detail, "metadata": await item_metadata(library, ItemKind.MOVIE, movie_id)}


@router.patch(
    "/library/movies/{movie_id}",
    response_model=None,
    responses=ERRORS,
    summary="Edit a movie's fields and locks",
)
async def edit_movie(movie_id: ItemId, body: ItemEditIn, ctx: Ctx) -> JSONObject:
    """Set fields (each becomes locked) and set or clear locks; unknown names are a 422
    naming them. Answers the movie's fields and locks, and the publish job's id."""
    return await _edit(ctx, ItemKind.MOVIE, movie_id, body)


@router.get(
    "/library/series", response_model=None, responses=ERRORS, summary="Series in the library"
)
async def list_series(
    ctx: Ctx,
    search: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> JSONObject:
    page = await library_of(ctx).store.list_series(search, cursor, limit)
    return _page(page)


@router.get(
    "/library/series/{series_id}", response_model=None, responses=ERRORS, summary="One series"
)
async def get_series(series_id: ItemId, ctx: Ctx) -> JSONObject:
    library = library_of(ctx)
    detail = _detail(await library.store.get_series(series_id), "series", series_id)
    return {**detail, "metadata": await item_metadata(library, ItemKind.SERIES, series_id)}


@router.patch(
    "/library/series/{series_id}",
    response_model=None,
    responses=ERRORS,
    summary="Edit a series' fields and locks",
)
async def edit_series(series_id: ItemId, body: ItemEditIn, ctx: Ctx) -> JSONObject:
    """As ``PATCH /library/movies/{id}``, for a series (its ``tvshow.nfo``)."""
    return await _edit(ctx, ItemKind.SERIES, series_id, body)


async def _edit(ctx: WebContext, kind: ItemKind, item_id: int, body: ItemEditIn) -> JSONObject:
    edit = ItemEdit(body.fields, body.locks)
    result = await edit_item(ctx.queue, library_of(ctx), ctx.services.metadata, kind, item_id, edit)
    return result.to_json()


def _page(page: Page[ItemSummary]) -> JSONObject:
    items: list[JSONValue] = [to_json(item) for item in page.items]
    return {"items": items, "next_cursor": page.next_cursor}


def _detail(detail: ItemDetail | None, kind: str, item_id: int) -> JSONObject:
    if detail is None:
        raise ItemNotFound(f"no {kind} with id {item_id}")
    return detail.to_json()


__all__ = ["router"]
