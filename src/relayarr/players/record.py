"""What one dispatch of a change did, player by player, as it is kept between attempts.

A :class:`DispatchRecord` says which players took the change (``done``, carried over from
every earlier attempt), what happened to each player asked this time (``results``), and
whether and when to try again (``retry_after``). Its JSON goes into the job, and the next
attempt hands ``done`` back to the dispatcher, so a retry never tells a player twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from relayarr.errors import ChangeInvalid
from relayarr.jobqueue import JSONObject, JSONValue
from relayarr.players.notifier import Outcome


@dataclass(frozen=True, slots=True)
class TargetResult:
    """What happened to one player in one attempt (``retryable`` matters for failures)."""

    player: str
    group: str
    outcome: Outcome
    message: str
    retryable: bool = True

    def to_json(self) -> JSONObject:
        return {
            "player": self.player,
            "group": self.group,
            "outcome": self.outcome.value,
            "message": self.message,
            "retryable": self.retryable,
        }


@dataclass(frozen=True, slots=True)
class DispatchRecord:
    """The outcome of telling every group about one change.

    ``retry_after`` is None when nothing is left to do (every group took the change, or
    what failed cannot be helped by retrying); otherwise the seconds after which the
    players still owed the change should be asked again.
    """

    done: frozenset[str]
    results: tuple[TargetResult, ...]
    retry_after: float | None

    @property
    def complete(self) -> bool:
        """True when no retry is wanted."""
        return self.retry_after is None

    @property
    def failures(self) -> tuple[TargetResult, ...]:
        """The players that failed in this attempt."""
        return tuple(r for r in self.results if r.outcome is Outcome.FAILED)

    def summary(self) -> str:
        """One line for people: ``living-room: ok; plex: failed (...)``."""
        return "; ".join(f"{r.player}: {r.outcome.value} ({r.message})" for r in self.results)

    def to_json(self) -> JSONObject:
        results: list[JSONValue] = [result.to_json() for result in self.results]
        done: list[JSONValue] = []
        done.extend(sorted(self.done))
        return {
            "done": done,
            "results": results,
            "retry_after": self.retry_after,
        }

    @classmethod
    def from_json(cls, data: object) -> DispatchRecord:
        """Read :meth:`to_json` back; :class:`ChangeInvalid` names a bad field."""
        if not isinstance(data, Mapping):
            raise ChangeInvalid("record: must be a JSON object")
        done = data.get("done", [])
        if not isinstance(done, list) or not all(isinstance(name, str) for name in done):
            raise ChangeInvalid("done: must be an array of player names")
        results = []
        raw_results = data.get("results", [])
        if not isinstance(raw_results, list):
            raise ChangeInvalid("results: must be an array")
        for index, raw in enumerate(raw_results):
            results.append(_result(raw, f"results[{index}]"))
        retry_after = data.get("retry_after")
        if retry_after is not None and (
            isinstance(retry_after, bool) or not isinstance(retry_after, int | float)
        ):
            raise ChangeInvalid("retry_after: must be a number or null")
        return cls(
            done=frozenset(str(name) for name in done),
            results=tuple(results),
            retry_after=None if retry_after is None else float(retry_after),
        )


def _result(raw: object, where: str) -> TargetResult:
    if not isinstance(raw, Mapping):
        raise ChangeInvalid(f"{where}: must be a JSON object")
    texts = {}
    for key in ("player", "group", "message"):
        value = raw.get(key)
        if not isinstance(value, str):
            raise ChangeInvalid(f"{where}.{key}: must be a string")
        texts[key] = value
    try:
        outcome = Outcome(str(raw.get("outcome")))
    except ValueError:
        raise ChangeInvalid(f"{where}.outcome: must be ok, deferred, skipped or failed") from None
    return TargetResult(
        texts["player"], texts["group"], outcome, texts["message"], raw.get("retryable") is True
    )


__all__ = ["DispatchRecord", "TargetResult"]
