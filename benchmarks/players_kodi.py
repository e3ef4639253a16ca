"""``python -m benchmarks.players_kodi``: time from notify to "verified in Kodi", real Kodi.

Starts the tests' headless Kodi 20 (``tests/kodi.py``: Xvfb, web server with Basic auth,
a movies and a tvshows source with the local NFO scraper) and, through the dispatcher
the ``notify-players`` job calls (one ``one`` group, ``during_playback = defer``, so the
playback check is part of it), times each of:

* a new movie folder (video + ``movie.nfo``): scan of the folder, poll until Kodi lists
  the file;
* a new episode in a new show (``tvshow.nfo`` + ``<video stem>.nfo``);
* a removed movie folder: scoped ``VideoLibrary.Clean``, poll until Kodi no longer lists it.

Each round uses its own folders; medians and spread over ``--rounds`` rounds are printed.
Needs ``scripts/ensure-kodi.sh`` (kodi, xvfb) to have run.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
if str(TESTS) not in sys.path:
    sys.path.append(str(TESTS))

from kodi import KodiServer  # noqa: E402  (tests/kodi.py)
from relayarr.players.change import Action, Kind, MediaChange  # noqa: E402
from relayarr.players.groups import Dispatcher  # noqa: E402
from relayarr.players.kodi import KodiNotifier  # noqa: E402
from relayarr.players.notifier import Outcome  # noqa: E402
from relayarr.players.settings import PlayerSettings, PlayersSection  # noqa: E402


def _mapper(kodi: KodiServer) -> Callable[[str], str]:
    def to_player(path: str) -> str:
        return path.replace("/library/movies", str(kodi.movies)).replace(
            "/library/tv", str(kodi.tvshows)
        )

    return to_player


async def _timed(dispatcher: Dispatcher, change: MediaChange) -> float:
    started = time.perf_counter()
    record = await dispatcher.dispatch(change)
    took = time.perf_counter() - started
    [result] = record.results
    if result.outcome is not Outcome.OK:
        raise RuntimeError(f"not verified: {result.message}")
    return took


def _movie(kodi: KodiServer, n: int) -> MediaChange:
    name = f"Bench Movie {n} (2020)"
    folder = kodi.movies / name
    folder.mkdir()
    (folder / f"{name}.mkv").write_bytes(b"\0" * 4096)
    (folder / "movie.nfo").write_text(f"<movie><title>Bench {n}</title><year>2020</year></movie>")
    local = f"/library/movies/{name}"
    return MediaChange(Action.ADDED, Kind.MOVIE, local, f"{local}/{name}.mkv", name, 2020)


def _episode(kodi: KodiServer, n: int) -> MediaChange:
    show = f"Bench Show {n}"
    season = kodi.tvshows / show / "Season 01"
    season.mkdir(parents=True)
    (kodi.tvshows / show / "tvshow.nfo").write_text(f"<tvshow><title>{show}</title></tvshow>")
    stem = f"{show} - S01E01"
    (season / f"{stem}.mkv").write_bytes(b"\0" * 4096)
    (season / f"{stem}.nfo").write_text(
        "<episodedetails><title>Pilot</title><season>1</season><episode>1</episode>"
        "</episodedetails>"
    )
    local = f"/library/tv/{show}"
    file = f"{local}/Season 01/{stem}.mkv"
    return MediaChange(Action.ADDED, Kind.EPISODE, local, file, show, season=1, episode=1)


async def run(rounds: int) -> dict[str, list[float]]:
    kodi = KodiServer()
    kodi.start()
    print(f"kodi started in {kodi.startup_seconds:.2f} s", file=sys.stderr)
    player = PlayerSettings.model_validate(
        {
            "name": "bench",
            "type": "kodi",
            "url": kodi.url,
            "username": kodi.username,
            "password": kodi.password,
        }
    )
    section = PlayersSection(players=(player,))
    dispatcher = Dispatcher([KodiNotifier(player, _mapper(kodi))], section)
    times: dict[str, list[float]] = {"movie added": [], "episode added": [], "movie removed": []}
    try:
        for n in range(rounds):
            movie = _movie(kodi, n)
            times["movie added"].append(await _timed(dispatcher, movie))
            times["episode added"].append(await _timed(dispatcher, _episode(kodi, n)))
            shutil.rmtree(kodi.movies / Path(movie.folder).name)
            removal = MediaChange(Action.REMOVED, Kind.MOVIE, movie.folder, None, movie.title)
            times["movie removed"].append(await _timed(dispatcher, removal))
    finally:
        await dispatcher.aclose()
        kodi.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    times = asyncio.run(run(args.rounds))
    print(f"notify -> verified in Kodi, {args.rounds} rounds (seconds)")
    print("| change | median | min | p90 | max |")
    print("|---|---:|---:|---:|---:|")
    for what, values in times.items():
        ordered = sorted(values)
        p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
        print(
            f"| {what} | {statistics.median(values):.3f} | {ordered[0]:.3f} | {p90:.3f} "
            f"| {ordered[-1]:.3f} |"
        )


if __name__ == "__main__":
    main()
