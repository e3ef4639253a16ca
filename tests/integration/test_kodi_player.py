"""The Kodi notifier against a real Kodi 20 (headless, tests/kodi.py).

relayarr sees the media under ``/library/...``; the test maps that to the folders Kodi's
sources point at, as ``[[players.mappings]]`` would. Every test uses folders of its own,
so they share the one Kodi of the session.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from kodi import KodiServer, kodi_server
from relayarr.errors import PlayerAuthFailed, PlayerPathError, PlayerUnreachable
from relayarr.players.change import Action, Kind, MediaChange, MediaIds
from relayarr.players.groups import Dispatcher
from relayarr.players.kodi import KodiNotifier
from relayarr.players.notifier import Outcome
from relayarr.players.settings import (
    DuringPlayback,
    GroupMode,
    GroupSettings,
    PlayerSettings,
    PlayersSection,
)

pytestmark = pytest.mark.slow

LOCAL_MOVIES = "/library/movies"
LOCAL_TV = "/library/tv"


@pytest.fixture
def kodi() -> KodiServer:
    return kodi_server()


def mapper(kodi: KodiServer) -> Callable[[str], str]:
    """Local path -> Kodi's path, for the two test sources (a stand-in for the mapper)."""
    table = {LOCAL_MOVIES: str(kodi.movies), LOCAL_TV: str(kodi.tvshows)}

    def to_player(path: str) -> str:
        for local, remote in table.items():
            if path == local or path.startswith(local + "/"):
                return remote + path[len(local) :]
        raise PlayerPathError("kodi-test", path)

    return to_player


def settings(kodi: KodiServer, *, name: str = "kodi-test", **extra: object) -> PlayerSettings:
    values: dict[str, object] = {
        "name": name,
        "type": "kodi",
        "url": kodi.url,
        "username": kodi.username,
        "password": kodi.password,
        "verify_timeout": 60,
    }
    values.update(extra)
    return PlayerSettings.model_validate(values)


@pytest.fixture
async def notifier(kodi: KodiServer) -> AsyncIterator[KodiNotifier]:
    notifier = KodiNotifier(settings(kodi), mapper(kodi))
    yield notifier
    await notifier.aclose()


def make_movie(kodi: KodiServer, title: str, year: int) -> MediaChange:
    """A movie folder whose name is not its title: the title can only come from the NFO."""
    folder_name = f"dl.{uuid.uuid4().hex[:8]}"
    folder = kodi.movies / folder_name
    folder.mkdir()
    (folder / "video.mkv").write_bytes(b"\0" * 2048)
    (folder / "movie.nfo").write_text(
        f"<movie><title>{title}</title><year>{year}</year>"
        '<uniqueid type="tmdb" default="true">27205</uniqueid></movie>'
    )
    local = f"{LOCAL_MOVIES}/{folder_name}"
    return MediaChange(
        Action.ADDED, Kind.MOVIE, local, f"{local}/video.mkv", title, year, MediaIds(tmdb=27205)
    )


def movie_titles(kodi: KodiServer, folder: Path) -> list[object]:
    return [m["title"] for m in kodi.movies_in_library() if str(m["file"]).startswith(f"{folder}/")]


async def test_a_movie_folder_is_scanned_and_verified_with_its_nfo_title(
    kodi: KodiServer, notifier: KodiNotifier
) -> None:
    change = make_movie(kodi, "Inception", 2010)

    [delivery] = await notifier.notify([change])

    assert delivery.outcome is Outcome.OK, delivery.message
    assert "verified" in delivery.message
    folder = kodi.movies / Path(change.folder).name
    assert movie_titles(kodi, folder) == ["Inception"]
    assert "whole source" not in delivery.message  # the folder scan alone was enough


