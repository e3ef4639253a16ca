"""The composition root: settings in, storage, queue, handlers and logging out.

Entry points (the CLI today, the web service later) build :class:`~relayarr.config.Settings`
once and come here for everything that has to be wired together; nothing else in relayarr
constructs storage or registers handlers.

>>> settings = load_settings(Path("relayarr.toml"))  # doctest: +SKIP
>>> configure_logging(settings.log)
>>> setups = import_setups(["myjobs"])              # myjobs.register(queue)
>>> storage = await open_queue_storage(settings.queue_url, create=True)
>>> async with open_services(settings, create=True) as services:
...     queue = build_queue(settings, storage, setups=setups, services=services)
"""

from __future__ import annotations

import importlib
import inspect
import json
import logging
import os
import sys
import traceback
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import TextIO

import httpx

from relayarr import __version__, pipeline
from relayarr.config import LogSettings, Settings
from relayarr.errors import AppError
from relayarr.jobqueue import JobContextFilter, JobQueue, StorageEngine, open_storage
from relayarr.library.db import LibraryStore
from relayarr.library.paths import PathMapper
from relayarr.library.roots import LibraryRoots
from relayarr.library.scanner import Scanner
from relayarr.metadata import ContentStore, Enricher, Publisher, build_providers
from relayarr.pipeline import Library, Metadata
from relayarr.pipeline.resolve import Resolver
from relayarr.players.roster import Roster
from relayarr.players.wiring import to_player_for

HandlerSetup = Callable[[JobQueue], object]
"""``def register(queue: JobQueue) -> None``: registers handlers on the queue it is given."""

DEFAULT_SETUP = "register"
USER_AGENT = f"relayarr/{__version__}"
"""How relayarr introduces itself to TMDB, fanart.tv and image hosts."""


# -- storage -------------------------------------------------------------------------------


async def open_queue_storage(url: str, *, create: bool = False) -> StorageEngine:
    """Open the queue's storage; with ``create`` make and migrate it, else insist it exists.

    Without ``create`` a mistyped path or an unmigrated file is an error (StorageUnavailable
    naming the file and advising ``relayarr migrate``) instead of a new, empty database.
    """
    return await open_storage(url, create=create)


# -- the services ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Services:
    """The media services the handlers and the web layer use; a part that is not
    configured is None (no ``[[library.roots]]``: no library)."""

    library: Library | None = None
    players: Roster | None = None
    metadata: Metadata | None = None

    def root_paths(self) -> list[str] | None:
        """The library roots' paths, or None when no library is configured."""
        if self.library is None:
            return None
        return [str(root.path) for root in self.library.roots.roots]


def path_mapper(settings: Settings) -> PathMapper:
    """The ``[[mappings]]`` rules as the library's path mapper."""
    return PathMapper(entry.rule() for entry in settings.mappings)


def library_roots(settings: Settings) -> LibraryRoots:
    return LibraryRoots(settings.library.library_roots())


@asynccontextmanager
async def open_services(settings: Settings, *, create: bool = False) -> AsyncIterator[Services]:
    """Open what ``settings`` configure (the library database when roots are set; with
    ``create`` it is made or migrated first) and close it all on exit."""
    players = Roster(settings.players, settings.groups, to_player_for)
    try:
        if not settings.library.roots:
            yield Services(players=players)
            return
        async with (
            _open_library(settings, create=create) as library,
            _open_metadata(settings, library) as metadata,
        ):
            yield Services(library=library, players=players, metadata=metadata)
    finally:
        await players.aclose()


@asynccontextmanager
async def _open_metadata(settings: Settings, library: Library) -> AsyncIterator[Metadata | None]:
    """The metadata services when ``[metadata]`` has something to publish, else None."""
    options = settings.metadata
    if options is None or not options.publishes:
        yield None
        return
    store = library.store.metadata
    async with httpx.AsyncClient(headers={"User-Agent": USER_AGENT}) as client:
        yield Metadata(
            settings=options,
            enricher=Enricher(build_providers(options, client, store)),
            publisher=Publisher(
                options, client=client, store=store, content=ContentStore(settings.assets_dir)
            ),
            store=store,
        )


@asynccontextmanager
async def _open_library(settings: Settings, *, create: bool) -> AsyncIterator[Library]:
    roots = library_roots(settings)
    store = await LibraryStore.open(settings.library_database_url, create=create)
    try:
        library = Library(
            resolver=Resolver(
                path_mapper(settings),
                roots,
                mount_retry_seconds=settings.library.mount_retry_seconds,
            ),
            roots=roots,
            scanner=Scanner(confine_to=[root.path for root in roots.roots]),
            store=store,
            settle_seconds=settings.library.settle_seconds,
            reconcile_every=settings.library.reconcile_every,
        )
        yield library
    finally:
        await store.close()


# -- the queue and its handlers ------------------------------------------------------------


