"""A crash mid-publish leaves the old NFO or the new one, never a truncated file: a failing
rename, and a writer process killed with SIGKILL at random moments."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from relayarr.errors import PublishError
from relayarr.metadata.fields import values_of
from relayarr.metadata.models import Actor, MovieMetadata
from relayarr.metadata.nfo import parse_nfo, render_nfo
from relayarr.metadata.publish.files import SafeFolder

WRITER = Path(__file__).with_name("crash_writer.py")


def big_nfo(title: str) -> bytes:
    actors = tuple(Actor(f"Actor {i} {title}", f"Role {i}", i) for i in range(3000))
    return render_nfo(MovieMetadata, values_of(MovieMetadata(title=title, actors=actors)), {})


def test_a_failing_rename_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    folder = SafeFolder(tmp_path)
    old = big_nfo("old")
    folder.write("movie.nfo", old)

    def broken_rename(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(PublishError, match=r"^movie.nfo: cannot write \(No space left"):
        folder.write("movie.nfo", big_nfo("new"), replace=broken_rename)
    assert (tmp_path / "movie.nfo").read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["movie.nfo"]


@pytest.mark.slow
def test_sigkill_mid_write_leaves_a_whole_nfo(tmp_path: Path) -> None:
    versions = [big_nfo("first"), big_nfo("second")]
    assert versions[0] != versions[1]
    sources = []
    for index, data in enumerate(versions):
        source = tmp_path / f"v{index}.bin"
        source.write_bytes(data)
        sources.append(str(source))
    folder = tmp_path / "movie"
    folder.mkdir()
    rng = random.Random(1234)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for _ in range(6):
        with subprocess.Popen(
            [sys.executable, str(WRITER), str(folder), *sources], stdout=subprocess.PIPE, env=env
        ) as process:
            assert process.stdout is not None
            assert process.stdout.readline() == b"ready\n"
            time.sleep(rng.uniform(0.0, 0.05))  # somewhere in the middle of some write
            process.send_signal(signal.SIGKILL)
            process.wait()
        data = (folder / "movie.nfo").read_bytes()
        assert data in versions
        parse_nfo(data, "movie.nfo", MovieMetadata)
        SafeFolder(folder).sweep()
        assert sorted(p.name for p in folder.iterdir()) == ["movie.nfo"]