async def test_an_episode_is_added_from_tvshow_nfo_and_its_own_nfo(
    kodi: KodiServer, notifier: KodiNotifier
) -> None:
    show = f"Show {uuid.uuid4().hex[:6]}"
    season = kodi.tvshows / show / "Season 01"
    season.mkdir(parents=True)
    (kodi.tvshows / show / "tvshow.nfo").write_text(
        f"<tvshow><title>{show}</title><year>2021</year></tvshow>"
    )
    stem = f"{show} - S01E03"
    (season / f"{stem}.mkv").write_bytes(b"\0" * 2048)
    (season / f"{stem}.nfo").write_text(
        "<episodedetails><title>The Third One</title>"
        "<season>1</season><episode>3</episode></episodedetails>"
    )
    local = f"{LOCAL_TV}/{show}"
    change = MediaChange(
        Action.ADDED,
        Kind.EPISODE,
        local,
        f"{local}/Season 01/{stem}.mkv",
        show,
        2021,
        season=1,
        episode=3,
    )

    [delivery] = await notifier.notify([change])

    assert delivery.outcome is Outcome.OK, delivery.message
    found = [e for e in kodi.episodes_in_library() if e["file"] == str(season / f"{stem}.mkv")]
    assert [(e["title"], e["season"], e["episode"], e["showtitle"]) for e in found] == [
        ("The Third One", 1, 3, show)
    ]


async def test_a_removed_movie_is_cleaned_from_its_folder_only(
    kodi: KodiServer, notifier: KodiNotifier
) -> None:
    keep = make_movie(kodi, "Kept", 2001)
    gone = make_movie(kodi, "Removed", 2002)
    for change in (keep, gone):
        [added] = await notifier.notify([change])
        assert added.outcome is Outcome.OK, added.message
    shutil.rmtree(kodi.movies / Path(gone.folder).name)
    (kodi.movies / Path(keep.folder).name / "video.mkv").unlink()  # gone too, but not told

    removal = MediaChange(Action.REMOVED, Kind.MOVIE, gone.folder, gone.file, "Removed", 2002)
    [delivery] = await notifier.notify([removal])

    assert delivery.outcome is Outcome.OK, delivery.message
    assert movie_titles(kodi, kodi.movies / Path(gone.folder).name) == []
    # The clean was limited to the removed folder: the other missing file is still listed.
    assert movie_titles(kodi, kodi.movies / Path(keep.folder).name) == ["Kept"]


async def test_a_removed_episode_and_a_removed_show_are_cleaned(
    kodi: KodiServer, notifier: KodiNotifier
) -> None:
    # Kodi cleans no directory below a tvshows source (a show's folder has the content
    # "seasons", a season's "episodes"): the clean must go through the source.
    show = f"Clean {uuid.uuid4().hex[:6]}"
    season = kodi.tvshows / show / "Season 01"
    season.mkdir(parents=True)
    (kodi.tvshows / show / "tvshow.nfo").write_text(f"<tvshow><title>{show}</title></tvshow>")
    for n in (1, 2):
        (season / f"{show} - S01E0{n}.mkv").write_bytes(b"\0" * 2048)
        (season / f"{show} - S01E0{n}.nfo").write_text(
            f"<episodedetails><title>Part {n}</title><season>1</season>"
            f"<episode>{n}</episode></episodedetails>"
        )
    local = f"{LOCAL_TV}/{show}"
    [added] = await notifier.notify([MediaChange(Action.ADDED, Kind.EPISODE, local, None, show)])
    assert added.outcome is Outcome.OK, added.message

    def episodes() -> list[str]:
        listed = kodi.episodes_in_library()
        return sorted(Path(str(e["file"])).name for e in listed if e["showtitle"] == show)

    assert episodes() == [f"{show} - S01E01.mkv", f"{show} - S01E02.mkv"]
    (season / f"{show} - S01E01.mkv").unlink()
    file = f"{local}/Season 01/{show} - S01E01.mkv"
    gone = MediaChange(Action.REMOVED, Kind.EPISODE, local, file, show)
    [delivery] = await notifier.notify([gone])
    assert delivery.outcome is Outcome.OK, delivery.message
    assert episodes() == [f"{show} - S01E02.mkv"]
    shutil.rmtree(kodi.tvshows / show)
    [whole] = await notifier.notify([MediaChange(Action.REMOVED, Kind.EPISODE, local, None, show)])
    assert whole.outcome is Outcome.OK, whole.message
    assert episodes() == []


