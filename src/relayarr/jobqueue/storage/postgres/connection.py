"""Connections to PostgreSQL: URL options, the pool, retries across lost connections, and
the translation of driver errors into the queue's error tree.

Whether an operation may be retried after the connection broke depends on when it broke:

* before anything was sent (connecting, acquiring from the pool), or while a transaction
  was still open (the server rolls back a transaction whose connection dies): nothing was
  applied, so the operation runs again once the server answers, with a backoff;
* while committing (the COMMIT of a transaction, or a single-statement write in
  autocommit) with no answer from the server: the change may or may not be in. Where the
  write leaves a trace to look for (a claim's fresh lease token, a completion's finish
  time) the engine looks once the server is back, and runs it again only if it is not
  there; otherwise the caller gets a :class:`StorageError` saying exactly that, never a
  silent retry that could apply it twice.

An error the server *answers* with (a serialization failure, a deadlock) means the statement
did not commit, and is retried. (asyncpg reports a restart's "terminating connection due to
administrator command" as a lost connection, so that one counts as unknown.)
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from relayarr.jobqueue.errors import (
    DriverMissing,
    InvalidURL,
    JobQueueError,
    StorageBusy,
    StorageError,
    StorageUnavailable,
)
from relayarr.jobqueue.storage.postgres.pool import SERVER_SETTINGS, Pool

try:
    import asyncpg as asyncpg  # re-exported: engine modules import it from here
except ImportError as exc:  # pragma: no cover - exercised by a test that hides the module
    raise DriverMissing(
        "the PostgreSQL engine needs the asyncpg driver: pip install 'relayarr[postgres]'"
    ) from exc

T = TypeVar("T")
Operation = Callable[[Any], Awaitable[T]]
Resolver = Callable[[Any], Awaitable[tuple[bool, T | None]]]

log = logging.getLogger(__name__)

OUR_OPTIONS = ("pool_size", "connect_timeout", "reconnect_timeout", "event_retention")
SECRET_OPTIONS = ("password", "sslpassword")
FIRST_BACKOFF = 0.05
MAX_BACKOFF = 2.0


def redact_url(url: str) -> str:
    """The URL without its password (in the user part or the query), safe to print.

    >>> redact_url("postgresql://relay:s3cret@db:5432/queue?sslmode=require")
    'postgresql://relay@db:5432/queue?sslmode=require'
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if "@" in netloc:
            userinfo, _, hostinfo = netloc.rpartition("@")
            user = userinfo.split(":", 1)[0]
            netloc = f"{user}@{hostinfo}" if user else hostinfo
        query = [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if key.lower() not in SECRET_OPTIONS
        ]
        return urlunsplit((parts.scheme, netloc, parts.path, urlencode(query), ""))
    except ValueError:
        return "postgresql://(unparseable URL)"


@dataclass(frozen=True, slots=True)
class PostgresOptions:
    """What a ``postgresql://user:pass@host:port/db?pool_size=10`` URL asks for.

    ``pool_size``: connections per storage handle (default 10). ``connect_timeout``:
    seconds to wait for a new connection (default 10). ``reconnect_timeout``: how long an
    operation keeps retrying while the server is unreachable (default 60 s) before it
    fails with StorageUnavailable. ``event_retention``: how many of the newest events the
    shared event log keeps (default 100,000). Every other option goes to the driver
    (``sslmode``...).
    """

    dsn: str = ""
    where: str = ""
    pool_size: int = 10
    connect_timeout: float = 10.0
    reconnect_timeout: float = 60.0
    event_retention: int = 100_000

    @classmethod
    def from_url(cls, url: str) -> PostgresOptions:
        where = redact_url(url)
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 - validates the port
        except ValueError as exc:
            raise InvalidURL(f"malformed PostgreSQL URL: {exc}", where=where) from exc
        scheme = parts.scheme.split("+", 1)[0]
        if scheme != "postgresql":
            raise InvalidURL(f"not a PostgreSQL URL: {parts.scheme}://", where=where)
        if not parts.path.strip("/"):
            raise InvalidURL(
                "the PostgreSQL URL names no database: postgresql://user:pass@host:5432/dbname",
                where=where,
            )
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        ours = {key: options.pop(key) for key in OUR_OPTIONS if key in options}
        try:
            pool_size = int(ours.get("pool_size", "10"))
            connect_timeout = float(ours.get("connect_timeout", "10"))
            reconnect_timeout = float(ours.get("reconnect_timeout", "60"))
            event_retention = int(ours.get("event_retention", "100000"))
        except ValueError as exc:
            raise InvalidURL(f"bad PostgreSQL URL option: {exc}", where=where) from exc
        if pool_size < 1 or connect_timeout <= 0 or reconnect_timeout < 0 or event_retention < 1:
            raise InvalidURL(
                "pool_size must be >= 1, connect_timeout > 0, reconnect_timeout >= 0, "
                "event_retention >= 1",
                where=where,
            )
        dsn = urlunsplit(("postgresql", parts.netloc, parts.path, urlencode(options), ""))
        return cls(dsn, where, pool_size, connect_timeout, reconnect_timeout, event_retention)


