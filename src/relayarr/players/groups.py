"""Player groups: who is told about a change, what happens during playback, what is retried.

* A ``one`` group (several Kodi boxes on one shared database) tells its first healthy
  member and falls back to the next when that one fails, is passed over by its breaker,
  or plays a video. An ``all`` group tells every member.
* ``during_playback``: ``defer`` answers "retry later", ``skip`` drops the change for that
  player, ``always`` tells it anyway, except for a Kodi library clean, which never runs
  while a video plays (in a ``one`` group, on any member: the database is shared).
* Each player has a circuit breaker (:mod:`relayarr.players.health`): a player that is
  down, slow, refusing the credentials or answering garbage is counted, and once open it
  is not asked until its cool-down is over. A path outside a player's libraries is a
  configuration error: it fails that player permanently without counting against it.
* Groups are told concurrently; a slow or dead player never holds up another group.
* Bookkeeping per player: :meth:`Dispatcher.dispatch` takes the players that took the
  change in earlier attempts and returns a :class:`~relayarr.players.record.DispatchRecord`
  with them and this attempt's, so a retry goes only to the players still owed it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from relayarr.errors import PlayerError, PlayerPathError
from relayarr.jobqueue import BreakerPhase, BreakerPolicy
from relayarr.players.change import Action, MediaChange
from relayarr.players.health import BreakerBoard, Clock
from relayarr.players.lanes import Lane
from relayarr.players.notifier import Notifier, Outcome
from relayarr.players.record import DispatchRecord, TargetResult
from relayarr.players.settings import DuringPlayback, GroupMode, GroupSettings, PlayersSection

log = logging.getLogger(__name__)

MAX_BREAKER_COOLDOWN = 600.0


@dataclass(frozen=True, slots=True)
class Group:
    """A group's name, settings and members (player names, in configuration order)."""

    name: str
    settings: GroupSettings
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _GroupOutcome:
    results: tuple[TargetResult, ...] = ()
    done: frozenset[str] = frozenset()
    retry_after: float | None = None


