"""The mappings page: the ``[[mappings]]`` rules, the library roots and whether each is
available, and a "try a path" form that shows how a path from an *arr maps: every rule
with why it matched or not, the one chosen, and the library root holding the result.

The form is a GET (it changes nothing, and the answer can be linked to); it asks the
same service as ``POST /api/v1/mappings/try`` (:meth:`Resolver.explain`).
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from relayarr.web.context import WebContext, context
from relayarr.web.dashboard.guard import RequireSession
from relayarr.web.dashboard.library_page import unconfigured
from relayarr.web.dashboard.render import render

SOURCES = ("radarr", "sonarr")

router = APIRouter(include_in_schema=False)
Ctx = Annotated[WebContext, Depends(context)]


@router.get("/mappings")
async def mappings_page(
    request: Request,
    ctx: Ctx,
    session: RequireSession,
    source: Annotated[str, Query(max_length=64)] = "radarr",
    path: Annotated[str, Query(max_length=4096)] = "",
) -> Response:
    library = ctx.services.library
    missing = unconfigured(ctx)
    if missing is not None or library is None:
        return render(request, "mappings.html", session=session, active="mappings", missing=missing)
    source = source.strip() or SOURCES[0]
    path = path.strip()
    rules = library.resolver.rules
    known = sorted({*SOURCES, *(rule.source for rule in rules if rule.source)})
    answer = None
    if path:
        answer = await asyncio.to_thread(library.resolver.explain, path, source)
    roots = await asyncio.to_thread(library.roots.status)
    return render(
        request,
        "mappings.html",
        session=session,
        active="mappings",
        missing=None,
        rules=rules,
        roots=roots,
        sources=known,
        source=source,
        path=path,
        answer=answer,
    )


__all__ = ["router"]
