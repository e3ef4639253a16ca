"""The library and mappings pages in-process over a real library (folders on disk, the real
scanner, SQLite): recent imports with posters, search and paging, the item page, escaping,
the poster route and each of its refusals, the mapping tester, and pages that say what to
configure when the library is not."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from images import png
from relayarr.library.db import ItemKind
from web.library_dash import LibraryDash, bare_dash, library_dash, poster_files

HOSTILE_TITLE = "<script>alert(1)</script>"
HOSTILE_FILE = "<img src=x onerror=alert(2)>.mkv"


@pytest.fixture
async def dash(tmp_path: Path) -> AsyncIterator[LibraryDash]:
    async with library_dash(tmp_path) as running:
        yield running


def art_links(html: str) -> list[str]:
    return re.findall(r'<img class="poster" src="([^"]+)"', html)


# -- the recent list --------------------------------------------------------------------------


async def test_recent_imports_come_newest_first_with_their_posters(dash: LibraryDash) -> None:
    first, _ = await dash.movie("Arrival (2016)", poster_files())
    bare, _ = await dash.movie("Bare (2001)", {"bare.mkv": b"\0"})
    page = await dash.client.get("/library")
    assert page.status_code == 200
    html = page.text
    assert html.index("Bare") < html.index("Arrival")  # scanned later, shown first
    assets = await dash.asset_ids(first)
    assert art_links(html) == [f"/library/movie/{first}/art/{assets['poster.png']}"]
    assert f'href="/library/movie/{bare}"' in html
    assert "no poster" in html


async def test_search_and_paging(dash: LibraryDash) -> None:
    for n in range(30):
        await dash.movie(f"Film {n:02d} (2000)", {"f.mkv": b"\0"})
    first = await dash.client.get("/library", params={"limit": 24})
    titles = re.findall(r'<span class="title">([^<]+)</span>', first.text)
    assert titles == [f"Film {n:02d}" for n in range(29, 5, -1)]
    older = re.search(r'<a href="/library\?([^"]+)" rel="next">', first.text)
    assert older is not None
    second = await dash.client.get("/library?" + older.group(1).replace("&amp;", "&"))
    titles = re.findall(r'<span class="title">([^<]+)</span>', second.text)
    assert titles == [f"Film {n:02d}" for n in range(5, -1, -1)]
    assert 'rel="next"' not in second.text
    found = await dash.client.get("/library", params={"search": "film 07"})
    assert re.findall(r'<span class="title">([^<]+)</span>', found.text) == ["Film 07"]
    none = await dash.client.get("/library", params={"search": "nothing like it"})
    assert "Nothing matches" in none.text
    bad = await dash.client.get("/library", params={"cursor": "garbage"})
    assert bad.status_code == 422
    assert "not a recent-items cursor" in bad.text


async def test_hostile_titles_and_file_names_are_text(dash: LibraryDash) -> None:
    movie, _ = await dash.movie(
        "Hostile (2020)", {HOSTILE_FILE: b"\0", "poster.png": png()}, title=HOSTILE_TITLE
    )
    listing = (await dash.client.get("/library")).text
    item = (await dash.client.get(f"/library/movie/{movie}")).text
    for html in (listing, item):
        assert "<script>alert(1)" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in item
    assert "&lt;img src=x onerror=alert(2)&gt;.mkv" in item


# -- the item page ------------------------------------------------------------------------------


async def test_the_item_page_shows_files_assets_and_jobs(dash: LibraryDash) -> None:
    movie, folder = await dash.movie(
        "Arrival (2016)", {**poster_files("Arrival (2016).mkv"), "Arrival (2016).en.srt": b"1"}
    )
    dash.queue.declare("scan-movie")
    job = await dash.queue.add_job("scan-movie", {"folder": str(folder)})
    await dash.store.link_job(ItemKind.MOVIE, movie, job.id, job.type)
    page = await dash.client.get(f"/library/movie/{movie}")
    assert page.status_code == 200
    html = page.text
    assert ">Arrival (2016).mkv</td><td>video</td>" in html
    assert ">Arrival (2016).en.srt</td><td>subtitle</td>" in html
    assets = await dash.asset_ids(movie)
    assert f'src="/library/movie/{movie}/art/{assets["fanart.jpg"]}"' in html
    assert f'<a href="/jobs/{job.id}">#{job.id} scan-movie</a>' in html
    assert 'id="needs-metadata"' in html  # no fields yet: the form waits for metadata
    assert 'id="edit"' not in html
    assert (await dash.client.get("/library/movie/999")).status_code == 404
    assert (await dash.client.get(f"/library/series/{movie}")).status_code == 404
    assert (await dash.client.get("/library/film/1")).status_code == 422


# -- the poster route ---------------------------------------------------------------------------


async def test_a_poster_is_streamed_with_its_real_type_and_cached_by_etag(
    dash: LibraryDash,
) -> None:
    movie, _ = await dash.movie("Arrival (2016)", poster_files())
    url = f"/library/movie/{movie}/art/{(await dash.asset_ids(movie))['poster.png']}"
    response = await dash.client.get(url)
    assert response.status_code == 200
    assert response.content == png()
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private, max-age=300"
    again = await dash.client.get(url, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert again.content == b""
    stranger = await dash.anonymous.get(url)
    assert stranger.status_code == 303  # to the login page, no image


async def test_the_poster_route_refuses_what_is_not_that_items_image_in_a_root(
    dash: LibraryDash, tmp_path: Path
) -> None:
    arrival, arrival_folder = await dash.movie("Arrival (2016)", poster_files())
    other, _ = await dash.movie("Other (2001)", poster_files("other.mkv"))
    mine, theirs = await dash.asset_ids(arrival), await dash.asset_ids(other)

    async def refused(item: int, asset: int, reason: str) -> None:
        response = await dash.client.get(f"/library/movie/{item}/art/{asset}")
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("text/html")
        assert reason in response.text

    # An asset of another item, by its real id.
    await refused(arrival, theirs["poster.png"], f"has no asset {theirs['poster.png']}")
    # The poster replaced after the scan by a symlink that leads out of every root.
    secret = tmp_path / "secret.png"
    secret.write_bytes(png(rgb=(1, 2, 3)))
    (arrival_folder / "poster.png").unlink()
    os.symlink(secret, arrival_folder / "poster.png")
    await refused(arrival, mine["poster.png"], "outside every library root")
    # A file gone from disk since the scan.
    (arrival_folder / "fanart.jpg").unlink()
    await refused(arrival, mine["fanart.jpg"], "gone from disk")
    # A file named like an image that is not one.
    page_like, _ = await dash.movie("Fake (2003)", {"fake.mkv": b"\0", "poster.jpg": b"<html>"})
    fake = await dash.asset_ids(page_like)
    await refused(page_like, fake["poster.jpg"], "not a JPEG, PNG, GIF or WebP image")
    # And an item that does not exist.
    response = await dash.client.get("/library/movie/4242/art/1")
    assert response.status_code == 404


async def test_a_poster_symlinked_inside_its_root_is_served(dash: LibraryDash) -> None:
    movie, folder = await dash.movie("Linked (2010)", {"l.mkv": b"\0", "poster.png": png()})
    shared = dash.movies / "shared.png"
    shared.write_bytes(png(rgb=(9, 9, 9)))
    (folder / "poster.png").unlink()
    os.symlink(shared, folder / "poster.png")
    url = f"/library/movie/{movie}/art/{(await dash.asset_ids(movie))['poster.png']}"
    response = await dash.client.get(url)
    assert response.status_code == 200
    assert response.content == png(rgb=(9, 9, 9))


# -- mappings -------------------------------------------------------------------------------------


async def test_the_mapping_tester_shows_the_rule_the_others_and_the_root(
    dash: LibraryDash,
) -> None:
    page = await dash.client.get("/mappings")
    assert page.status_code == 200
    rules = re.search(r'<ol class="rules" id="rules">(.*?)</ol>', page.text, re.DOTALL)
    assert rules is not None
    assert rules.group(1).count("<li>") == 3
    assert f"radarr/4k: <code>/movies</code> → <code>{dash.movies}</code>" in rules.group(1)
    assert 'data-available="yes"' in page.text
    tried = await dash.client.get(
        "/mappings", params={"source": "radarr/4k", "path": "/movies/Arrival (2016)/a.mkv"}
    )
    html = tried.text
    assert 'data-usable="yes"' in html
    assert f"<code>{dash.movies}/Arrival (2016)/a.mkv</code>" in html
    matched = re.search(r'<dd id="matched-rule">(.*?)</dd>', html)
    assert matched is not None
    assert matched.group(1).startswith("radarr/4k: <code>/movies</code>")
    assert '<tr class="outcome-chosen">' in html
    assert '<tr class="outcome-outranked">' in html  # the plain radarr rule matched too
    assert '<tr class="outcome-other-source">' in html  # the sonarr rule
    assert f"item folder <code>{dash.movies}/Arrival (2016)</code>" in html

    nowhere = await dash.client.get("/mappings", params={"source": "radarr", "path": "/x/y"})
    assert 'data-usable="no"' in nowhere.text
    assert "not mapped: no rule matches" in nowhere.text
    hostile = await dash.client.get(
        "/mappings", params={"source": "radarr", "path": "/movies/<script>alert(1)</script>"}
    )
    assert "<script>alert(1)" not in hostile.text


async def test_an_unavailable_root_is_named(dash: LibraryDash) -> None:
    dash.tv.rmdir()
    mappings = await dash.client.get("/mappings")
    assert 'data-available="no"' in mappings.text
    assert f"{dash.tv} is missing" in mappings.text
    library = await dash.client.get("/library")
    assert f"Library root {dash.tv} is unavailable" in library.text


# -- not configured ------------------------------------------------------------------------------


async def test_pages_say_what_to_configure(tmp_path: Path) -> None:
    async with bare_dash(tmp_path) as client:
        for path in ("/library", "/mappings", "/library/movie/1"):
            page = await client.get(path)
            assert page.status_code == 200, path
            assert (
                "No library is configured: add [[library.roots]] to the configuration." in page.text
            ), path
        players = await client.get("/players")
        assert "No players are configured: add [[players]] to the configuration." in players.text
        image = await client.get("/library/movie/1/art/1")
        assert image.status_code == 409


async def test_a_series_page_has_its_seasons_and_its_own_poster(dash: LibraryDash) -> None:
    folder = dash.tv / "Severance"
    for relative, content in {
        "tvshow.nfo": b"<tvshow><title>Severance</title></tvshow>",
        "season01-poster.png": png(rgb=(1, 1, 1)),
        "poster.png": png(rgb=(2, 2, 2)),
        "Season 01/Severance - S01E01 - Good News.mkv": b"\0",
        "Season 01/Severance - S01E02E03 - Double.mkv": b"\0",
    }.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_bytes(content)
    scan = dash.library.scanner.scan_series(folder)
    series = (await dash.store.record_series_scan(scan, dash.library.roots.roots[1])).item_id
    listing = (await dash.client.get("/library", params={"kind": "series"})).text
    [poster] = art_links(listing)
    assert (await dash.client.get(poster)).content == png(rgb=(2, 2, 2))  # not the season's
    page = (await dash.client.get(f"/library/series/{series}")).text
    assert 'Season 1 <span class="count">3 episodes</span>' in page
    assert "S01E03" in page
    assert "season01-poster.png" in page
    movies_only = (await dash.client.get("/library", params={"kind": "movie"})).text
    assert "Severance" not in movies_only
