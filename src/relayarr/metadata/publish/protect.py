"""Protected copies: every published file also kept by content under ``data_dir``.

``<data_dir>/assets/ab/abcdef...`` holds the bytes whose SHA-256 is ``abcdef...``. The
:class:`~relayarr.metadata.stores.AssetStore` records which item's file has which hash,
so when an *arr deletes a folder's artwork or NFO (an upgrade, a rename) the publisher
puts it back from here without asking any provider. Identical files (the same poster for
two cuts of a movie) are stored once.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from relayarr.errors import PublishError
from relayarr.metadata.publish.files import atomic_write

_HEX = re.compile(r"^[0-9a-f]{64}$")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ContentStore:
    """Bytes by SHA-256 under one folder (``<data_dir>/assets``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, digest: str) -> Path:
        if not _HEX.match(digest):
            raise ValueError(f"not a SHA-256 hex digest: {digest!r}")
        return self.root / digest[:2] / digest

    def put(self, data: bytes) -> str:
        """Keep ``data``; returns its SHA-256. Writing what is already there is free."""
        digest = sha256(data)
        target = self.path_for(digest)
        if target.is_file():
            return digest
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(target, data)
        except OSError as exc:
            raise PublishError(
                str(target), f"cannot keep protected copy ({exc.strerror})"
            ) from None
        return digest

    def get(self, digest: str) -> bytes | None:
        """The bytes of ``digest``, or None if missing or damaged (hash checked)."""
        try:
            data = self.path_for(digest).read_bytes()
        except (OSError, ValueError):
            return None
        return data if sha256(data) == digest else None


__all__ = ["ContentStore", "sha256"]
