"""Reconciliation against a real SQLite library filled by real scans: new, changed and
removed folders are found, nothing else is, and a root whose anchor is missing is never
reported empty."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from relayarr.errors import RootUnavailable
from relayarr.library.db import LibraryStore
from relayarr.library.reconcile import ChangeKind, Reconciler, ReconcileStats
from relayarr.library.roots import LibraryRoot, RootKind
from relayarr.library.scanner import Scanner

ANCHOR = ".relayarr-anchor"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[LibraryStore]:
    opened = await LibraryStore.open(f"sqlite:///{tmp_path}/library.db", create=True)
    try:
        yield opened
    finally:
        await opened.close()


def touch(path: Path, size: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * size)


@pytest.fixture
async def movies(tmp_path: Path, store: LibraryStore) -> LibraryRoot:
    """Twelve movie folders, all scanned and recorded."""
    root = LibraryRoot(tmp_path / "movies", RootKind.MOVIES, (ANCHOR,))
    touch(root.path / ANCHOR)
    scanner = Scanner()
    for n in range(12):
        folder = root.path / f"Movie {n:02d} (20{n:02d})"
        touch(folder / f"Movie {n:02d}.mkv", 100 + n)
        touch(folder / "poster.jpg")
        await store.record_movie_scan(scanner.scan_movie(folder), root)
    return root


async def changes(
    store: LibraryStore, root: LibraryRoot, batch: int = 5
) -> set[tuple[ChangeKind, str]]:
    found = set()
    async for change in Reconciler(store, batch=batch).changes(root):
        found.add((change.kind, os.path.basename(change.folder)))
    return found


async def test_nothing_changed_finds_nothing(store: LibraryStore, movies: LibraryRoot) -> None:
    seen: list[ReconcileStats] = []
    found = []
    async for change in Reconciler(store, batch=5).changes(movies, progress=seen.append):
        found.append(change)
    assert found == []
    assert seen[-1].to_json() == {
        "folders": 12,
        "new": 0,
        "changed": 0,
        "removed": 0,
        "unreadable": 0,
    }
    assert len(seen) >= 3  # progress after every batch of five, and at the end


async def test_new_changed_and_removed_folders_are_found(
    store: LibraryStore, movies: LibraryRoot
) -> None:
    touch(movies.path / "New Movie (2024)" / "new.mkv")
    touch(movies.path / "Movie 03 (2003)" / "Movie 03.en.srt")  # a file added
    (movies.path / "Movie 05 (2005)" / "poster.jpg").write_bytes(b"bigger poster")
    os.utime(movies.path / "Movie 07 (2007)" / "Movie 07.mkv", ns=(1, 1))  # touched only
    (movies.path / "Movie 09 (2009)" / "poster.jpg").rename(
        movies.path / "Movie 09 (2009)" / "folder.jpg"
    )
    for name in ("Movie 10 (2010)", "Movie 11 (2011)"):
        for file in (movies.path / name).iterdir():
            file.unlink()
        (movies.path / name).rmdir()
    assert await changes(store, movies) == {
        (ChangeKind.NEW, "New Movie (2024)"),
        (ChangeKind.CHANGED, "Movie 03 (2003)"),
        (ChangeKind.CHANGED, "Movie 05 (2005)"),
        (ChangeKind.CHANGED, "Movie 07 (2007)"),
        (ChangeKind.CHANGED, "Movie 09 (2009)"),
        (ChangeKind.REMOVED, "Movie 10 (2010)"),
        (ChangeKind.REMOVED, "Movie 11 (2011)"),
    }


async def test_a_folder_replaced_by_a_file_is_removed(
    store: LibraryStore, movies: LibraryRoot
) -> None:
    folder = movies.path / "Movie 04 (2004)"
    for file in folder.iterdir():
        file.unlink()
    folder.rmdir()
    folder.write_bytes(b"not a folder any more")
    assert await changes(store, movies) == {(ChangeKind.REMOVED, "Movie 04 (2004)")}


async def test_hidden_folders_clutter_and_loose_files_are_no_items(
    store: LibraryStore, movies: LibraryRoot, tmp_path: Path
) -> None:
    touch(movies.path / ".Trash-1000" / "x.mkv")
    touch(movies.path / "@eaDir" / "thumb.jpg")
    touch(movies.path / "loose-file.mkv")
    (movies.path / "Linked (2000)").symlink_to(tmp_path, target_is_directory=True)
    assert await changes(store, movies) == set()


async def test_a_rescan_settles_a_change(store: LibraryStore, movies: LibraryRoot) -> None:
    folder = movies.path / "Movie 02 (2002)"
    touch(folder / "extra.nfo")
    assert await changes(store, movies) == {(ChangeKind.CHANGED, "Movie 02 (2002)")}
    await store.record_movie_scan(Scanner().scan_movie(folder), movies)
    assert await changes(store, movies) == set()


async def test_series_folders_are_compared_recursively(store: LibraryStore, tmp_path: Path) -> None:
    root = LibraryRoot(tmp_path / "tv", RootKind.SERIES)
    show = root.path / "Show"
    touch(show / "Season 01" / "Show - S01E01.mkv")
    await store.record_series_scan(Scanner().scan_series(show), root)
    assert await changes(store, root) == set()
    touch(show / "Season 01" / "Show - S01E02.mkv")  # deep inside: still a change
    assert await changes(store, root) == {(ChangeKind.CHANGED, "Show")}


async def test_a_missing_anchor_stops_the_pass_before_anything_is_reported(
    store: LibraryStore, movies: LibraryRoot
) -> None:
    (movies.path / ANCHOR).unlink()
    with pytest.raises(RootUnavailable, match=f"{ANCHOR} is missing"):
        await changes(store, movies)


async def test_a_mount_lost_mid_pass_reports_no_removals(
    store: LibraryStore, movies: LibraryRoot
) -> None:
    # The mount "drops" during the pass: the anchor goes, and so do the folders.
    reported = []

    def unmount(stats: ReconcileStats) -> None:
        if stats.folders >= 5 and (movies.path / ANCHOR).exists():
            (movies.path / ANCHOR).unlink()
            for folder in movies.path.iterdir():
                for file in folder.iterdir():
                    file.unlink()
                folder.rmdir()

    async def run() -> None:
        async for change in Reconciler(store, batch=5).changes(movies, progress=unmount):
            reported.append(change)

    with pytest.raises(RootUnavailable):
        await run()
    assert [change for change in reported if change.kind is ChangeKind.REMOVED] == []


async def test_a_missing_root_folder_is_unavailable(store: LibraryStore, tmp_path: Path) -> None:
    root = LibraryRoot(tmp_path / "unmounted", RootKind.MOVIES)
    with pytest.raises(RootUnavailable, match="unmounted is missing"):
        await changes(store, root)
