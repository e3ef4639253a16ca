"""What names say: episode numbers, season folders, subtitle languages and flags,
artwork in both Kodi styles, extras; and Kodi NFO files of every kind."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from relayarr.library.episodes import MAX_RANGE, EpisodeNumbers, episode_numbers, season_folder
from relayarr.library.naming import ArtworkName, ArtworkScope, artwork_name, is_sample
from relayarr.library.nfo import MAX_NFO_BYTES, NfoError, UniqueId, parse_nfo
from relayarr.library.subtitles import SubtitleName, language_code, subtitle_name


@pytest.mark.parametrize(
    ("name", "season", "episodes"),
    [
        ("Severance - S02E03 - Who Is Alive [WEBDL-2160p].mkv", 2, (3,)),
        ("show.s01e01.720p.mkv", 1, (1,)),
        ("Show - S01E01E02 - Repeat.mkv", 1, (1, 2)),
        ("Show - S01E01-E02 - Prefixed.mkv", 1, (1, 2)),
        ("Show - S01E01-E03 - Prefixed Range.mkv", 1, (1, 2, 3)),
        ("Show - S01E01-03 - Range.mkv", 1, (1, 2, 3)),
        ("Show - S01E01-02-03 - Extend.mkv", 1, (1, 2, 3)),
        ("Show - S01E01.S01E02 - Duplicate.mkv", 1, (1, 2)),
        ("Show - S01E01 E02 E05.mkv", 1, (1, 2, 5)),
        ("Show - 1x01 - Title.mkv", 1, (1,)),
        ("Show - 1x01x02.mkv", 1, (1, 2)),
        ("Show - 1x01-03.mkv", 1, (1, 2, 3)),
        ("Show S2024E100.mkv", 2024, (100,)),
        ("Show - S01E01 - Eleven.mkv", 1, (1,)),
        ("Show - S01E01-1080p.mkv", 1, (1,)),  # not 1,080 episodes
        ("Мастер и Маргарита - S01E02 - Глава.mkv", 1, (2,)),
    ],
)
def test_episode_numbers_in_every_style(name: str, season: int, episodes: tuple[int, ...]) -> None:
    assert episode_numbers(name) == EpisodeNumbers(season, episodes)


@pytest.mark.parametrize(
    "name",
    [
        "Show 1920x1080.mkv",
        "Movie (2016).mkv",
        "Show - Episode 5.mkv",  # no season folder to count it in
        "Seasons01e01.mkv",  # s01e01 inside a word
        "Show 2024-01-31.mkv",
    ],
)
def test_names_without_episode_numbers(name: str) -> None:
    assert episode_numbers(name) is None


def test_a_bare_episode_counts_inside_a_season_folder() -> None:
    assert episode_numbers("Episode 5.mkv", folder_season=2) == EpisodeNumbers(2, (5,))
    assert episode_numbers("Show.E07.mkv", folder_season=0) == EpisodeNumbers(0, (7,))
    # The name's full numbering wins over the folder.
    assert episode_numbers("S03E01.mkv", folder_season=2) == EpisodeNumbers(3, (1,))


@given(season=st.integers(0, 99), first=st.integers(1, 500), count=st.integers(1, MAX_RANGE))
def test_property_ranges_expand_in_every_dash_style(season: int, first: int, count: int) -> None:
    last = first + count
    expected = EpisodeNumbers(season, tuple(range(first, last + 1)))
    assert episode_numbers(f"x - S{season:02d}E{first:02d}-E{last:02d}.mkv") == expected
    assert episode_numbers(f"x - S{season:02d}E{first:02d}-{last:02d}.mkv") == expected


@pytest.mark.parametrize(
    ("name", "season"),
    [
        ("Season 01", 1),
        ("Season 1", 1),
        ("season 12", 12),
        ("S03", 3),
        ("Season 2024", 2024),
        ("Specials", 0),
        ("Season 00", 0),
        ("Staffel 4", 4),
        ("Season 1 (2019)", 1),
    ],
)
def test_season_folders(name: str, season: int) -> None:
    assert season_folder(name) == season


@pytest.mark.parametrize("name", ["Extras", "Seasonal", "Featurettes", "Sample", "S"])
def test_other_folders_are_no_season(name: str) -> None:
    assert season_folder(name) is None


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Arrival (2016).en.srt", SubtitleName("en", (), None)),
        ("Arrival (2016).en.forced.srt", SubtitleName("en", ("forced",), None)),
        ("Arrival (2016).pt-BR.sdh.srt", SubtitleName("pt-BR", ("sdh",), None)),
        ("Arrival (2016).pt_br.cc.srt", SubtitleName("pt-BR", ("sdh",), None)),
        ("Arrival (2016).eng.default.forced.ass", SubtitleName("eng", ("default", "forced"), None)),
        ("Arrival (2016).zh-Hans.srt", SubtitleName("zh-Hans", (), None)),
        ("Arrival (2016).srt", SubtitleName(None, (), None)),
        ("Arrival (2016).English.hi.srt", SubtitleName("en", ("sdh",), None)),
        (
            "Arrival (2016).en.Director Commentary.srt",
            SubtitleName("en", (), "Director Commentary"),
        ),
        ("Arrival (2016).fr.commentary.srt", SubtitleName("fr", ("commentary",), None)),
    ],
)
def test_subtitle_language_and_flags(name: str, expected: SubtitleName) -> None:
    assert subtitle_name(name, "Arrival (2016)") == expected


def test_loose_subtitles_are_read_from_their_whole_name() -> None:
    assert subtitle_name("2_English.srt", None) == SubtitleName("en", (), None)
    assert subtitle_name("French.forced.srt", None) == SubtitleName("fr", ("forced",), None)
    assert subtitle_name("track3.srt", None) == SubtitleName(None, (), "track3")


def test_language_codes() -> None:
    assert language_code("EN") == "en"
    assert language_code("ger") == "ger"
    assert language_code("pt-br") == "pt-BR"
    assert language_code("es-419") == "es-419"
    assert language_code("xx") is None
    assert language_code("theatrical") is None


VIDEOS = frozenset({"Arrival (2016)", "Severance - S01E01 - Good News"})


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("poster", ArtworkName("poster", ArtworkScope.FOLDER)),
        ("folder", ArtworkName("poster", ArtworkScope.FOLDER)),
        ("fanart", ArtworkName("fanart", ArtworkScope.FOLDER)),
        ("fanart2", ArtworkName("fanart", ArtworkScope.FOLDER, index=2)),
        ("backdrop", ArtworkName("fanart", ArtworkScope.FOLDER)),
        ("Banner", ArtworkName("banner", ArtworkScope.FOLDER)),
        ("clearlogo", ArtworkName("clearlogo", ArtworkScope.FOLDER)),
        ("logo", ArtworkName("clearlogo", ArtworkScope.FOLDER)),
        ("clearart", ArtworkName("clearart", ArtworkScope.FOLDER)),
        ("discart", ArtworkName("discart", ArtworkScope.FOLDER)),
        ("disc", ArtworkName("discart", ArtworkScope.FOLDER)),
        ("landscape", ArtworkName("landscape", ArtworkScope.FOLDER)),
        ("keyart", ArtworkName("keyart", ArtworkScope.FOLDER)),
        ("thumb", ArtworkName("thumb", ArtworkScope.FOLDER)),
        (
            "Arrival (2016)-poster",
            ArtworkName("poster", ArtworkScope.VIDEO, video_stem="Arrival (2016)"),
        ),
        (
            "Arrival (2016)-clearlogo",
            ArtworkName("clearlogo", ArtworkScope.VIDEO, video_stem="Arrival (2016)"),
        ),
        (
            "Severance - S01E01 - Good News-thumb",
            ArtworkName("thumb", ArtworkScope.VIDEO, video_stem="Severance - S01E01 - Good News"),
        ),
        ("Arrival (2016)", ArtworkName("thumb", ArtworkScope.VIDEO, video_stem="Arrival (2016)")),
        ("season01-poster", ArtworkName("poster", ArtworkScope.SEASON, season=1)),
        ("season1-fanart", ArtworkName("fanart", ArtworkScope.SEASON, season=1)),
        ("season-specials-poster", ArtworkName("poster", ArtworkScope.SEASON, season=0)),
        ("season00-banner", ArtworkName("banner", ArtworkScope.SEASON, season=0)),
        ("season-all-poster", ArtworkName("poster", ArtworkScope.ALL_SEASONS)),
    ],
)
def test_artwork_in_both_kodi_styles(stem: str, expected: ArtworkName) -> None:
    assert artwork_name(stem, VIDEOS) == expected


@pytest.mark.parametrize(
    "stem", ["screenshot", "Other Movie-poster", "season01-screenshot", "posterior", "cover-art"]
)
def test_other_images_are_no_artwork(stem: str) -> None:
    assert artwork_name(stem, VIDEOS) is None


@pytest.mark.parametrize(
    ("stem", "sample"),
    [("sample", True), ("movie-sample", True), ("x.SAMPLE", True), ("Samples Of Life", False)],
)
def test_samples(stem: str, sample: bool) -> None:
    assert is_sample(stem) is sample


# -- NFO -----------------------------------------------------------------------------------

RADARR_NFO = b"""<?xml version="1.0" encoding="utf-8" standalone="yes"?>
<movie>
  <title>Arrival</title>
  <originaltitle>Arrival</originaltitle>
  <plot>A linguist is recruited by the military.</plot>
  <id>329865</id>
  <uniqueid type="tmdb" default="true">329865</uniqueid>
  <uniqueid type="imdb">tt2543164</uniqueid>
  <premiered>2016-11-10</premiered>
  <year>2016</year>