# -- errors ------------------------------------------------------------------------------------


def is_connection_error(exc: BaseException) -> bool:
    """The server could not be reached, or the connection to it broke."""
    if isinstance(
        exc,
        OSError
        | asyncpg.PostgresConnectionError
        | asyncpg.CannotConnectNowError
        | asyncpg.exceptions.OperatorInterventionError
        | asyncpg.ConnectionDoesNotExistError,
    ):
        return True
    if isinstance(exc, asyncpg.exceptions.InternalClientError):
        # "another operation is in progress": a connection left half-way by a broken
        # operation; raised before anything is sent.
        return True
    return isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc)


def is_driver_error(exc: BaseException) -> bool:
    """Raised by the driver or the network, not by the operation's own code (a breaker
    transition's ValueError is the caller's to see, as on every engine)."""
    return isinstance(
        exc,
        asyncpg.PostgresError
        | asyncpg.InterfaceError
        | asyncpg.exceptions.InternalClientError
        | OSError,
    )


def server_refused(exc: BaseException) -> bool:
    """The server answered with an error: the statement did not commit. (asyncpg's lost
    connection errors are PostgresErrors too, but say nothing of the outcome.)"""
    return isinstance(exc, asyncpg.PostgresError) and not is_connection_error(exc)


def is_retryable(exc: BaseException) -> bool:
    """Worth running again: a broken connection, or a transaction the server aborted."""
    return is_connection_error(exc) or isinstance(
        exc,
        asyncpg.SerializationError
        | asyncpg.DeadlockDetectedError
        | asyncpg.TooManyConnectionsError,
    )


def translate(exc: BaseException, where: str) -> StorageError:
    """Map a driver error to the queue's error tree with a message a user can act on."""
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return StorageUnavailable(f"cannot log in to PostgreSQL: {exc}", where=where)
    if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
        return StorageUnavailable(f"PostgreSQL refused the login: {exc}", where=where)
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return StorageUnavailable(f"cannot open the database: {exc}", where=where)
    if isinstance(exc, asyncpg.TooManyConnectionsError):
        return StorageBusy(f"PostgreSQL has no free connections: {exc}", where=where)
    if isinstance(exc, asyncpg.CannotConnectNowError):
        return StorageUnavailable(f"PostgreSQL is not accepting connections: {exc}", where=where)
    if isinstance(exc, asyncpg.InsufficientPrivilegeError):
        return StorageUnavailable(f"PostgreSQL denied access: {exc}", where=where)
    if isinstance(exc, socket.gaierror):
        return StorageUnavailable(
            f"cannot resolve the PostgreSQL host name: {exc.strerror or exc}", where=where
        )
    if isinstance(exc, TimeoutError):
        return StorageUnavailable("timed out connecting to the PostgreSQL server", where=where)
    if isinstance(exc, OSError):
        reason = exc.strerror or str(exc) or type(exc).__name__
        return StorageUnavailable(
            f"cannot reach the PostgreSQL server: {reason.lower()}", where=where
        )
    if is_connection_error(exc):
        return StorageUnavailable(f"lost the connection to PostgreSQL: {exc}", where=where)
    if isinstance(exc, asyncpg.PostgresError):
        code = getattr(exc, "sqlstate", "?")
        return StorageError(f"PostgreSQL error {code}: {exc}", where=where)
    return StorageError(f"PostgreSQL driver error: {type(exc).__name__}: {exc}", where=where)


# -- connections -------------------------------------------------------------------------------


async def connect_once(options: PostgresOptions) -> asyncpg.Connection[asyncpg.Record]:
    """One connection outside the pool (the LISTEN connection); errors are translated."""
    try:
        return await asyncpg.connect(
            options.dsn,
            timeout=options.connect_timeout,
            server_settings={"application_name": "relayarr"},
        )
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
        raise translate(exc, options.where) from exc


def _keeps_connection(exc: BaseException, conn: Any) -> bool:
    """Whether a connection that raised ``exc`` is fit for the next operation: only when
    the server answered (or the queue refused) and no transaction is left open. A broken,
    cancelled or half-read connection is dropped rather than handed on."""
    answered = isinstance(exc, JobQueueError) or server_refused(exc)
    return answered and not (conn.is_closed() or conn.is_in_transaction())


