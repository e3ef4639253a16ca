"""Durations as people write them: ``7d``, ``12h``, ``90m``, ``1h30m``, or bare seconds.

Shared by the command line (``jobs prune --older-than``) and the settings
(``library.reconcile_every``), so both accept exactly the same spellings.
"""

from __future__ import annotations

import re

from relayarr.errors import DurationError

UNIT_SECONDS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([wdhms])")


def parse_duration(text: str) -> float:
    """Seconds in ``7d``, ``12h``, ``30m``, ``45s``, ``2w`` or combinations like ``1h30m``;
    a bare number is seconds. Raises :class:`DurationError`."""
    cleaned = text.strip().lower()
    try:
        seconds = float(cleaned)
    except ValueError:
        pieces = _DURATION.findall(cleaned)
        if not pieces or "".join(number + unit for number, unit in pieces) != cleaned:
            raise DurationError(
                f"{text!r} is not a duration (examples: 7d, 12h, 30m, 1h30m)"
            ) from None
        seconds = sum(float(number) * UNIT_SECONDS[unit] for number, unit in pieces)
    if not seconds >= 0 or seconds == float("inf"):
        raise DurationError(f"{text!r} is not a duration >= 0")
    return seconds
