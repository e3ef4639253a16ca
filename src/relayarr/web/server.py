"""Running the service: storage, queue, workers and uvicorn in one process, and their stop.

Start: open (and migrate) storage, build the queue, bind the socket, start the workers
(which first reclaim jobs of crashed local workers), then serve.

Stop, on SIGTERM or SIGINT: stop accepting connections and let in-flight requests finish
(up to :data:`GRACEFUL_HTTP_SECONDS`; WebSocket clients are told 1012), then drain the
workers (``queue.stop_timeout``: running jobs finish or are released unrun), then close
storage. A second SIGINT skips waiting for HTTP clients; jobs are still released cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import uvicorn

from relayarr.app import HandlerSetup, Services, build_queue, open_queue_storage, open_services
from relayarr.config import Settings
from relayarr.errors import AppError
from relayarr.jobqueue import StorageEngine
from relayarr.pipeline import schedule_reconcile, schedule_retention
from relayarr.web.app import create_app

logger = logging.getLogger(__name__)

GRACEFUL_HTTP_SECONDS = 10.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass(frozen=True)
class ServeOptions:
    """What ``relayarr serve`` was asked for on top of the settings."""

    host: str
    port: int
    workers: bool
    concurrency: int
    api_key: str = field(repr=False)


class _Server(uvicorn.Server):
    """uvicorn's server without its own signal handling: uvicorn re-raises a caught
    SIGTERM once it has served, which would kill the process before the workers drain.
    :func:`serve` installs the handlers instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class _DropColor(logging.Filter):
    """uvicorn attaches an ANSI-coloured copy of some messages; our formatters would
    print it as context."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.__dict__.pop("color_message", None)
        return True


def bind(host: str, port: int) -> socket.socket:
    """A listening socket, or :class:`AppError` saying why not (port in use...)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family = infos[0][0]
        return socket.create_server((host, port), family=family, backlog=2048)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise AppError(f"cannot listen on {host}:{port}: {reason}") from None


async def serve(
    settings: Settings,
    options: ServeOptions,
    *,
    setups: list[HandlerSetup] | None = None,
    on_listening: Callable[[str], None] | None = None,
) -> None:
    """Run the service until SIGTERM or SIGINT, then stop in the order described above.

    ``on_listening(base_url)`` is called once the socket is bound, before serving.
    """
    logging.getLogger("uvicorn.error").addFilter(_DropColor())
    storage = await open_queue_storage(settings.queue_url, create=True)
    try:
        async with open_services(settings, create=True) as services:
            await _serve(settings, options, storage, services, setups or [], on_listening)
    finally:
        await storage.aclose()
    logger.info("shutdown complete", extra={"service": "web"})


async def _serve(
    settings: Settings,
    options: ServeOptions,
    storage: StorageEngine,
    services: Services,
    setups: list[HandlerSetup],
    on_listening: Callable[[str], None] | None,
) -> None:
    loop = asyncio.get_running_loop()
    queue = build_queue(settings, storage, setups=setups, services=services, share_events=True)
    app = create_app(
        queue,
        settings.server,
        api_key=options.api_key,
        workers=options.workers,
        services=services,
    )
    sock = bind(options.host, options.port)
    config = uvicorn.Config(
        app,
        log_config=None,  # our logging; uvicorn's loggers propagate to it
        access_log=False,  # its lines carry query strings, and so maybe the key
        lifespan="on",
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=int(GRACEFUL_HTTP_SECONDS),
        ws_max_size=64 * 1024,
    )
    server = _Server(config)

    def on_signal(signum: signal.Signals) -> None:
        if server.should_exit:
            logger.warning(
                "already stopping; waiting for requests and running jobs",
                extra={"service": "web", "signal": signum.name},
            )
            if signum is signal.SIGINT:
                server.force_exit = True
            return
        logger.info("stop requested", extra={"service": "web", "signal": signum.name})
        server.should_exit = True

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, on_signal, signum)
    try:
        host, port = sock.getsockname()[:2]
        base_url = f"http://{_url_host(host)}:{port}"
        if on_listening is not None:
            on_listening(base_url)
        if options.workers:
            await queue.start(concurrency=options.concurrency)
            if services.library is not None:
                await schedule_reconcile(queue, services.library)
            await schedule_retention(queue, settings.queue.history_days)
        logger.info(
            "serving",
            extra={
                "service": "web",
                "url": base_url,
                "queue": storage.where,
                "workers": options.concurrency if options.workers else 0,
                "types": ",".join(sorted(queue.handled_types())),
            },
        )
        # Everything built so far (modules, the app, the queue) lives as long as the
        # process: out of the collector's sight, a full collection walks only what
        # requests and jobs made, and its pauses stay out of the webhook latency.
        gc.freeze()
        try:
            await server.serve(sockets=[sock])
        finally:
            logger.info("http stopped; draining workers", extra={"service": "web"})
            await queue.stop(timeout=settings.queue.stop_timeout)
            await queue.flush_events()  # stop() skips it when no worker ran
    finally:
        sock.close()
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


__all__ = ["GRACEFUL_HTTP_SECONDS", "ServeOptions", "bind", "serve"]
