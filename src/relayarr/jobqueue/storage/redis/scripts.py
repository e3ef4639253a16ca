"""The engine's Lua scripts: one file per state change, loaded once from the package.

Each script is ``_lib.lua`` (shared helpers and the key layout) followed by its own file.
They run with EVALSHA; a server that does not know a script yet (a restart, a flush) gets
it with SCRIPT LOAD and the call is repeated: NOSCRIPT means nothing ran.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files

NAMES = (
    "add",
    "claim",
    "heartbeat",
    "complete",
    "fail",
    "release",
    "cancel",
    "retry",
    "reclaim",
    "prune",
    "history_size",
    "next_due",
    "lease_owners",
    "stats",
    "list",
    "get",
    "breakers",
    "append_events",
    "read_events",
    "last_event_id",
    "import",
)


@dataclass(frozen=True, slots=True)
class Script:
    name: str
    source: str
    sha: str


def load_scripts(package: str = __package__ or __name__) -> dict[str, Script]:
    """Every script of the engine by name, with the SHA-1 EVALSHA calls it by."""
    root = files(package)
    lib = root.joinpath("_lib.lua").read_text(encoding="utf-8")
    scripts: dict[str, Script] = {}
    for name in NAMES:
        source = lib + "\n" + root.joinpath(f"{name}.lua").read_text(encoding="utf-8")
        sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        scripts[name] = Script(name, source, sha)
    return scripts
