"""Building many objects at once without the cyclic garbage collector in the way.

A batch add of 100,000 jobs creates half a million small objects that all stay alive
(the validated jobs, the stored ones, what the caller gets back). None of them can form a
reference cycle, yet each few hundred allocations trigger a collection that walks the young
objects, and the survivors pile up until a full collection walks every object in the process:
a large share of a big batch add's CPU time. So bulk loops run with the collector paused;
reference counting still frees everything as usual.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

BULK = 1000  # below this many items collections cost too little to bother

_lock = threading.Lock()
_depth = 0  # bulk sections open, in any thread
_was_enabled = False  # the collector's state when the first section opened


@contextmanager
def paused_gc(items: int) -> Iterator[None]:
    """Pause cyclic garbage collection while ``items`` objects are built in a tight loop
    (not across an ``await``). Nested and concurrent sections (the writer thread and the
    event loop's) restore the collector once, when the last one closes; a collector that
    was already disabled stays disabled."""
    global _depth, _was_enabled
    if items < BULK:
        yield
        return
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