class Database:
    """A connection pool, and :meth:`run` to run one operation on it with retries."""

    def __init__(self, options: PostgresOptions, pool: Pool) -> None:
        self.options = options
        self.where = options.where
        self._pool = pool
        self._closed = False
        self._outage_since: float | None = None

    @classmethod
    async def open(cls, options: PostgresOptions) -> Database:
        """Connect (one connection, at once): an unreachable server, a wrong password or a
        missing database fails here, with no retries, as StorageUnavailable."""

        async def connect() -> asyncpg.Connection[asyncpg.Record]:
            return await asyncpg.connect(
                options.dsn, timeout=options.connect_timeout, server_settings=SERVER_SETTINGS
            )

        # Connections open on demand (none kept open through an outage, which would mean
        # reconnecting in the background and logging each failure); this first one checks
        # the server right now.
        pool = Pool(connect, options.pool_size)
        try:
            pool.release(await pool.acquire())
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as exc:
            await pool.close()
            raise translate(exc, options.where) from exc
        return cls(options, pool)

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        await self._pool.close(timeout=10.0)

    async def run(
        self,
        operation: Operation[T],
        *,
        name: str,
        write: bool = False,
        transaction: bool = False,
        resolve: Resolver[T] | None = None,
    ) -> T:
        """Run ``operation(connection)`` and return its result, retrying what is safe.

        ``transaction``: inside BEGIN/COMMIT (several statements that must apply together).
        ``write``: a single statement that changes data, run in autocommit. A connection
        lost while a write commits leaves its outcome unknown: with ``resolve`` the outcome
        is looked up once the server answers again (``resolve(conn)`` returns (True, the
        result) when the write is found applied, (False, None) when it certainly was not,
        and then the write runs again); without it the caller gets a StorageError.
        Errors of the queue (LeaseLost...) and any other exception of the operation's own
        code pass through unchanged, after the rollback; only the driver's are translated.
        """
        started = time.monotonic()
        attempt = 0
        unknown = False  # an earlier attempt may have committed: resolve before rerunning
        while True:
            if self._closed:
                raise StorageUnavailable("storage is closed", where=self.where)
            committing = False
            try:
                conn = await self._pool.acquire()
                try:
                    applied = False
                    if unknown and resolve is not None:
                        applied, found = await resolve(conn)
                        unknown = False
                        if applied:
                            result = cast(T, found)
                    if applied:
                        pass
                    elif transaction:
                        tx = conn.transaction()
                        await tx.start()
                        try:
                            result = await operation(conn)
                        except BaseException:
                            if not conn.is_closed():
                                await tx.rollback()
                            raise
                        committing = True
                        await tx.commit()
                    else:
                        committing = write
                        result = await operation(conn)
                except BaseException as exc:
                    self._pool.release(conn, discard=not _keeps_connection(exc, conn))
                    raise
                self._pool.release(conn)
            except JobQueueError:
                raise
            except Exception as exc:
                if not is_driver_error(exc):
                    raise
                if not is_retryable(exc):
                    raise translate(exc, self.where) from exc
                if committing and not server_refused(exc):
                    if resolve is None:
                        raise StorageError(
                            f"lost the connection to PostgreSQL during {name}; the change may "
                            "or may not have been applied",
                            where=self.where,
                        ) from exc
                    unknown = True
                attempt += 1
                waited = time.monotonic() - started
                if waited >= self.options.reconnect_timeout:
                    raise StorageUnavailable(
                        f"PostgreSQL unreachable for {waited:.0f}s ({name} gave up): "
                        f"{translate(exc, self.where).args[0]}",
                        where=self.where,
                    ) from exc
                await self._backoff(exc, name, attempt)
                continue
            if self._outage_since is not None:
                log.warning(
                    "postgresql reachable again after %.1fs",
                    time.monotonic() - self._outage_since,
                    extra={"service": "postgresql", "operation": name, "where": self.where},
                )
                self._outage_since = None
            return result

    async def _backoff(self, exc: Exception, name: str, attempt: int) -> None:
        delay = min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (attempt - 1)) * (0.5 + random.random())
        if self._outage_since is None:
            self._outage_since = time.monotonic()
        # One warning when an outage starts and then every few attempts: clear, not noisy.
        if attempt == 1 or attempt % 10 == 0:
            log.warning(
                "postgresql connection failed (%s: %s); retrying %s in %.2fs (attempt %d)",
                type(exc).__name__,
                exc,
                name,
                delay,
                attempt,
                extra={"service": "postgresql", "operation": name, "where": self.where},
            )
        await asyncio.sleep(delay)
