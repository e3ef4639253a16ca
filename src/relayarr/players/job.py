"""The payload of a ``notify-players`` job: the change, and the players already told.

A handler reads it with :func:`read_notify_payload`, calls
:meth:`~relayarr.players.groups.Dispatcher.dispatch` with both, and, when the record asks
for a retry, adds the follow-up job built by :func:`notify_payload` with the record's
``done`` (delayed by its ``retry_after``), so the next attempt skips the players that took
the change. ::

    {"change": {"action": "added", "kind": "movie", "folder": "...", ...},
     "done": ["living-room"]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from relayarr.errors import ChangeInvalid
from relayarr.jobqueue import JSONObject, JSONValue
from relayarr.players.change import MediaChange

NOTIFY_PLAYERS = "notify-players"


def notify_payload(change: MediaChange, done: Iterable[str] = ()) -> JSONObject:
    """The payload for telling the players about ``change``, skipping those in ``done``."""
    names: list[JSONValue] = []
    names.extend(sorted(set(done)))
    return {"change": change.to_json(), "done": names}


def read_notify_payload(payload: Mapping[str, object]) -> tuple[MediaChange, frozenset[str]]:
    """The change and the players already told; :class:`ChangeInvalid` names a bad field."""
    done = payload.get("done", [])
    if not isinstance(done, list) or not all(isinstance(name, str) for name in done):
        raise ChangeInvalid("done: must be an array of player names")
    return MediaChange.from_json(payload.get("change")), frozenset(str(name) for name in done)


__all__ = ["NOTIFY_PLAYERS", "notify_payload", "read_notify_payload"]
