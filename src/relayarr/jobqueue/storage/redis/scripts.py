"""The engine's Lua scripts: one file per state change, loaded once from the package.

Each script is its own file preceded by the definitions of ``_lib.lua`` (shared helpers
and the key layout) that it uses, directly or through other helpers, in the library's
order. Redis runs a script's whole text on every call, so every helper defined is a
closure made and collected per call: a script carries none it never calls.

They run with EVALSHA; a server that does not know a script yet (a restart, a flush) gets
it with SCRIPT LOAD and the call is repeated: NOSCRIPT means nothing ran.
"""

from __future__ import annotations

import hashlib
import re
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
    "stalled",
    "rescue",
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
    lib = Library(root.joinpath("_lib.lua").read_text(encoding="utf-8"))
    scripts: dict[str, Script] = {}
    for name in NAMES:
        body = root.joinpath(f"{name}.lua").read_text(encoding="utf-8")
        source = lib.for_script(body) + "\n" + body
        sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()
        scripts[name] = Script(name, source, sha)
    return scripts


# A top-level definition in _lib.lua: ``local function name(`` or ``local name =``.
_DEFINITION = re.compile(r"local (?:function )?([A-Za-z_]\w*)")
_COMMENT = re.compile(r"--[^\n]*")  # the scripts hold no "--" inside a string
_WORD = re.compile(r"[A-Za-z_]\w*")


class Library:
    """_lib.lua as its top-level definitions, each with the comment lines just above it."""

    def __init__(self, text: str) -> None:
        self.blocks: dict[str, str] = {}  # name -> source, in the library's order
        self.uses: dict[str, set[str]] = {}  # name -> earlier definitions it refers to
        name: str | None = None
        comments: list[str] = []  # column-0 comments and blank lines awaiting a definition
        for line in text.splitlines(keepends=True):
            found = _DEFINITION.match(line)
            if found:
                name = found.group(1)
                self.blocks[name] = "".join(comments) + line
                comments = []
            elif line.startswith("--") or not line.strip():
                comments.append(line)
            elif name is None:
                raise ValueError(f"_lib.lua: code before the first definition: {line!r}")
            else:
                self.blocks[name] += "".join(comments) + line
                comments = []
        known: set[str] = set()
        for name, source in self.blocks.items():
            self.uses[name] = self._words(source) & known
            known.add(name)

    @staticmethod
    def _words(source: str) -> set[str]:
        return set(_WORD.findall(_COMMENT.sub("", source)))

    def for_script(self, body: str) -> str:
        """The definitions ``body`` needs, with everything they need, in library order."""
        wanted = self._words(body) & self.blocks.keys()
        for name in reversed(self.blocks):  # a definition refers only to earlier ones
            if name in wanted:
                wanted |= self.uses[name]
        return "".join(source for name, source in self.blocks.items() if name in wanted)
