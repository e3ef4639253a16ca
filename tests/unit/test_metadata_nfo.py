"""Kodi NFOs: golden files byte for byte, reading back, and round-trips of what relayarr
does not manage (watched state, other tools' elements, comments, a provider URL line)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relayarr.errors import NfoMalformed
from relayarr.metadata.fields import field_names, values_of
from relayarr.metadata.models import (
    Actor,
    AnyMetadata,
    Collection,
    EpisodeMetadata,
    MovieMetadata,
    Rating,
    SeriesMetadata,
    UniqueIds,
)
from relayarr.metadata.nfo import parse_nfo, read_values, render_nfo
from relayarr.metadata.nfo.document import SPECS
from relayarr.metadata.nfo.schema import clean

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "nfo"

MOVIE = MovieMetadata(
    title="Amélie",
    original_title="Le Fabuleux Destin d'Amélie Poulain",
    sort_title="Amelie",
    year=2001,
    premiered="2001-04-25",
    plot="Amélie, an innocent and naive girl in Paris, decides to help those around her & "
    "discovers <love>.",
    outline="A shy waitress helps others.",
    tagline="She'll change your life.",
    runtime=122,
    mpaa="R",
    genres=("Comedy", "Romance"),
    studios=("Claudie Ossard Productions",),
    countries=("France", "Germany"),
    tags=("uhd",),
    ratings=(Rating("themoviedb", 7.9, 11000, 10, True), Rating("imdb", 8.3, 790000)),
    ids=UniqueIds(tmdb=194, imdb="tt0211915"),
    directors=("Jean-Pierre Jeunet",),
    writers=("Guillaume Laurant", "Jean-Pierre Jeunet"),
    actors=(
        Actor("Audrey Tautou", "Amélie Poulain", 0, "https://image.tmdb.org/t/p/original/a.jpg"),
        Actor("Mathieu Kassovitz", "Nino Quincampoix", 1),
    ),
    collection=Collection("Jeunet Collection", "", 42),
)
SERIES = SeriesMetadata(
    title="Severance",
    original_title="Severance",
    year=2022,
    premiered="2022-02-17",
    plot="Mark leads a team of office workers.",
    runtime=50,
    mpaa="TV-MA",
    status="Returning Series",
    genres=("Drama", "Mystery"),
    studios=("Apple TV+",),
    ratings=(Rating("themoviedb", 8.4, 2500, 10, True),),
    ids=UniqueIds(tmdb=95396, imdb="tt11280740", tvdb=371980, default="tvdb"),
    writers=("Dan Erickson",),
    actors=(Actor("Adam Scott", "Mark Scout", 0),),
)
EPISODE = EpisodeMetadata(
    title="Who Is Alive?",
    show_title="Severance",
    season=2,
    episode=3,
    year=2025,
    premiered="2025-01-31",
    plot="Mark and his team embark on a new project.",
    runtime=48,
    ids=UniqueIds(tmdb=5012345, tvdb=10456789, default="tvdb"),
    directors=("Ben Stiller",),
    writers=("Dan Erickson",),
    actors=(Actor("John Turturro", "Irving", 500),),
)
ART = {
    "poster": "https://image.tmdb.org/t/p/original/poster.jpg",
    "fanart": "https://image.tmdb.org/t/p/original/fanart.jpg",
    "clearlogo": "https://assets.fanart.tv/fanart/movies/194/hdmovielogo/logo.png",
}


@pytest.mark.parametrize(
    ("meta", "art", "golden"),
    [
        (MOVIE, ART, "movie.nfo"),
        (SERIES, {"poster": ART["poster"], "fanart": ART["fanart"]}, "tvshow.nfo"),
        (EPISODE, {"thumb": "https://image.tmdb.org/t/p/original/still.jpg"}, "episode.nfo"),
    ],
)
def test_golden_files(meta: AnyMetadata, art: dict[str, str], golden: str) -> None:
    rendered = render_nfo(type(meta), values_of(meta), art)
    assert rendered == (GOLDEN / golden).read_bytes()


@pytest.mark.parametrize("meta", [MOVIE, SERIES, EPISODE])
def test_what_is_written_reads_back(meta: AnyMetadata) -> None:
    kind = type(meta)
    data = render_nfo(kind, values_of(meta), {})
    values = read_values(parse_nfo(data, "x.nfo", kind), kind)
    expected = {k: v for k, v in values_of(meta).items() if v not in ("", None, ())}
    assert values == expected


def test_every_field_has_an_element() -> None:
    for kind, specs in SPECS.items():
        assert sorted(s.field for s in specs) == sorted(field_names(kind))


EXISTING = """<?xml version="1.0" encoding="utf-8"?>
<!-- written by hand -->
<movie lang="fr">
    <title>Old title</title>
    <playcount>3</playcount>
    <lastplayed>2024-05-01 20:00:00</lastplayed>
    <watched>true</watched>
    <genre>Old genre</genre>
    <resume><position>120.0</position><total>7300.0</total></resume>
    <fileinfo><streamdetails><video><codec>hevc</codec></video></streamdetails></fileinfo>
    <genre>Second old genre</genre>
    <customtool attr="x">keep me</customtool>
