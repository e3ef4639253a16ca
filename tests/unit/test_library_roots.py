"""Library roots on real directory trees: locating paths, refusing `..`, symlinks out of a
root and relative tricks, and anchors that show a mount is down."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from relayarr.errors import LibraryError, OutsideLibrary, RelayarrError, RootUnavailable
from relayarr.library.roots import LibraryRoot, LibraryRoots, RootKind


@pytest.fixture
def media(tmp_path: Path) -> Path:
    for folder in ("movies/Arrival (2016)", "movies-4k/Dune (2021)", "tv/Severance/Season 01"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "movies/Arrival (2016)/Arrival.mkv").write_bytes(b"x")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret/passwd").write_text("root:x")
    return tmp_path


@pytest.fixture
def roots(media: Path) -> LibraryRoots:
    return LibraryRoots(
        [
            LibraryRoot(media / "movies", RootKind.MOVIES, (".relayarr-anchor",)),
            LibraryRoot(media / "tv", RootKind.SERIES),
        ]
    )


def test_locates_a_file_with_its_root_relative_path_and_item_folder(
    roots: LibraryRoots, media: Path
) -> None:
    found = roots.locate(media / "movies/Arrival (2016)/Arrival.mkv")
    assert found.root.kind is RootKind.MOVIES
    assert found.path == media / "movies/Arrival (2016)/Arrival.mkv"
    assert found.relative == PurePosixPath("Arrival (2016)/Arrival.mkv")
    assert found.item_folder == media / "movies/Arrival (2016)"


def test_a_season_folder_leads_to_its_series_folder(roots: LibraryRoots, media: Path) -> None:
    found = roots.locate(str(media / "tv/Severance/Season 01"))
    assert found.root.kind is RootKind.SERIES
    assert found.item_folder == media / "tv/Severance"


def test_paths_that_do_not_exist_yet_or_any_more_are_located(
    roots: LibraryRoots, media: Path
) -> None:
    found = roots.locate(media / "movies/Gone (1999)/gone.mkv")
    assert found.item_folder == media / "movies/Gone (1999)"


def test_the_root_itself_has_no_item_folder(roots: LibraryRoots, media: Path) -> None:
    assert roots.locate(media / "movies").item_folder is None


def test_dot_dot_out_of_a_root_is_refused(roots: LibraryRoots, media: Path) -> None:
    sneaky = f"{media}/movies/Arrival (2016)/../../secret/passwd"
    with pytest.raises(OutsideLibrary) as caught:
        roots.locate(sneaky)
    message = str(caught.value)
    assert sneaky in message
    assert f"resolves to {media}/secret/passwd" in message
    assert f"roots: {media}/movies, {media}/tv" in message


def test_a_sibling_with_a_common_prefix_is_outside(roots: LibraryRoots, media: Path) -> None:
    with pytest.raises(OutsideLibrary, match="outside every library root"):
        roots.locate(media / "movies-4k/Dune (2021)")


def test_relative_paths_and_nul_bytes_are_refused(roots: LibraryRoots) -> None:
    with pytest.raises(OutsideLibrary, match="not an absolute path"):
        roots.locate("movies/Arrival (2016)")
    with pytest.raises(OutsideLibrary, match="NUL"):
        roots.locate("/movies/a\x00b")


def test_a_symlink_leading_out_of_a_root_is_refused(roots: LibraryRoots, media: Path) -> None:
    (media / "movies/Escape (2020)").symlink_to(media / "secret", target_is_directory=True)
    (media / "movies/Arrival (2016)/passwd.nfo").symlink_to(media / "secret/passwd")
    with pytest.raises(OutsideLibrary, match="secret"):
        roots.locate(media / "movies/Escape (2020)")
    with pytest.raises(OutsideLibrary, match="secret/passwd"):
        roots.locate(media / "movies/Escape (2020)/passwd")
    with pytest.raises(OutsideLibrary, match="secret/passwd"):
        roots.locate(media / "movies/Arrival (2016)/passwd.nfo")


def test_a_symlink_within_the_library_is_followed(roots: LibraryRoots, media: Path) -> None:
    (media / "movies/Alias").symlink_to(media / "movies/Arrival (2016)")
    found = roots.locate(media / "movies/Alias/Arrival.mkv")
    assert found.relative == PurePosixPath("Arrival (2016)/Arrival.mkv")


def test_a_root_reached_through_a_symlink_still_holds_its_paths(media: Path) -> None:
    (media / "mnt").symlink_to(media / "tv")
    roots = LibraryRoots([LibraryRoot(media / "mnt", RootKind.SERIES)])
    found = roots.locate(media / "tv/Severance")
    assert found.path == media / "mnt/Severance"
    assert found.item_folder == media / "mnt/Severance"


def test_a_missing_anchor_makes_the_root_unavailable(roots: LibraryRoots, media: Path) -> None:
    movies, tv = roots.roots
    with pytest.raises(RootUnavailable) as caught:
        roots.require_mounted(movies)
    assert caught.value.root == str(media / "movies")
    assert caught.value.missing == str(media / "movies/.relayarr-anchor")
    assert str(caught.value) == (
        f"library root {media}/movies is unavailable: {media}/movies/.relayarr-anchor is missing"
    )
    (media / "movies/.relayarr-anchor").touch()
    roots.require_mounted(movies)
    roots.require_mounted(tv)  # no anchors: its folder is enough


def test_a_missing_root_folder_is_unavailable(media: Path) -> None:
    roots = LibraryRoots([LibraryRoot(media / "unmounted", RootKind.MOVIES)])
    with pytest.raises(RootUnavailable, match="unmounted is missing"):
        roots.require_mounted(roots.roots[0])


def test_status_names_each_root_and_what_is_missing(roots: LibraryRoots, media: Path) -> None:
    movies, tv = roots.status()
    assert not movies.available
    assert movies.to_json() == {
        "path": str(media / "movies"),
        "kind": "movies",
        "available": False,
        "missing": str(media / "movies/.relayarr-anchor"),
    }
    assert tv.available
    (media / "movies/.relayarr-anchor").touch()
    assert all(status.available for status in roots.status())


def test_library_errors_share_one_root() -> None:
    for error in (OutsideLibrary, RootUnavailable):
        assert issubclass(error, LibraryError)
        assert issubclass(error, RelayarrError)


def test_no_roots_configured_is_said(tmp_path: Path) -> None:
    with pytest.raises(OutsideLibrary, match="no library roots are configured"):
        LibraryRoots([]).locate(os.fspath(tmp_path))
