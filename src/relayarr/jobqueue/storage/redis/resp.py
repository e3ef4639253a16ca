"""Commands as the bytes Redis reads (RESP arrays of bulk strings), packed once per call.

redis-py's asyncio connection packs in Python, one encoder call per argument, which costs
an add as much as the rest of the client's work on it. hiredis (which the
``relayarr[redis]`` extra installs) packs in C; without it a plain Python packer still
makes one call of the whole command.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import cast


def _pack_in_python(command: Sequence[str]) -> bytes:
    parts = [b"*%d\r\n" % len(command)]
    for arg in command:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def _pick_packer() -> Callable[[Sequence[str]], bytes]:
    try:
        from hiredis import pack_command  # optional: redis-py runs without it
    except ImportError:
        return _pack_in_python

    def pack_in_c(command: Sequence[str]) -> bytes:
        return cast(bytes, pack_command(tuple(command)))  # type: ignore[arg-type]

    return pack_in_c


pack: Callable[[Sequence[str]], bytes] = _pick_packer()
"""One command as RESP bytes; raises UnicodeEncodeError for a string UTF-8 cannot hold."""