</movie>
"""


def test_a_radarr_nfo() -> None:
    nfo = parse_nfo(RADARR_NFO)
    movie = nfo.main
    assert movie.kind == "movie"
    assert movie.title == "Arrival"
    assert movie.original_title == "Arrival"
    assert movie.year == 2016
    assert movie.premiered == "2016-11-10"
    assert movie.plot == "A linguist is recruited by the military."
    assert movie.unique_ids == (
        UniqueId("tmdb", "329865", default=True),
        UniqueId("imdb", "tt2543164", default=False),
    )
    assert movie.unique_id("imdb") == "tt2543164"
    assert nfo.url is None


def test_year_from_premiered_and_bad_numbers_ignored() -> None:
    movie = parse_nfo(b"<movie><premiered>1999-03-31</premiered><year>n/a</year></movie>").main
    assert movie.year == 1999
    assert parse_nfo(b"<movie><premiered>soon</premiered></movie>").main.premiered is None


def test_legacy_id_tags_fill_missing_unique_ids() -> None:
    movie = parse_nfo(
        b'<movie><uniqueid type="imdb">tt1</uniqueid><imdbid>tt2</imdbid><tmdbid>7</tmdbid></movie>'
    ).main
    assert movie.unique_ids == (UniqueId("imdb", "tt1", False), UniqueId("tmdb", "7", False))


def test_unicode_in_other_encodings() -> None:
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?><movie><title>Amélie</title></movie>'
    assert parse_nfo(latin.encode("latin-1")).main.title == "Amélie"
    bom = "\ufeff<movie><title>千と千尋の神隠し</title></movie>".encode()
    assert parse_nfo(bom).main.title == "千と千尋の神隠し"


def test_parsing_and_combination_nfos_keep_their_url() -> None:
    assert parse_nfo(b"https://www.themoviedb.org/movie/329865\n").url == (
        "https://www.themoviedb.org/movie/329865"
    )
    combined = parse_nfo(RADARR_NFO + b"https://www.imdb.com/title/tt2543164/?ref=a&b=c\n")
    assert combined.main.title == "Arrival"
    assert combined.url == "https://www.imdb.com/title/tt2543164/?ref=a&b=c"


def test_multi_episode_nfo_holds_every_episode() -> None:
    text = b"".join(
        b'<?xml version="1.0"?>\n<episodedetails><title>Part %d</title><season>1</season>'
        b"<episode>%d</episode></episodedetails>\n" % (n, n)
        for n in (1, 2)
    )
    nfo = parse_nfo(text)
    assert [(doc.title, doc.season, doc.episode) for doc in nfo.documents] == [
        ("Part 1", 1, 1),
        ("Part 2", 1, 2),
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"<movie><title>x</movie>", "not valid XML: mismatched tag: line 1, column 17"),
        (b"", "empty file"),
        (b"  \n", "empty file"),
        (b"just words", "neither XML nor a provider URL"),
        (b'<!DOCTYPE m [<!ENTITY e "x">]><movie>&e;</movie>', "refused unsafe XML"),
        (b"x" * (MAX_NFO_BYTES + 1), "larger than 4 MiB"),
    ],
)
def test_corrupt_nfos_say_why(data: bytes, reason: str) -> None:
    with pytest.raises(NfoError, match=reason):
        parse_nfo(data)
