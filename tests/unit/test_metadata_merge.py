"""Merging provider, webhook and NFO values with field locks, and detecting hand edits."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from relayarr.metadata.fields import (
    field_names,
    fingerprint,
    fingerprints,
    from_json,
    is_empty,
    to_json,
    values_of,
)
from relayarr.metadata.merge import FieldLocks, detect_edits, locked_values, merge
from relayarr.metadata.models import (
    Actor,
    Artwork,
    Collection,
    MovieMetadata,
    Rating,
    SeriesMetadata,
    UniqueIds,
)

PROVIDER = MovieMetadata(
    title="Arrival",
    plot="Provider plot",
    year=2016,
    genres=("Drama",),
    ids=UniqueIds(tmdb=329865),
    artwork=(Artwork("poster", "https://p/1.jpg", source="tmdb"),),
)
WEBHOOK = MovieMetadata(
    title="Arrival (webhook)",
    plot="Webhook plot",
    tags=("uhd",),
    ids=UniqueIds(tmdb=329865, imdb="tt2543164"),
    artwork=(
        Artwork("poster", "https://p/1.jpg", source="webhook"),
        Artwork("fanart", "https://p/2.jpg", source="webhook"),
    ),
)


def test_unlocked_fields_take_provider_then_webhook_then_nfo() -> None:
    nfo = {"tagline": "From the NFO", "title": "Old NFO title"}
    result = merge(MovieMetadata, provider=PROVIDER, webhook=WEBHOOK, nfo=nfo)
    meta = result.metadata
    assert (meta.title, meta.plot, meta.tags, meta.tagline) == (
        "Arrival",
        "Provider plot",
        ("uhd",),
        "From the NFO",
    )
    assert meta.ids == UniqueIds(tmdb=329865, imdb="tt2543164")
    assert [a.url for a in meta.artwork] == ["https://p/1.jpg", "https://p/2.jpg"]
    assert result.sources["title"] == "provider"
    assert result.sources["tags"] == "webhook"
    assert result.sources["tagline"] == "nfo"
    assert result.sources["outline"] == "none"
    assert result.edited == frozenset()


def test_a_locked_field_is_never_replaced_by_a_provider() -> None:
    locks = FieldLocks(frozenset({"title", "plot", "genres"}), {"title": "My title"})
    nfo = {"plot": "My plot", "title": "Whatever the NFO says"}
    meta = merge(MovieMetadata, provider=PROVIDER, webhook=WEBHOOK, nfo=nfo, locks=locks)
    assert meta.metadata.title == "My title"  # the value set through the API
    assert meta.metadata.plot == "My plot"  # the NFO's
    assert meta.metadata.genres == ()  # locked empty: stays empty
    assert meta.sources["genres"] == "locked"


def test_a_hand_edit_in_the_nfo_is_detected_and_locked() -> None:
    written = fingerprints({"title": "Arrival", "plot": "Provider plot"}, ("title", "plot"))
    nfo = {"title": "Arrival (Director's Cut)", "plot": "Provider plot"}
    result = merge(MovieMetadata, provider=PROVIDER, nfo=nfo, last_written=written)
    assert result.edited == frozenset({"title"})
    assert result.metadata.title == "Arrival (Director's Cut)"
    assert result.locks.fields == frozenset({"title"})
    assert result.locks.values == {"title": "Arrival (Director's Cut)"}
    assert result.sources["title"] == "edited"
    assert locked_values(result) == {"title": "Arrival (Director's Cut)"}
    # next time the lock holds even though the NFO now matches what relayarr writes
    again = merge(
        MovieMetadata,
        provider=PROVIDER,
        nfo=nfo,
        locks=result.locks,
        last_written=fingerprints(nfo, ("title", "plot")),
    )
    assert again.metadata.title == "Arrival (Director's Cut)"
    assert again.edited == frozenset()


def test_deleting_an_element_by_hand_is_an_edit_too() -> None:
    written = fingerprints({"tagline": "Why are they here?"}, ("tagline",))
    result = merge(
        MovieMetadata,
        provider=MovieMetadata(tagline="Why are they here?"),
        nfo={},
        last_written=written,
    )
    assert result.edited == frozenset({"tagline"})
    assert result.metadata.tagline == ""


def test_without_a_record_nothing_is_detected() -> None:
    assert detect_edits(("title",), {"title": "x"}, None) == {}
    result = merge(MovieMetadata, provider=PROVIDER, nfo={"title": "Radarr's title"})
    assert result.metadata.title == "Arrival"


def test_ids_default_of_series_without_any_source() -> None:
    result = merge(SeriesMetadata)
    assert result.metadata.ids == UniqueIds(default="tvdb")


def test_field_values_travel_as_json_and_back() -> None:
    meta = MovieMetadata(
        title="T",
        year=1,
        genres=("a",),
        ratings=(Rating("imdb", 7.5, 3),),
        ids=UniqueIds(tmdb=1, imdb="tt1"),
        actors=(Actor("A", "R", 0, "u"),),
        collection=Collection("C", "o", 2),
    )
    for name, value in values_of(meta).items():
        assert from_json(name, to_json(value)) == value
    assert is_empty(UniqueIds())
    assert is_empty("")
    assert is_empty(())
    assert not is_empty(0)


# -- properties -----------------------------------------------------------------------------

_text = st.sampled_from(["", "a", "b", "Arrival", "Ça"])
_genres = st.lists(st.sampled_from(["Drama", "Mystery", "Comedy"]), max_size=2, unique=True)
_movie = st.builds(
    MovieMetadata,
    title=_text,
    plot=_text,
    tagline=_text,
    genres=_genres.map(tuple),
    year=st.one_of(st.none(), st.integers(1900, 2030)),
)
_fields = st.sampled_from(["title", "plot", "tagline", "genres", "year"])


@settings(max_examples=200, deadline=None)
@given(
    provider=st.one_of(st.none(), _movie),
    webhook=st.one_of(st.none(), _movie),
    nfo_meta=_movie,
    locked=st.frozensets(_fields),
    user=st.dictionaries(_fields, _text),
)
def test_locks_always_win(
    provider: MovieMetadata | None,
    webhook: MovieMetadata | None,
    nfo_meta: MovieMetadata,
    locked: frozenset[str],
    user: dict[str, str],
) -> None:
    user = {k: v for k, v in user.items() if k in locked and k in ("title", "plot", "tagline")}
    nfo = {k: v for k, v in values_of(nfo_meta).items() if not is_empty(v)}
    result = merge(
        MovieMetadata, provider=provider, webhook=webhook, nfo=nfo, locks=FieldLocks(locked, user)
    )
    meta = result.metadata
    for name in field_names(MovieMetadata):
        value = getattr(meta, name)
        if name in locked:
            expected = user[name] if name in user else nfo.get(name, getattr(MovieMetadata(), name))
            assert value == expected
        elif name != "ids":
            chain = [getattr(m, name) for m in (provider, webhook) if m is not None]
            chain.append(nfo.get(name))
            first = next((v for v in chain if not is_empty(v)), None)
            assert value == (first if first is not None else getattr(MovieMetadata(), name))
    assert result.locks.fields == locked


@settings(max_examples=200, deadline=None)
@given(written_meta=_movie, nfo_meta=_movie, provider=_movie)
def test_a_changed_field_is_locked_with_the_nfo_value(
    written_meta: MovieMetadata, nfo_meta: MovieMetadata, provider: MovieMetadata
) -> None:
    names = field_names(MovieMetadata)
    written = fingerprints(values_of(written_meta), names)
    nfo = {k: v for k, v in values_of(nfo_meta).items() if not is_empty(v)}
    result = merge(MovieMetadata, provider=provider, nfo=nfo, last_written=written)
    changed = {n for n in names if fingerprint(nfo.get(n)) != written[n]}
    assert result.edited == changed
    for name in changed:
        nfo_value = nfo.get(name, getattr(MovieMetadata(), name))
        assert getattr(result.metadata, name) == nfo_value
    for name in set(names) - changed - {"ids"}:
        value = getattr(provider, name)
        if not is_empty(value):
            assert getattr(result.metadata, name) == value