async def test_a_changed_movie_is_refreshed_from_its_new_nfo(
    kodi: KodiServer, notifier: KodiNotifier
) -> None:
    change = make_movie(kodi, "Before", 2003)
    [added] = await notifier.notify([change])
    assert added.outcome is Outcome.OK, added.message
    folder = kodi.movies / Path(change.folder).name
    (folder / "movie.nfo").write_text("<movie><title>After</title><year>2003</year></movie>")

    changed = MediaChange(Action.CHANGED, Kind.MOVIE, change.folder, change.file, "After", 2003)
    [delivery] = await notifier.notify([changed])

    assert delivery.outcome is Outcome.OK, delivery.message
    assert movie_titles(kodi, folder) == ["After"]


async def test_a_wrong_password_is_reported_as_an_authentication_failure(
    kodi: KodiServer,
) -> None:
    wrong = KodiNotifier(settings(kodi, password="not-the-password"), mapper(kodi))
    try:
        with pytest.raises(
            PlayerAuthFailed, match=r"kodi-test: refused the credentials \(HTTP 401"
        ):
            await wrong.check()
        with pytest.raises(PlayerAuthFailed):
            await wrong.notify([make_movie(kodi, "Never", 1999)])
    finally:
        await wrong.aclose()


async def test_check_reads_the_version_and_both_sources(
    notifier: KodiNotifier, kodi: KodiServer
) -> None:
    info = await notifier.check()

    assert info.version.startswith("Kodi 20.")
    assert "JSON-RPC 13." in info.version
    assert {(lib.name, lib.paths) for lib in info.libraries} == {
        ("Movies", (kodi.movies_source,)),
        ("TV Shows", (kodi.tvshows_source,)),
    }


async def test_a_folder_outside_every_source_names_the_player_and_the_path(
    kodi: KodiServer,
) -> None:
    notifier = KodiNotifier(settings(kodi), lambda path: "/elsewhere/movies/X (2000)")
    change = MediaChange(Action.ADDED, Kind.MOVIE, "/library/movies/X", None, "X")
    try:
        with pytest.raises(PlayerPathError) as raised:
            await notifier.notify([change])
    finally:
        await notifier.aclose()
    assert str(raised.value).startswith("kodi-test: path '/elsewhere/movies/X (2000)/' is outside")
    assert kodi.movies_source in str(raised.value)  # says where Kodi's sources are


async def test_a_kodi_that_is_down_is_unreachable(kodi: KodiServer) -> None:
    down = KodiNotifier(settings(kodi, url="http://127.0.0.1:9"), mapper(kodi))
    try:
        with pytest.raises(
            PlayerUnreachable, match=r"kodi-test: cannot reach http://127\.0\.0\.1:9"
        ):
            await down.check()
    finally:
        await down.aclose()


async def test_a_one_group_falls_back_from_a_dead_box_to_the_next(kodi: KodiServer) -> None:
    # Two "boxes" on one shared library: the first is down, the second is the real Kodi.
    section = PlayersSection(
        players=(
            settings(kodi, name="bedroom", url="http://127.0.0.1:9", group="kodi"),
            settings(kodi, name="living-room", group="kodi"),
        ),
        groups={"kodi": GroupSettings(mode=GroupMode.ONE)},
    )
    to_player = mapper(kodi)
    notifiers = [KodiNotifier(player, to_player) for player in section.players]
    dispatcher = Dispatcher(notifiers, section)
    change = make_movie(kodi, "Fallback", 2004)
    try:
        record = await dispatcher.dispatch(change)
    finally:
        await dispatcher.aclose()

    outcomes = [(r.player, r.outcome) for r in record.results]
    assert outcomes == [("bedroom", Outcome.FAILED), ("living-room", Outcome.OK)]
    assert record.done == {"living-room"}
    assert record.complete
    assert dispatcher.board.state("bedroom").failures == 1
    assert movie_titles(kodi, kodi.movies / Path(change.folder).name) == ["Fallback"]


@pytest.fixture
def playing(kodi: KodiServer) -> Iterator[None]:
    """A real (tiny) video playing in Kodi for the duration of the test."""
    kodi.play_video()
    yield
    kodi.stop_video()


def one_player(kodi: KodiServer, during_playback: DuringPlayback) -> Dispatcher:
    player = settings(kodi, name="den", group="den")
    section = PlayersSection(
        players=(player,), groups={"den": GroupSettings(during_playback=during_playback)}
    )
    return Dispatcher([KodiNotifier(player, mapper(kodi))], section)


