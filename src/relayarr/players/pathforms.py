"""Paths in a player's own form: which separator it uses, and whether one lies inside another.

Players write paths three ways: POSIX (``/mnt/media/movies``), Windows
(``D:\\Movies``, ``\\\\nas\\movies``) and URLs (``nfs://nas/movies``, ``smb://nas/movies``).
These helpers compare them by whole components (``/movies`` does not contain
``/movies-4k``), ignoring case for Windows paths, and write a directory with the trailing
separator Kodi stores. Mapping a local path into a player's view is not done here: each
notifier is given a ``to_player`` function for that.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^/]*)(.*)$")
_DRIVE = re.compile(r"^[A-Za-z]:([\\/]|$)")


def is_url(path: str) -> bool:
    """True for ``scheme://...`` paths (nfs, smb, ...)."""
    return _URL.match(path) is not None


def is_windows(path: str) -> bool:
    """True for ``D:\\...`` and ``\\\\server\\share`` paths."""
    return not is_url(path) and (_DRIVE.match(path) is not None or path.startswith("\\\\"))


def separator(path: str) -> str:
    """The separator ``path`` is written with: ``\\`` for Windows paths, else ``/``."""
    return "\\" if is_windows(path) else "/"


def as_directory(path: str) -> str:
    """``path`` with one trailing separator in its own style (Kodi stores folders so)."""
    sep = separator(path)
    stripped = path.rstrip("\\/") if is_windows(path) else path.rstrip("/")
    if is_url(path) and stripped.endswith(":/"):  # "nfs://" alone keeps its slashes
        return path
    return stripped + sep


def components(path: str) -> tuple[str, ...]:
    """The parts of ``path`` to compare: a root part, then each name (Windows: casefolded)."""
    url = _URL.match(path)
    if url is not None:
        root, rest = url.group(1), url.group(2)
        return (root.casefold(), *(part for part in rest.split("/") if part))
    if is_windows(path):
        unc = path.startswith("\\\\")
        parts = [part.casefold() for part in re.split(r"[\\/]", path) if part]
        return ("\\\\" if unc else "", *parts)
    return ("/" if path.startswith("/") else "", *(part for part in path.split("/") if part))


def contains(root: str, path: str) -> bool:
    """True when ``path`` is ``root`` or lies inside it, by whole components."""
    outer, inner = components(root), components(path)
    return len(inner) >= len(outer) and inner[: len(outer)] == outer


def longest_container(path: str, roots: Iterable[str]) -> str | None:
    """The root among ``roots`` that holds ``path`` with the most components, or None."""
    best: str | None = None
    best_depth = -1
    for root in roots:
        if contains(root, path) and len(components(root)) > best_depth:
            best, best_depth = root, len(components(root))
    return best


def parent(path: str) -> str:
    """The folder holding ``path`` (itself when it is a root), without a trailing separator."""
    sep = separator(path)
    body = path.rstrip("\\/") if is_windows(path) else path.rstrip("/")
    cut = max(body.rfind("/"), body.rfind("\\")) if is_windows(path) else body.rfind(sep)
    if cut <= 0 or (is_url(path) and body[:cut].endswith(":/")):
        return path
    head = body[:cut]
    if is_windows(path) and re.fullmatch(r"[A-Za-z]:", head):
        return head + sep
    return head


__all__ = [
    "as_directory",
    "components",
    "contains",
    "is_url",
    "is_windows",
    "longest_container",
    "parent",
    "separator",
]
