"""The scanner on real directory trees made here: movies, series, season packs,
multi-episode files, Unicode, upgrades, renames, and files that cannot be read.

Unreadable files: the tests run as root, which chmod 000 does not stop, so they use what
does fail for root too: a FIFO (never opened: it would block), a dangling symlink, a
symlink loop (ELOOP), a symlink out of the library, and a name that is not UTF-8.
"""

from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path

import pytest

from relayarr.errors import FolderMissing, LibraryError
from relayarr.library.naming import ArtworkScope
from relayarr.library.results import MovieScan
from relayarr.library.scanner import Scanner
from relayarr.library.walk import folder_signature

NFO = (
    '<?xml version="1.0" encoding="utf-8"?><movie><title>{title}</title><year>{year}</year>'
    '<uniqueid type="tmdb" default="true">{tmdb}</uniqueid></movie>'
)


def make(root: Path, files: dict[str, bytes | str | int]) -> Path:
    """Files under ``root``: bytes or text as content, an int as that many zero bytes."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, int):
            path.write_bytes(b"\0" * content)
        elif isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
    return root


@pytest.fixture
def arrival(tmp_path: Path) -> Path:
    return make(
        tmp_path / "movies" / "Arrival (2016)",
        {
            "Arrival (2016).mkv": 5000,
            "Arrival (2016)-trailer.mkv": 300,
            "Arrival.2016.sample.mkv": 100,
            "movie.nfo": NFO.format(title="Arrival", year=2016, tmdb=329865),
            "Arrival (2016).nfo": NFO.format(title="Stem NFO", year=2016, tmdb=1),
            "poster.jpg": 10,
            "fanart.jpg": 10,
            "clearlogo.png": 10,
            "Arrival (2016)-banner.jpg": 10,
            "Arrival (2016)-landscape.jpg": 10,
            "Arrival (2016).en.srt": 5,
            "Arrival (2016).en.forced.srt": 5,
            "Arrival (2016).pt-BR.sdh.default.srt": 5,
            "Extras/Interview.mkv": 50,
            "Featurettes/Making Of.mkv": 50,
            "Behind The Scenes/Set.mkv": 50,
            "Deleted Scenes/Cut.mkv": 50,
            "Trailers/Teaser.mkv": 50,
            "Visual Effects-featurette.mkv": 50,
            "extrafanart/b.jpg": 10,
            "extrafanart/a.jpg": 10,
            "Subs/2_French.srt": 5,
            "Sample/sample-clip.mkv": 10,
            "notes.txt": 1,
        },
    )


def test_a_movie_folder_is_read_whole(arrival: Path) -> None:
    scan = Scanner().scan_movie(arrival)
    assert scan.folder == str(arrival)
    assert scan.video is not None
    assert scan.video.path == "Arrival (2016).mkv"
    assert scan.video.size == 5000
    assert scan.other_videos == ()
    # movie.nfo wins over <stem>.nfo, as in Kodi; the other one is listed, not read.
    assert scan.nfo is not None
    assert scan.nfo.file.path == "movie.nfo"
    assert scan.nfo.info is not None
    assert scan.nfo.info.main.title == "Arrival"
    assert scan.nfo.info.main.unique_id("tmdb") == "329865"
    assert [file.path for file in scan.other_nfos] == ["Arrival (2016).nfo"]
    art = {(a.file.path, a.kind, a.scope, a.video, a.index) for a in scan.artwork}
    video = "Arrival (2016).mkv"
    assert art == {
        ("poster.jpg", "poster", ArtworkScope.FOLDER, None, None),
        ("fanart.jpg", "fanart", ArtworkScope.FOLDER, None, None),
        ("clearlogo.png", "clearlogo", ArtworkScope.FOLDER, None, None),
        ("Arrival (2016)-banner.jpg", "banner", ArtworkScope.VIDEO, video, None),
        ("Arrival (2016)-landscape.jpg", "landscape", ArtworkScope.VIDEO, video, None),
        ("extrafanart/a.jpg", "fanart", ArtworkScope.FOLDER, None, 1),
        ("extrafanart/b.jpg", "fanart", ArtworkScope.FOLDER, None, 2),
    }
    subs = {(s.file.path, s.video, s.language, s.flags) for s in scan.subtitles}
    assert subs == {
        ("Arrival (2016).en.srt", video, "en", ()),
        ("Arrival (2016).en.forced.srt", video, "en", ("forced",)),
        ("Arrival (2016).pt-BR.sdh.default.srt", video, "pt-BR", ("default", "sdh")),
        ("Subs/2_French.srt", video, "fr", ()),
    }
    assert [file.path for file in scan.trailers] == [
        "Arrival (2016)-trailer.mkv",
        "Trailers/Teaser.mkv",
    ]
    assert {(extra.file.path, extra.kind) for extra in scan.extras} == {
        ("Extras/Interview.mkv", "extra"),
        ("Featurettes/Making Of.mkv", "featurette"),
        ("Behind The Scenes/Set.mkv", "behindthescenes"),
        ("Deleted Scenes/Cut.mkv", "deleted"),
        ("Visual Effects-featurette.mkv", "featurette"),
    }
    assert {file.path for file in scan.samples} == {
        "Arrival.2016.sample.mkv",
        "Sample/sample-clip.mkv",
    }
    assert [file.path for file in scan.other_files] == ["notes.txt"]
    assert scan.issues == ()
    assert not scan.hint_missing


def test_the_stem_nfo_is_read_without_movie_nfo(arrival: Path) -> None:
    (arrival / "movie.nfo").unlink()
    scan = Scanner().scan_movie(arrival)
    assert scan.nfo is not None
    assert scan.nfo.info is not None
    assert scan.nfo.info.main.title == "Stem NFO"


def test_the_largest_non_sample_video_is_the_main_one(tmp_path: Path) -> None:
    folder = make(
        tmp_path / "M (2000)",
        {"cd1.mkv": 700, "cd2.mkv": 800, "M.sample.mkv": 9000, "M-trailer.mkv": 9000},
    )
    scan = Scanner().scan_movie(folder)
    assert scan.video is not None
    assert scan.video.path == "cd2.mkv"
    assert [file.path for file in scan.other_videos] == ["cd1.mkv"]


def test_the_hinted_file_is_the_main_video(arrival: Path) -> None:
    make(arrival, {"Arrival (2016) [Remux].mkv": 10})
    scan = Scanner().scan_movie(arrival, hint=str(arrival / "Arrival (2016) [Remux].mkv"))
    assert scan.video is not None
    assert scan.video.path == "Arrival (2016) [Remux].mkv"
    relative = Scanner().scan_movie(arrival, hint="Arrival (2016) [Remux].mkv")
    assert relative.video == scan.video


def test_a_hint_naming_a_missing_file_is_reported(arrival: Path) -> None:
    scan = Scanner().scan_movie(arrival, hint=str(arrival / "Gone.mkv"))
    assert scan.hint_missing
    assert scan.video is not None
    assert scan.video.path == "Arrival (2016).mkv"  # the scan itself still stands
    assert [(issue.path, issue.problem) for issue in scan.issues] == [
        ("Gone.mkv", "the file named by the event is not in the folder")
    ]


def test_an_upgrade_replaces_the_main_video_and_changes_the_signature(arrival: Path) -> None:
    scanner = Scanner()
    before = scanner.scan_movie(arrival)
    (arrival / "Arrival (2016).mkv").unlink()
    make(arrival, {"Arrival (2016) [Bluray-2160p].mkv": 9000})
    for old in arrival.glob("Arrival (2016).*.srt"):
        old.rename(arrival / old.name.replace("(2016).", "(2016) [Bluray-2160p]."))
    after = scanner.scan_movie(arrival, hint="Arrival (2016) [Bluray-2160p].mkv")
    assert after.video is not None
    assert after.video.path == "Arrival (2016) [Bluray-2160p].mkv"
    assert {s.video for s in after.subtitles} == {"Arrival (2016) [Bluray-2160p].mkv"}
    assert after.signature != before.signature


def test_the_signature_is_stable_and_follows_every_change(arrival: Path) -> None:
    scanner = Scanner()
    first = scanner.scan_movie(arrival).signature
    assert scanner.scan_movie(arrival).signature == first
    assert folder_signature(arrival) == first  # the reconciler's walk agrees
    (arrival / "poster.jpg").write_bytes(b"a different poster")
    grown = scanner.scan_movie(arrival).signature
    assert grown != first
    os.utime(arrival / "poster.jpg", ns=(1, 1))
    touched = scanner.scan_movie(arrival).signature
    assert touched != grown
    (arrival / "poster.jpg").rename(arrival / "folder.jpg")
    renamed = scanner.scan_movie(arrival).signature
    assert renamed != touched
    (arrival / "Extras" / "deep").mkdir()
    assert scanner.scan_movie(arrival).signature != renamed  # even an empty folder counts


def test_unicode_names_in_both_normal_forms(tmp_path: Path) -> None:
    title = "Amélie (2001)"
    composed = unicodedata.normalize("NFC", title)
    decomposed = unicodedata.normalize("NFD", title)
    folder = make(
        tmp_path / composed,
        {
            f"{composed}.mkv": 100,
            f"{composed}-poster.jpg": 1,
            f"{decomposed}.fr.srt": 1,  # as a Mac writes it: does not match the NFC stem
            "千と千尋の神隠し 🎬.en.srt": 1,
            "movie.nfo": NFO.format(title="Le Fabuleux Destin d\u2019Amélie", year=2001, tmdb=194),
        },
    )
    scan = Scanner().scan_movie(folder)
    assert scan.video is not None
    assert scan.video.path == f"{composed}.mkv"
    assert scan.artwork[0].video == f"{composed}.mkv"
    assert scan.nfo is not None
    assert scan.nfo.info is not None
    assert scan.nfo.info.main.title == "Le Fabuleux Destin d\u2019Amélie"
    languages = {s.file.path: s.language for s in scan.subtitles}
    assert languages[f"{decomposed}.fr.srt"] == "fr"
    assert languages["千と千尋の神隠し 🎬.en.srt"] == "en"
    json.dumps(scan.to_json(), ensure_ascii=False).encode("utf-8")  # storable as it is


def test_a_corrupt_nfo_is_a_per_file_error(arrival: Path) -> None:
    (arrival / "movie.nfo").write_text("<movie><title>Broken</movie>")
    scan = Scanner().scan_movie(arrival)
    assert scan.nfo is not None
    assert scan.nfo.info is None
    assert scan.nfo.error == "corrupt NFO: not valid XML: mismatched tag: line 1, column 22"
    assert [(issue.path, issue.problem) for issue in scan.issues] == [
        ("movie.nfo", "corrupt NFO: not valid XML: mismatched tag: line 1, column 22")
    ]
    assert scan.video is not None  # the rest of the scan stands


def test_unreadable_entries_are_per_file_errors(arrival: Path, tmp_path: Path) -> None:
    os.mkfifo(arrival / "poster-fifo.jpg")
    (arrival / "movie.nfo").unlink()
    os.mkfifo(arrival / "movie.nfo")  # would block for ever if opened
    (arrival / "dangling.srt").symlink_to(arrival / "nowhere.srt")
    (arrival / "loop.nfo").symlink_to(arrival / "loop.nfo")
    outside = make(tmp_path / "elsewhere", {"secret.nfo": "<movie/>"})
    (arrival / "escape.nfo").symlink_to(outside / "secret.nfo")
    (arrival / "Linked Extras").symlink_to(arrival / "Extras", target_is_directory=True)
    bad_name = os.fsencode(arrival) + b"/bad-\xff-name.mkv"
    with open(bad_name, "wb") as handle:
        handle.write(b"x")

    scan = Scanner(confine_to=[tmp_path / "movies"]).scan_movie(arrival)

    problems = {issue.path: issue.problem for issue in scan.issues}
    assert problems == {
        "poster-fifo.jpg": "not a regular file (a FIFO, socket or device); not read",
        "movie.nfo": "not a regular file (a FIFO, socket or device); not read",
        "dangling.srt": "No such file or directory (a dangling symbolic link, or removed "
        "while scanning)",
        "loop.nfo": "Too many levels of symbolic links",
        "escape.nfo": f"symbolic link leads outside the library (to {outside}/secret.nfo)",
        "Linked Extras": "a symbolic link to a folder; not followed",
        "bad-\ufffd-name.mkv": "the name is not valid UTF-8; rename it",
    }
    assert scan.nfo is not None  # the stem NFO still counts
    assert scan.nfo.file.path == "Arrival (2016).nfo"
    assert scan.video is not None
    assert scan.video.path == "Arrival (2016).mkv"
    json.dumps(scan.to_json()).encode("utf-8")


def test_a_symlinked_file_inside_the_library_is_read(arrival: Path, tmp_path: Path) -> None:
    (arrival / "movie.nfo").rename(tmp_path / "movies" / "shared.nfo")
    (arrival / "movie.nfo").symlink_to(tmp_path / "movies" / "shared.nfo")
    scan = Scanner(confine_to=[tmp_path / "movies"]).scan_movie(arrival)
    assert scan.nfo is not None
    assert scan.nfo.info is not None
    assert scan.nfo.info.main.title == "Arrival"
    assert scan.issues == ()


def test_the_signature_does_not_depend_on_the_fence(arrival: Path, tmp_path: Path) -> None:
    (arrival / "escape.nfo").symlink_to("/etc/hostname")
    fenced = Scanner(confine_to=[tmp_path / "movies"]).scan_movie(arrival)
    assert fenced.signature == Scanner().scan_movie(arrival).signature


def test_a_missing_folder_raises_and_names_it(tmp_path: Path) -> None:
    with pytest.raises(FolderMissing, match=f"cannot scan {tmp_path}/nope: it does not exist"):
        Scanner().scan_movie(tmp_path / "nope")
    make(tmp_path, {"file.mkv": 1})
    with pytest.raises(LibraryError, match="it is not a folder"):
        Scanner().scan_series(tmp_path / "file.mkv")


def test_an_empty_folder_scans_to_nothing(tmp_path: Path) -> None:
    (tmp_path / "Empty (2020)").mkdir()
    scan = Scanner().scan_movie(tmp_path / "Empty (2020)")
    assert scan.video is None
    assert scan.signature == "0" * 32 + "-0"


def test_results_are_json(arrival: Path) -> None:
    document = Scanner().scan_movie(arrival).to_json()
    assert json.loads(json.dumps(document)) == document
    video = document["video"]
    assert isinstance(video, dict)
    assert video["path"] == "Arrival (2016).mkv"
    artwork = document["artwork"]
    assert isinstance(artwork, list)
    assert {"kind": "poster", "scope": "folder"}.items() <= next(
        item for item in artwork if isinstance(item, dict) and item["kind"] == "poster"
    ).items()


# -- series --------------------------------------------------------------------------------

SHOW = "Severance"
EP = "Severance - S01E01 - Good News About Hell"


@pytest.fixture
def severance(tmp_path: Path) -> Path:
    return make(
        tmp_path / "tv" / SHOW,
        {
            "tvshow.nfo": '<tvshow><title>Severance</title><uniqueid type="tvdb" '
            'default="true">371980</uniqueid></tvshow>',
            "poster.jpg": 1,
            "fanart.jpg": 1,
            "banner.jpg": 1,
            "clearlogo.png": 1,
            "season01-poster.jpg": 1,
            "season02-poster.jpg": 1,
            "season-specials-poster.jpg": 1,
            "season-all-banner.jpg": 1,
            f"Season 01/{EP}.mkv": 1000,
            f"Season 01/{EP}.nfo": "<episodedetails><title>Good News About Hell</title>"
            "<season>1</season><episode>1</episode></episodedetails>",
            f"Season 01/{EP}-thumb.jpg": 1,
            f"Season 01/{EP}.en.srt": 1,
            f"Season 01/{EP}.en.forced.srt": 1,
            "Season 01/Severance - S01E02E03 - Half Loop.mkv": 1000,
            "Season 01/Severance - S01E04-E06 - Three Parts.mkv": 1000,
            "Season 01/fanart.jpg": 1,
            "Season 01/Extras/Inside Lumon.mkv": 10,
            "Season 01/Severance.S01E01.sample.mkv": 10,
            "Specials/Severance - S00E01 - Lumon Orientation.mkv": 100,
            "Season 2/Severance - 2x01 - Hello, Ms. Cobel.mkv": 1000,
            "Season 2/Episode 2.mkv": 1000,
            "Season 2/Untitled.mkv": 1000,
            "Featurettes/The Making.mkv": 10,
            "Severance - S03E01 - Loose.mkv": 1000,
        },
    )


def test_a_series_folder_is_read_whole(severance: Path) -> None:
    (severance / "Season 03").mkdir()
    scan = Scanner().scan_series(severance)
    assert scan.nfo is not None
    assert scan.nfo.info is not None
    assert scan.nfo.info.main.unique_id("tvdb") == "371980"
    assert {(a.file.path, a.kind, a.scope) for a in scan.artwork} == {
        ("poster.jpg", "poster", ArtworkScope.FOLDER),
        ("fanart.jpg", "fanart", ArtworkScope.FOLDER),
        ("banner.jpg", "banner", ArtworkScope.FOLDER),
        ("clearlogo.png", "clearlogo", ArtworkScope.FOLDER),
        ("season-all-banner.jpg", "banner", ArtworkScope.ALL_SEASONS),
    }
    seasons = {s.number: (s.folder, sorted(a.file.path for a in s.artwork)) for s in scan.seasons}
    assert seasons == {
        0: ("Specials", ["season-specials-poster.jpg"]),
        1: ("Season 01", ["Season 01/fanart.jpg", "season01-poster.jpg"]),
        2: ("Season 2", ["season02-poster.jpg"]),
        3: ("Season 03", []),
    }
    numbered = [(e.season, e.episodes, e.file.path) for e in scan.episodes]
    assert numbered == [
        (0, (1,), "Specials/Severance - S00E01 - Lumon Orientation.mkv"),
        (1, (1,), f"Season 01/{EP}.mkv"),
        (1, (2, 3), "Season 01/Severance - S01E02E03 - Half Loop.mkv"),
        (1, (4, 5, 6), "Season 01/Severance - S01E04-E06 - Three Parts.mkv"),
        (2, (1,), "Season 2/Severance - 2x01 - Hello, Ms. Cobel.mkv"),
        (2, (2,), "Season 2/Episode 2.mkv"),
        (3, (1,), "Severance - S03E01 - Loose.mkv"),
    ]
    first = scan.episodes[1]
    assert first.nfo is not None
    assert first.nfo.info is not None
    assert first.nfo.info.main.title == "Good News About Hell"
    assert [(a.kind, a.scope) for a in first.artwork] == [("thumb", ArtworkScope.VIDEO)]
    assert sorted((s.language, s.flags) for s in first.subtitles) == [
        ("en", ()),
        ("en", ("forced",)),
    ]
    assert [file.path for file in scan.unnumbered] == ["Season 2/Untitled.mkv"]
    assert {(extra.file.path, extra.kind) for extra in scan.extras} == {
        ("Season 01/Extras/Inside Lumon.mkv", "extra"),
        ("Featurettes/The Making.mkv", "featurette"),
    }
    assert [file.path for file in scan.samples] == ["Season 01/Severance.S01E01.sample.mkv"]
    assert scan.issues == ()


def test_a_season_pack_of_fifty_episodes(tmp_path: Path) -> None:
    folder = make(
        tmp_path / "Show",
        {f"Season 04/Show - S04E{n:02d} - Part {n}.mkv": 10 for n in range(1, 51)},
    )
    scan = Scanner().scan_series(folder)
    assert [e.episodes for e in scan.episodes] == [(n,) for n in range(1, 51)]
    assert [s.number for s in scan.seasons] == [4]


def test_episode_renames_show_in_the_next_scan(severance: Path) -> None:
    scanner = Scanner()
    before = scanner.scan_series(severance)
    old = severance / "Season 01" / "Severance - S01E02E03 - Half Loop.mkv"
    old.rename(old.with_name("Severance - S01E02E03 - Half Loop [WEBDL-1080p].mkv"))
    after = scanner.scan_series(severance)
    assert after.signature != before.signature
    assert "Season 01/Severance - S01E02E03 - Half Loop [WEBDL-1080p].mkv" in {
        e.file.path for e in after.episodes
    }


def test_deleting_an_episode_removes_it(severance: Path) -> None:
    (severance / "Season 2" / "Episode 2.mkv").unlink()
    scan = Scanner().scan_series(severance)
    assert (2, (2,)) not in [(e.season, e.episodes) for e in scan.episodes]


def test_a_corrupt_episode_nfo_is_reported_and_the_episode_kept(severance: Path) -> None:
    (severance / "Season 01" / f"{EP}.nfo").write_bytes(b"\x00\x01 not xml")
    scan = Scanner().scan_series(severance)
    first = next(e for e in scan.episodes if e.file.path == f"Season 01/{EP}.mkv")
    assert first.nfo is not None
    assert first.nfo.error is not None
    assert first.nfo.error.startswith("corrupt NFO: ")
    assert [issue.path for issue in scan.issues] == [f"Season 01/{EP}.nfo"]


def test_unicode_episode_names(tmp_path: Path) -> None:
    folder = make(
        tmp_path / "Мастер и Маргарита",
        {
            "Сезон 1/Мастер и Маргарита - S01E01 - Глава первая.mkv": 10,
            "Сезон 1/Мастер и Маргарита - S01E01 - Глава первая.ru.srt": 1,
        },
    )
    scan = Scanner().scan_series(folder)
    assert len(scan.episodes) == 1
    assert scan.episodes[0].subtitles[0].language == "ru"


def test_scan_to_json_nests_nfo_values(arrival: Path) -> None:
    scan: MovieScan = Scanner().scan_movie(arrival)
    nfo = scan.to_json()["nfo"]
    assert isinstance(nfo, dict)
    info = nfo["info"]
    assert isinstance(info, dict)
    documents = info["documents"]
    assert isinstance(documents, list)
    first = documents[0]
    assert isinstance(first, dict)
    assert first["unique_ids"] == [{"type": "tmdb", "value": "329865", "default": True}]