</movie>
https://www.themoviedb.org/movie/194
"""


def test_rewriting_keeps_what_relayarr_does_not_manage() -> None:
    document = parse_nfo(EXISTING.encode(), "movie.nfo", MovieMetadata)
    assert document.trailer == "https://www.themoviedb.org/movie/194"
    data = render_nfo(MovieMetadata, values_of(MOVIE), ART, document)
    text = data.decode("utf-8")
    assert text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n')
    assert text.endswith("</movie>\nhttps://www.themoviedb.org/movie/194\n")
    root = parse_nfo(data, "movie.nfo", MovieMetadata).root
    assert root.get("lang") == "fr"
    assert root.findtext("playcount") == "3"
    assert root.findtext("watched") == "true"
    assert root.findtext("resume/position") == "120.0"
    assert root.findtext("fileinfo/streamdetails/video/codec") == "hevc"
    assert root.find("customtool") is not None
    assert root.findtext("customtool") == "keep me"
    assert [g.text for g in root.findall("genre")] == ["Comedy", "Romance"]
    assert root.findtext("title") == "Amélie"
    # managed elements take the place of their first occurrence
    tags = [c.tag for c in root if isinstance(c.tag, str)]
    assert tags.index("title") < tags.index("playcount") < tags.index("genre")
    assert "<!-- written by hand -->" not in text  # outside the root: not kept by ElementTree
    assert "Amélie" in text
    assert "&#" not in text


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"https://www.themoviedb.org/movie/194\n", "URL-only"),
        (b"<movie><title>broken</movie>", "not well-formed XML"),
        (b"<tvshow><title>x</title></tvshow>", "root element is <tvshow>, expected <movie>"),
        (
            b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa">]><movie>&a;</movie>',
            "DTD or entities",
        ),
        (b"\xff\xfe<\x00m\x00", "not well-formed"),
    ],
)
def test_malformed_nfos_are_clear_errors(data: bytes, reason: str) -> None:
    with pytest.raises(NfoMalformed) as caught:
        parse_nfo(data, "Film.nfo", MovieMetadata)
    assert str(caught.value).startswith("Film.nfo: ")
    assert reason in str(caught.value)


def test_control_characters_are_dropped_not_written() -> None:
    meta = MovieMetadata(title="Bad\x00\x07 title\ufffe", plot="line\nbreak")
    data = render_nfo(MovieMetadata, values_of(meta), {})
    values = read_values(parse_nfo(data, "x.nfo", MovieMetadata), MovieMetadata)
    assert values["title"] == "Bad title"
    assert values["plot"] == "line\nbreak"


def test_lenient_reading_of_hand_edits() -> None:
    data = b"""<movie><year>abc</year><runtime>116 min</runtime>
      <uniqueid type="tmdb">notanumber</uniqueid><uniqueid type="imdb" default="true">tt1</uniqueid>
      <set>Old style set</set><ratings><rating name="x"><value>bad</value></rating></ratings>
      <actor><role>no name</role></actor></movie>"""
    values = read_values(parse_nfo(data, "x.nfo", MovieMetadata), MovieMetadata)
    assert values["year"] is None
    assert values["runtime"] == 116
    assert values["ids"] == UniqueIds(imdb="tt1", default="imdb")
    assert values["collection"] == Collection("Old style set")
    assert values["ratings"] == ()
    assert values["actors"] == ()


# -- property: unknown elements survive any rewrite ---------------------------------------

_names = st.from_regex(r"[a-z][a-z0-9]{0,8}", fullmatch=True).filter(
    lambda n: n not in {s.tag for s in SPECS[MovieMetadata]} | {"thumb", "fanart"}
)
_text = (
    st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="\x00\ufffe\uffff"),
        max_size=30,
    )
    .map(lambda t: "".join(c for c in t if c in "\t\n\r" or c >= " "))
    .map(str.strip)
)


@st.composite
def _unknown(draw: st.DrawFn, depth: int = 0) -> ET.Element:
    element = ET.Element(
        draw(_names), {draw(_names): draw(_text) for _ in range(draw(st.integers(0, 2)))}
    )
    if depth < 2 and draw(st.booleans()):
        element.extend(draw(_unknown(depth + 1)) for _ in range(draw(st.integers(1, 3))))
    else:
        element.text = draw(_text) or None
    return element


def _shape(element: ET.Element) -> tuple[object, ...]:
    text = (element.text or "").strip()
    return (element.tag, sorted(element.attrib.items()), text, [_shape(c) for c in element])


@settings(max_examples=40, deadline=None)
@given(
    unknown=st.lists(_unknown(), min_size=1, max_size=5),
    title=_text,
    genres=st.lists(_text, max_size=3),
)
def test_unknown_elements_survive_a_rewrite(
    unknown: list[ET.Element], title: str, genres: list[str]
) -> None:
    root = ET.Element("movie")
    ET.SubElement(root, "title").text = "old"
    root.extend(unknown)
    original = ET.tostring(root, encoding="utf-8")
    document = parse_nfo(original, "x.nfo", MovieMetadata)
    before = [_shape(c) for c in document.root if c.tag != "title"]
    assert len(before) == len(unknown)
    meta = MovieMetadata(title=title, genres=tuple(genres))
    rewritten = render_nfo(MovieMetadata, values_of(meta), {}, document)
    again = parse_nfo(rewritten, "x.nfo", MovieMetadata)
    kept = [_shape(c) for c in again.root if c.tag not in {"title", "genre"}]
    assert kept == before
    assert read_values(again, MovieMetadata).get("title", "") == clean(title)
    # and a second rewrite changes nothing: the output is a fixed point
    assert render_nfo(MovieMetadata, values_of(meta), {}, again) == rewritten
