"""Run by test_crash.py: rewrite one NFO forever, alternating two large versions, through
the publisher's atomic write, until the test kills this process with SIGKILL."""

from __future__ import annotations

import sys
from pathlib import Path

from relayarr.metadata.publish.files import SafeFolder


def main() -> None:
    folder = SafeFolder(Path(sys.argv[1]))
    versions = [Path(sys.argv[2]).read_bytes(), Path(sys.argv[3]).read_bytes()]
    turn = 0
    while True:
        folder.write("movie.nfo", versions[turn % 2])
        if turn == 1:
            sys.stdout.write("ready\n")
            sys.stdout.flush()
        turn += 1


if __name__ == "__main__":
    main()
