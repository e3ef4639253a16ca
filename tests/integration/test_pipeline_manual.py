"""Scans asked for by hand (``relayarr scan``, ``POST /api/v1/scan``) and reconciliation
progress, in-process on real folders, a real SQLite queue and library database."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pipeline_world import ARRIVAL_NEW, World, touch, world

from relayarr.errors import FolderMissing, LibraryNotConfigured, OutsideLibrary
from relayarr.jobqueue import Event, EventKind, Job, JobStatus
from relayarr.library.roots import LibraryRoots
from relayarr.pipeline import NOTIFY_PLAYERS, SCAN_MOVIE
from relayarr.pipeline.manual import reconcile_all, scan_path


def result(job: Job) -> dict[str, Any]:
    assert isinstance(job.result, dict), job
    return job.result


def roots(w: World) -> LibraryRoots:
    assert w.services.library is not None
    return w.services.library.roots


async def scanned(w: World, path: str | Path) -> Job:
    manual = await scan_path(w.queue, roots(w), str(path))
    if not w.queue.running:
        await w.queue.start()
    await w.settle()
    return await w.queue.get_job(manual.job.id)


async def test_a_manual_scan_records_a_new_folder_and_tells_the_players(tmp_path: Path) -> None:
    async with world(tmp_path, settle_seconds=30) as w:  # manual scans do not wait
        folder = w.arrival(ARRIVAL_NEW)
        done = await scanned(w, folder / ARRIVAL_NEW)  # a file leads to its folder
        assert (done.type, done.status) == (SCAN_MOVIE, JobStatus.COMPLETED)
        assert (result(done)["folder"], result(done)["reason"]) == (str(folder), "manual")
        (notify,) = await w.children(done)
        assert notify.type == NOTIFY_PLAYERS
        assert result(notify)["would_tell"]["action"] == "added"


async def test_a_manual_scan_of_an_unchanged_folder_still_tells_the_players(
    tmp_path: Path,
) -> None:
    # A person scans a known folder by hand mostly because a player missed it.
    async with world(tmp_path) as w:
        folder = w.arrival(ARRIVAL_NEW)
        await scanned(w, folder)
        again = await scanned(w, folder)
        assert result(again)["created"] is False
        assert (result(again)["added"], result(again)["changed"]) == ([], [])
        (notify,) = await w.children(again)
        told = result(notify)["would_tell"]
        assert (told["action"], told["file"]) == ("changed", str(folder / ARRIVAL_NEW))


async def test_a_scan_already_waiting_for_the_folder_is_the_same_job(tmp_path: Path) -> None:
    async with world(tmp_path) as w:  # no worker runs: both stay pending
        folder = w.arrival(ARRIVAL_NEW)
        first = await scan_path(w.queue, roots(w), str(folder))
        second = await scan_path(w.queue, roots(w), str(folder / ARRIVAL_NEW))
        assert first.job.id == second.job.id
        assert len(await w.jobs(SCAN_MOVIE)) == 1


async def test_a_root_whose_mount_is_down_is_named_and_the_scan_waits(tmp_path: Path) -> None:
    async with world(tmp_path, anchors=(".mounted",)) as w:
        folder = w.arrival(ARRIVAL_NEW)
        manual = await scan_path(w.queue, roots(w), str(folder))
        assert manual.target.unavailable == str(w.movies / ".mounted")
        assert manual.to_json()["root_unavailable"] == str(w.movies / ".mounted")
        assert (await w.queue.get_job(manual.job.id)).status is JobStatus.PENDING


@pytest.mark.parametrize(
    ("path", "error", "message"),
    [
        ("/etc/passwd", OutsideLibrary, "/etc/passwd is outside every library root; roots: "),
        ("relative/folder", OutsideLibrary, "'relative/folder' is not an absolute path"),
        ("{movies}/Nope (2020)", FolderMissing, "{movies}/Nope (2020) does not exist"),
        ("{movies}", FolderMissing, "is the library root itself"),
        ("{movies}/../movies/..", OutsideLibrary, "outside every library root"),
    ],
)
async def test_bad_paths_are_refused_naming_them_and_nothing_is_queued(
    tmp_path: Path, path: str, error: type[Exception], message: str
) -> None:
    async with world(tmp_path) as w:
        given = path.format(movies=w.movies)
        with pytest.raises(error, match=re.escape(message.format(movies=w.movies))):
            await scan_path(w.queue, roots(w), given)
        assert await w.jobs() == []


async def test_a_symlink_out_of_a_root_is_refused(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        outside = tmp_path / "elsewhere" / "Film (2020)"
        touch(outside / "film.mkv")
        (w.movies / "Film (2020)").symlink_to(outside)
        with pytest.raises(OutsideLibrary, match="resolves to"):
            await scan_path(w.queue, roots(w), str(w.movies / "Film (2020)"))


async def test_without_roots_manual_scans_say_the_library_is_not_configured(
    tmp_path: Path,
) -> None:
    async with world(tmp_path) as w:
        with pytest.raises(LibraryNotConfigured, match=r"add \[\[library.roots\]\]"):
            await scan_path(w.queue, None, str(w.movies))
        with pytest.raises(LibraryNotConfigured):
            await reconcile_all(w.queue, LibraryRoots([]))
        assert await w.jobs() == []


async def test_a_reconciliation_reports_its_progress_folder_by_folder(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        for n in range(600):  # more than two of the reconciler's batches of 256
            touch(w.movies / f"Movie {n:03} (2001)" / "movie.mkv")
        seen: list[Event] = []
        w.queue.events.add_listener(seen.append)
        job = await reconcile_all(w.queue, roots(w))
        await w.queue.start()
        await w.settle(within=120)
        assert (await w.queue.get_job(job.id)).status is JobStatus.COMPLETED
        progress = [e for e in seen if e.kind is EventKind.PROGRESS and e.job_id == job.id]
        fractions = [float(str(e.data["fraction"])) for e in progress]
        assert fractions == sorted(fractions)
        assert fractions[-1] == 1.0
        # Within the movies root (the first of two): each batch moves the bar.
        inside = [f for f in fractions if 0.0 < f < 0.5]
        assert len(inside) >= 2
        messages = [str(e.data["message"]) for e in progress]
        assert f"{w.movies}: 256 of 600 folders, 256 new, 0 changed, 0 removed" in messages
        assert f"{w.movies}: 600 of 600 folders, 600 new, 0 changed, 0 removed" in messages