def build_queue(
    settings: Settings,
    storage: StorageEngine,
    *,
    setups: Sequence[HandlerSetup] = (),
    services: Services | None = None,
    strict_types: bool = True,
    share_events: bool = False,
) -> JobQueue:
    """A JobQueue on ``storage`` configured from ``settings.queue``, with relayarr's own
    handlers over ``services`` (none: webhooks are recorded only) and then those
    registered by each of ``setups`` (see :func:`import_setups`).

    ``strict_types`` makes :meth:`JobQueue.add_job` refuse types nothing here handles.
    ``share_events`` writes the queue's events to the storage's shared event log when the
    engine keeps one, for long-running processes (serve, worker) whose events the web
    node shows; they must ``stop()`` or ``flush_events()`` the queue before closing storage.
    Raises :class:`AppError` when a setup fails or two register the same type.
    """
    options = settings.queue
    queue = JobQueue(
        storage,
        lease_seconds=options.lease_seconds,
        poll_interval=options.poll_interval,
        max_rescues=options.max_rescues,
        strict_types=strict_types,
        share_events=share_events and storage.capabilities.cross_process_events,
    )
    services = services or Services()
    pipeline.register(
        queue,
        services.library,
        services.players,
        services.metadata,
        history_days=options.history_days,
    )
    for setup in setups:
        name = f"{getattr(setup, '__module__', '?')}:{getattr(setup, '__qualname__', setup)}"
        try:
            result = setup(queue)
        except Exception as exc:
            raise AppError(f"{name} failed: {_describe_exception(exc)}") from exc
        if inspect.isawaitable(result):
            if inspect.iscoroutine(result):
                result.close()
            raise AppError(f"{name} must be a plain function, not async; it registers handlers")
    return queue


def import_setups(specs: Sequence[str]) -> list[HandlerSetup]:
    """Resolve ``--import`` values: ``pkg.mod`` means ``pkg.mod.register``, and
    ``pkg.mod:func`` names the function. Each is later called with the JobQueue.

    The current directory is importable, as with ``celery -A`` or ``uvicorn``. Raises
    :class:`AppError` naming the spec when a module or function cannot be found, or the
    module fails while importing (with the file and line where it did).
    """
    if specs and os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    return [_import_setup(spec) for spec in specs]


def _import_setup(spec: str) -> HandlerSetup:
    module_name, _, attribute = spec.partition(":")
    attribute = attribute or DEFAULT_SETUP
    if not module_name or not all(part.isidentifier() for part in module_name.split(".")):
        raise AppError(f"--import {spec!r}: expected MODULE or MODULE:FUNCTION")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name + ".").startswith(exc.name + "."):
            raise AppError(f"--import {spec!r}: no module named {exc.name!r}") from exc
        raise AppError(f"--import {spec!r}: {_describe_exception(exc)}") from exc
    except Exception as exc:
        raise AppError(f"--import {spec!r}: {_describe_exception(exc)}") from exc
    target: object = module
    for part in attribute.split("."):
        if not hasattr(target, part):
            hint = "" if ":" in spec else f" (name the function: {module_name}:FUNCTION)"
            raise AppError(f"--import {spec!r}: {module_name} has no {attribute!r}{hint}")
        target = getattr(target, part)
    if not callable(target):
        raise AppError(f"--import {spec!r}: {attribute!r} is not a function")
    setup: HandlerSetup = target
    return setup


def _describe_exception(exc: BaseException) -> str:
    """``Type: message (file:line)`` of where it was raised, for one-line reports."""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, SyntaxError):
        return text  # its message already names the file and line
    # The innermost frame in real code, not in importlib's frozen machinery.
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith("<")]
    if frames:
        text += f" ({frames[-1].filename}:{frames[-1].lineno})"
    return text


# -- logging -------------------------------------------------------------------------------

# Attributes every LogRecord has; anything else on a record came from ``extra=`` or a filter.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys() | {"message", "asctime"}
)
_RECORD_ATTRS = len(logging.LogRecord("", 0, "", 0, "", (), None).__dict__)
_LAST_HANDLER: list[logging.Handler] = []  # what configure_logging installed, to replace it


def configure_logging(
    log: LogSettings, *, level: str | int | None = None, stream: TextIO | None = None
) -> logging.Handler:
    """Send every log record to ``stream`` (stderr) as text or, with ``log.json_lines``,
    one JSON object per line; either way stamped with the running job's id, type and
    attempt (the queue's :class:`JobContextFilter`). ``level`` overrides ``log.level``.

    Calling it again replaces the handler it installed before. Returns the handler.

    Records skip what neither format shows (the caller's file and line, thread and process
    names), as the logging documentation's "Optimization" section suggests: that is a
    third of the cost of a record, and every accepted webhook makes one.
    """
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(JobContextFilter())
    handler.setFormatter(JsonLineFormatter() if log.json_lines else KeyValueFormatter())
    root = logging.getLogger()
    for old in _LAST_HANDLER:
        root.removeHandler(old)
    _LAST_HANDLER[:] = [handler]
    root.addHandler(handler)
    root.setLevel(level if level is not None else log.level)
    return handler


def _context(record: logging.LogRecord) -> dict[str, object]:
    """The record's structured context (``extra=`` and filter fields), without empty ones."""
    # LogRecord.__init__ sets its attributes first; only what follows can be context.
    return {
        key: value
        for key, value in islice(record.__dict__.items(), _RECORD_ATTRS, None)
        if value is not None and key not in _STANDARD_ATTRS and not key.startswith("_")
    }


class KeyValueFormatter(logging.Formatter):
    """``2024-05-01 12:00:00,123 INFO relayarr.x: job completed job_id=7 type=scan``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        context = " ".join(f"{key}={value}" for key, value in _context(record).items())
        if not context:
            return line
        head, newline, rest = line.partition("\n")  # keep context on the first line
        return f"{head} {context}{newline}{rest}"


class JsonLineFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, context, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **_context(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


__all__ = [
    "AppError",
    "HandlerSetup",
    "JsonLineFormatter",
    "KeyValueFormatter",
    "Services",
    "build_queue",
    "configure_logging",
    "import_setups",
    "library_roots",
    "open_queue_storage",
    "open_services",
    "path_mapper",
]