class Dispatcher:
    """Tells every group about changes, through one :class:`Lane` per player."""

    def __init__(
        self,
        notifiers: Sequence[Notifier],
        section: PlayersSection,
        *,
        clock: Clock = time.monotonic,
    ) -> None:
        by_name = {notifier.name: notifier for notifier in notifiers}
        if sorted(by_name) != sorted(player.name for player in section.players):
            raise ValueError("one notifier per configured player is needed")
        self._lanes = {name: Lane(notifier) for name, notifier in by_name.items()}
        members: dict[str, list[str]] = {}
        for player in section.players:
            members.setdefault(player.group_name, []).append(player.name)
        self.groups = tuple(
            Group(name, section.group(name), tuple(names)) for name, names in members.items()
        )
        self.board = BreakerBoard(
            {
                player.name: BreakerPolicy(
                    threshold=player.breaker_threshold,
                    cooldown=player.breaker_cooldown,
                    max_cooldown=max(player.breaker_cooldown, MAX_BREAKER_COOLDOWN),
                )
                for player in section.players
            },
            clock,
        )
        self._clock = clock

    def notifier(self, player: str) -> Notifier:
        """The notifier of ``player``."""
        return self._lanes[player].notifier

    async def dispatch(self, change: MediaChange, done: Iterable[str] = ()) -> DispatchRecord:
        """Tell every group about ``change``, skipping the players in ``done``."""
        already = frozenset(done)
        async with asyncio.TaskGroup() as tasks:
            running = [
                tasks.create_task(
                    self._tell_all(group, change, already)
                    if group.settings.mode is GroupMode.ALL
                    else self._tell_one(group, change, already)
                )
                for group in self.groups
            ]
        outcomes = [task.result() for task in running]
        waits = [o.retry_after for o in outcomes if o.retry_after is not None]
        return DispatchRecord(
            done=already.union(*(o.done for o in outcomes)),
            results=tuple(result for o in outcomes for result in o.results),
            retry_after=min(waits) if waits else None,
        )

    async def aclose(self) -> None:
        """Let running notifications finish, then close every notifier."""
        await asyncio.gather(*(lane.aclose() for lane in self._lanes.values()))

    # -- the two modes -----------------------------------------------------------------------

    async def _tell_all(
        self, group: Group, change: MediaChange, already: frozenset[str]
    ) -> _GroupOutcome:
        owed = [name for name in group.members if name not in already]
        results = await asyncio.gather(*(self._tell(group, name, change) for name in owed))
        return self._settle(group, [self._playback(group, r) for r in results])

    async def _tell_one(
        self, group: Group, change: MediaChange, already: frozenset[str]
    ) -> _GroupOutcome:
        if any(name in already for name in group.members):
            return _GroupOutcome()
        if change.action is Action.REMOVED and len(group.members) > 1:
            busy = await self._busy_cleaner(group)
            if busy is not None:
                return self._settle(group, [self._playback(group, busy)])
        results: list[TargetResult] = []
        for name in group.members:
            result = await self._tell(group, name, change)
            results.append(result)
            if result.outcome is Outcome.OK:
                break
        if any(r.outcome is Outcome.OK for r in results):
            # Members passed over while they played were skipped on purpose.
            taker = results[-1].player
            results = [
                replace(r, outcome=Outcome.SKIPPED, message=f"{r.message}; {taker} took it")
                if r.outcome is Outcome.DEFERRED
                else r
                for r in results
            ]
            return self._settle(group, results)
        return self._settle(group, [self._playback(group, r) for r in results])

    async def _busy_cleaner(self, group: Group) -> TargetResult | None:
        """A member playing a video when a removal would clean a shared Kodi library."""
        for name in group.members:
            notifier = self._lanes[name].notifier
            if not notifier.cleans_library:
                continue
            if self.board.state(name).phase is not BreakerPhase.CLOSED:
                continue
            try:
                playing = await notifier.is_playing()
            except PlayerError:
                continue  # it fails again, and counts, when it is told
            if playing:
                return TargetResult(
                    name,
                    group.name,
                    Outcome.DEFERRED,
                    "a video is playing, and a library clean affects every member of the group",
                )
        return None

    # -- one player --------------------------------------------------------------------------

    async def _tell(self, group: Group, name: str, change: MediaChange) -> TargetResult:
        admission = self.board.admit(name)
        if not admission.allowed:
            return TargetResult(
                name,
                group.name,
                Outcome.FAILED,
                f"not asked: its circuit breaker is open after repeated failures "
                f"(next try in {admission.wait:.0f} s)",
            )
        notifier = self._lanes[name].notifier
        cleaning = change.action is Action.REMOVED and notifier.cleans_library
        check = group.settings.during_playback is not DuringPlayback.ALWAYS or cleaning
        try:
            delivery = await self._lanes[name].submit(change, check_playback=check)
        except PlayerPathError as exc:
            self.board.release(name, admission)
            log.error(
                "player path error",
                extra={"player": name, "group": group.name, "error": str(exc)},
            )
            return TargetResult(name, group.name, Outcome.FAILED, str(exc), retryable=False)
        except PlayerError as exc:
            self.board.failed(name)
            log.warning(
                "player not told",
                extra={"player": name, "group": group.name, "error": str(exc)},
            )
            return TargetResult(name, group.name, Outcome.FAILED, str(exc))
        self.board.succeeded(name)
        return TargetResult(name, group.name, delivery.outcome, delivery.message)

    def _playback(self, group: Group, result: TargetResult) -> TargetResult:
        """Turn "a video is playing" into the group's ``during_playback`` decision."""
        if result.outcome is not Outcome.DEFERRED:
            return result
        if group.settings.during_playback is DuringPlayback.SKIP:
            return replace(result, outcome=Outcome.SKIPPED, message=f"skipped: {result.message}")
        wait = group.settings.defer_seconds
        why = result.message
        if group.settings.during_playback is DuringPlayback.ALWAYS:
            why += " (a library clean never runs during playback)"
        return replace(result, message=f"deferred: {why}; retry in {wait:.0f} s")

    def _settle(self, group: Group, results: Sequence[TargetResult]) -> _GroupOutcome:
        """The group's share of the record: who took the change, and when to try again."""
        done = frozenset(r.player for r in results if r.outcome in (Outcome.OK, Outcome.SKIPPED))
        if group.settings.mode is GroupMode.ONE and done:
            return _GroupOutcome(tuple(results), done, None)
        waits = [w for w in (self._wait(group, r) for r in results) if w is not None]
        return _GroupOutcome(tuple(results), done, min(waits) if waits else None)

    def _wait(self, group: Group, result: TargetResult) -> float | None:
        """Seconds until ``result``'s player is worth asking again; None: not at all."""
        if result.outcome is Outcome.DEFERRED:
            return group.settings.defer_seconds
        if result.outcome is not Outcome.FAILED or not result.retryable:
            return None
        state = self.board.state(result.player)
        if state.phase is BreakerPhase.OPEN and state.reopen_at is not None:
            return max(1.0, state.reopen_at - self._clock())
        return group.settings.retry_seconds


__all__ = ["Dispatcher", "Group"]
