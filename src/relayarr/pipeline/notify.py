"""The ``notify-players`` job: one media change, told to every player group.

Its payload is :func:`relayarr.players.job.notify_payload`: the change and the players
already told. When some players are owed the change after a round (a player down, a video
playing), the job completes with the round's record and adds the next round as a
follow-up, due when the dispatcher says, carrying who is done, so a retry never tells a
player twice. Rounds that only wait for playback to end are not counted; after
:data:`MAX_FAILED_ROUNDS` rounds with failures the job fails with every player's outcome.
Until players are configured the handler records what it would have told.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from relayarr.arr.media import MediaEvent, MediaKind
from relayarr.errors import ChangeInvalid
from relayarr.jobqueue import Complete, Job, JobQueue, JobSpec, JSONValue, PermanentFailure
from relayarr.pipeline.context import PipelineContext
from relayarr.pipeline.jobs import NOTIFY_PLAYERS
from relayarr.players.change import Action, Kind, MediaChange, MediaIds
from relayarr.players.job import notify_payload, read_notify_payload
from relayarr.players.notifier import Outcome

NO_PLAYERS = "no players configured ([[players]]): recorded what would be told"
MAX_FAILED_ROUNDS = 10
"""Rounds with a failed player before the job gives up and fails (about an hour with the
dispatcher's waits); rounds that only wait for playback to end do not count."""


def change(
    action: Action,
    kind: MediaKind,
    folder: str | Path,
    file: str | Path | None = None,
    event: MediaEvent | None = None,
) -> MediaChange:
    """A change of a movie (``kind`` movie) or of episodes (series): ``folder`` is the
    movie's or the series' folder, ``file`` one video in it, when one is concerned."""
    ids = event.ids if event is not None else None
    return MediaChange(
        action=action,
        kind=Kind.MOVIE if kind is MediaKind.MOVIE else Kind.EPISODE,
        folder=str(folder),
        file=None if file is None else str(file),
        title=(event.title if event is not None else None) or Path(folder).name,
        year=event.year if event is not None else None,
        ids=MediaIds(tmdb=ids.tmdb, imdb=ids.imdb, tvdb=ids.tvdb) if ids else MediaIds(),
    )


def notify_specs(changes: Sequence[MediaChange]) -> list[JobSpec]:
    """One ``notify-players`` follow-up per change."""
    return [JobSpec(NOTIFY_PLAYERS, notify_payload(c), max_attempts=3) for c in changes]


async def add_notifies(
    queue: JobQueue, changes: Sequence[MediaChange], *, parent_id: int
) -> list[Job]:
    """Add the ``notify-players`` jobs for ``changes`` now."""
    return await queue.add_jobs(
        JobSpec(spec.type, spec.payload, max_attempts=spec.max_attempts, parent_id=parent_id)
        for spec in notify_specs(changes)
    )


async def handle_notify_players(ctx: PipelineContext, job: Job) -> Complete | JSONValue:
    """Tell every group about the job's change; see the module docs for the rounds."""
    try:
        media_change, done = read_notify_payload(job.payload)
    except ChangeInvalid as exc:
        raise PermanentFailure(f"malformed notify-players payload: {exc}") from exc
    roster = ctx.players
    if roster is None or not roster.players:
        return {"note": NO_PLAYERS, "would_tell": media_change.to_json()}
    record = await roster.dispatcher.dispatch(media_change, done)
    failed_rounds = _int(job.payload.get("failed_rounds"))
    failures = record.failures
    if failures:
        failed_rounds += 1
    result: dict[str, JSONValue] = {
        "change": media_change.to_json(),
        **record.to_json(),
        "failed_rounds": failed_rounds,
    }
    if record.retry_after is None or failed_rounds >= MAX_FAILED_ROUNDS:
        if failures:
            raise PermanentFailure(f"players not told: {record.summary()}")
        return result
    next_round = {**notify_payload(media_change, record.done), "failed_rounds": failed_rounds}
    waiting = [r.player for r in record.results if r.outcome is not Outcome.OK]
    result["next_round"] = {"in_seconds": record.retry_after, "for": list[JSONValue](waiting)}
    follow_up = JobSpec(
        NOTIFY_PLAYERS, next_round, delay=record.retry_after, max_attempts=job.max_attempts
    )
    return Complete(result=result, follow_ups=[follow_up])


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


__all__ = [
    "MAX_FAILED_ROUNDS",
    "NO_PLAYERS",
    "add_notifies",
    "change",
    "handle_notify_players",
    "notify_specs",
]
