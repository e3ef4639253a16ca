"""The Enricher: ids -> what the providers know. It never raises a provider failure.

Each call returns an :class:`Enrichment`: the metadata the providers gave (None if none
could), and every failure as a :class:`ProviderFailure` (which provider, what was asked,
why, and when to try again if the provider said). The pipeline then publishes with what
it has (the webhook's values at least) and the players are told about the file anyway.

Answers are cached by the providers' response cache, so enriching the same item again
within the cache's lifetime costs no call.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import Generic, TypeVar

from relayarr.errors import (
    ProviderAuthError,
    ProviderError,
    ProviderNotFound,
    ProviderUnavailable,
)
from relayarr.jobqueue.models import JSONValue
from relayarr.metadata.models import (
    AnyMetadata,
    Artwork,
    EpisodeMetadata,
    MovieMetadata,
    SeriesMetadata,
    UniqueIds,
)
from relayarr.metadata.providers import FanartProvider, Providers, TmdbProvider
from relayarr.metadata.providers.tmdb import ExternalSource

logger = logging.getLogger(__name__)

M = TypeVar("M", bound=AnyMetadata)
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ProviderFailure:
    """One provider call that failed: ``kind`` is ``unavailable``, ``auth``,
    ``not_found`` or ``bad_response``; ``retry_after`` seconds when the provider said."""

    provider: str
    subject: str
    kind: str
    message: str
    retry_after: float | None = None

    @classmethod
    def of(cls, error: ProviderError) -> ProviderFailure:
        kind = (
            "unavailable"
            if isinstance(error, ProviderUnavailable)
            else "auth"
            if isinstance(error, ProviderAuthError)
            else "not_found"
            if isinstance(error, ProviderNotFound)
            else "bad_response"
        )
        retry_after = error.retry_after if isinstance(error, ProviderUnavailable) else None
        return cls(error.provider, error.subject, kind, str(error), retry_after)


@dataclass(frozen=True, slots=True)
class Enrichment(Generic[M]):
    """What the providers said about one item, and what went wrong on the way."""

    metadata: M | None
    failures: tuple[ProviderFailure, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def transient(self) -> bool:
        """True when a failure may pass by itself (worth retrying the job later)."""
        return any(f.kind == "unavailable" for f in self.failures)

    def summary(self) -> dict[str, JSONValue]:
        """A short JSON view for the job's result."""
        return {
            "sources": list(self.sources),
            "title": getattr(self.metadata, "title", None) or None,
            "failures": [
                {
                    "provider": f.provider,
                    "subject": f.subject,
                    "kind": f.kind,
                    "message": f.message,
                    "retry_after": f.retry_after,
                }
                for f in self.failures
            ],
        }


class Enricher:
    """Ask the configured providers about movies, series and episodes."""

    def __init__(self, providers: Providers) -> None:
        self._tmdb: TmdbProvider | None = providers.tmdb
        self._fanart: FanartProvider | None = providers.fanart

    @property
    def enabled(self) -> bool:
        return self._tmdb is not None or self._fanart is not None

    async def movie(self, ids: UniqueIds) -> Enrichment[MovieMetadata]:
        calls = _Calls()
        tmdb_id = ids.tmdb
        if tmdb_id is None and ids.imdb and self._tmdb is not None:
            found = await calls.run(self._tmdb.find(ids.imdb, "imdb_id"))
            tmdb_id = found.movies[0] if found and found.movies else None
        meta = None
        if tmdb_id is not None and self._tmdb is not None:
            meta = await calls.run(self._tmdb.movie(tmdb_id), source="tmdb")
        art: tuple[Artwork, ...] = ()
        fanart_id: int | str | None = tmdb_id if tmdb_id is not None else ids.imdb
        if fanart_id is not None and self._fanart is not None:
            art = (
                await calls.run(self._fanart.movie(fanart_id), source="fanart.tv", absent=()) or ()
            )
        return calls.result(_with_art(meta, art, MovieMetadata(ids=ids)))

    async def series(self, ids: UniqueIds) -> Enrichment[SeriesMetadata]:
        calls = _Calls()
        meta = None
        tmdb_id = await self._series_id(ids, calls)
        if tmdb_id is not None and self._tmdb is not None:
            meta = await calls.run(self._tmdb.series(tmdb_id), source="tmdb")
        tvdb = ids.tvdb if ids.tvdb is not None else (meta.ids.tvdb if meta else None)
        art: tuple[Artwork, ...] = ()
        if tvdb is not None and self._fanart is not None:
            art = await calls.run(self._fanart.series(tvdb), source="fanart.tv", absent=()) or ()
        return calls.result(_with_art(meta, art, SeriesMetadata(ids=ids)))

    async def episode(
        self, series_ids: UniqueIds, season: int, episode: int, *, show_title: str = ""
    ) -> Enrichment[EpisodeMetadata]:
        calls = _Calls()
        meta = None
        tmdb_id = await self._series_id(series_ids, calls)
        if tmdb_id is not None and self._tmdb is not None:
            meta = await calls.run(
                self._tmdb.episode(tmdb_id, season, episode, show_title=show_title),
                source="tmdb",
            )
        return calls.result(meta)

    async def _series_id(self, ids: UniqueIds, calls: _Calls) -> int | None:
        if ids.tmdb is not None or self._tmdb is None:
            return ids.tmdb
        lookups: tuple[tuple[int | str | None, ExternalSource], ...] = (
            (ids.tvdb, "tvdb_id"),
            (ids.imdb, "imdb_id"),
        )
        for external, source in lookups:
            if external:
                found = await calls.run(self._tmdb.find(str(external), source))
                if found and found.series:
                    return found.series[0]
        return None


class _Calls:
    """Runs provider calls for one item, collecting failures instead of raising them."""

    def __init__(self) -> None:
        self.failures: list[ProviderFailure] = []
        self.sources: list[str] = []

    async def run(
        self, call: Awaitable[T], *, source: str = "", absent: T | None = None
    ) -> T | None:
        """The call's result; on a provider error, ``absent`` and the failure noted.

        ``absent`` set means a 404 is an ordinary answer (fanart.tv has no art for
        many items), not a failure.
        """
        try:
            result = await call
        except ProviderNotFound as exc:
            if absent is not None:
                return absent
            self._note(exc)
            return None
        except ProviderError as exc:
            self._note(exc)
            return None
        if source:
            self.sources.append(source)
        return result

    def _note(self, error: ProviderError) -> None:
        failure = ProviderFailure.of(error)
        logger.warning(
            "provider call failed",
            extra={
                "provider": failure.provider,
                "subject": failure.subject,
                "kind": failure.kind,
                "error": failure.message,
            },
        )
        self.failures.append(failure)

    def result(self, meta: M | None) -> Enrichment[M]:
        return Enrichment(meta, tuple(self.failures), tuple(dict.fromkeys(self.sources)))


def _with_art(meta: M | None, art: tuple[Artwork, ...], bare: M) -> M | None:
    """``meta`` with fanart.tv's artwork added (``bare`` carries it when TMDB gave none)."""
    if not art:
        return meta
    base = meta if meta is not None else bare
    return replace(base, artwork=base.artwork + art)


__all__ = ["Enricher", "Enrichment", "ProviderFailure"]