@pytest.mark.usefixtures("playing")
async def test_while_a_video_plays_the_change_is_deferred_skipped_or_told(
    kodi: KodiServer,
) -> None:
    change = make_movie(kodi, "During Playback", 2005)
    folder = kodi.movies / Path(change.folder).name
    for policy, expected in (
        (DuringPlayback.DEFER, Outcome.DEFERRED),
        (DuringPlayback.SKIP, Outcome.SKIPPED),
    ):
        dispatcher = one_player(kodi, policy)
        try:
            record = await dispatcher.dispatch(change)
        finally:
            await dispatcher.aclose()
        [result] = record.results
        assert result.outcome is expected, result.message
        assert "a video is playing" in result.message
        assert movie_titles(kodi, folder) == []  # Kodi was not asked to scan
    assert record.done == {"den"}  # skipped on purpose: not retried
    deferred = one_player(kodi, DuringPlayback.DEFER)
    try:
        record = await deferred.dispatch(change)
    finally:
        await deferred.aclose()
    assert record.done == frozenset()
    assert record.retry_after == 300.0  # defer_seconds: "retry later"

    always = one_player(kodi, DuringPlayback.ALWAYS)
    try:
        told = await always.dispatch(change)
        shutil.rmtree(folder)
        removal = MediaChange(Action.REMOVED, Kind.MOVIE, change.folder, None, change.title)
        cleaned = await always.dispatch(removal)
    finally:
        await always.aclose()
    assert [r.outcome for r in told.results] == [Outcome.OK]
    [result] = cleaned.results
    assert result.outcome is Outcome.DEFERRED  # never a clean during playback
    assert "a library clean never runs during playback" in result.message
    assert movie_titles(kodi, folder) == ["During Playback"]


async def test_an_item_kodi_will_not_add_fails_after_a_scan_of_the_whole_source(
    kodi: KodiServer, notifier: KodiNotifier
) -> None:
    # No NFO, and a name the local scraper cannot read: Kodi skips it on every scan.
    folder_name = f"zz-{uuid.uuid4().hex[:8]}"
    (kodi.movies / folder_name).mkdir()
    (kodi.movies / folder_name / "noise.mkv").write_bytes(b"\0" * 2048)
    local = f"{LOCAL_MOVIES}/{folder_name}"
    change = MediaChange(Action.ADDED, Kind.MOVIE, local, f"{local}/noise.mkv", "Noise")

    [delivery] = await notifier.notify([change])

    assert delivery.outcome is Outcome.FAILED
    assert delivery.message == (
        f"scanned '{kodi.movies}/{folder_name}/', then the whole source "
        f"'{kodi.movies_source}' (the folder scan did not add it), but Kodi's library has no "
        f"movie file '{kodi.movies}/{folder_name}/noise.mkv' (check the source's content "
        "type and scraper, and the NFO)"
    )


@pytest.mark.usefixtures("playing")
async def test_a_shared_library_is_not_cleaned_while_any_member_plays(kodi: KodiServer) -> None:
    # Two "boxes" on one shared library (both are the test Kodi, which plays a video).
    section = PlayersSection(
        players=(
            settings(kodi, name="box-a", group="shared"),
            settings(kodi, name="box-b", group="shared"),
        ),
        groups={"shared": GroupSettings(during_playback=DuringPlayback.ALWAYS)},
    )
    dispatcher = Dispatcher([KodiNotifier(p, mapper(kodi)) for p in section.players], section)
    change = make_movie(kodi, "Shared", 2006)
    try:
        added = await dispatcher.dispatch(change)
        shutil.rmtree(kodi.movies / Path(change.folder).name)
        removal = MediaChange(Action.REMOVED, Kind.MOVIE, change.folder, None, "Shared")
        removed = await dispatcher.dispatch(removal)
    finally:
        await dispatcher.aclose()

    assert [(r.player, r.outcome) for r in added.results] == [("box-a", Outcome.OK)]
    [result] = removed.results
    assert result.outcome is Outcome.DEFERRED
    assert result.message.startswith(
        "deferred: a video is playing, and a library clean affects every member of the group"
    )
    assert removed.retry_after == 300.0
    assert movie_titles(kodi, kodi.movies / Path(change.folder).name) == ["Shared"]
