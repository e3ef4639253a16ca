"""Throwaway database servers for the tests: real servers on loopback, torn down afterwards.

Each server is started once per test session, on first use, in its own temporary directory,
and stopped (directory removed) when the session ends. A server that cannot be started
fails the tests that need it with a message saying why: it is never skipped silently.
``scripts/ensure-test-servers.sh`` (run by ``make test``) installs the binaries.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import pytest

# -- PostgreSQL ------------------------------------------------------------------------------

POSTGRES_USER = "postgres"
POSTGRES_PASSWORD = "relayarr-test-secret"  # password auth on TCP, so the CLI tests can
# check that a wrong password is reported (and that no password is ever printed)
POSTGRES_VERSIONS_DIR = Path("/usr/lib/postgresql")
POSTGRES_START_TIMEOUT = 60  # seconds; only against hanging


class PostgresServerError(RuntimeError):
    """The throwaway PostgreSQL could not be found, initialised or started."""


def postgres_bindir() -> Path:
    """The directory of initdb/pg_ctl: PostgreSQL 15 when present, else the newest installed."""
    preferred = POSTGRES_VERSIONS_DIR / "15" / "bin"
    if (preferred / "pg_ctl").exists():
        return preferred
    found = sorted(
        (path for path in POSTGRES_VERSIONS_DIR.glob("*/bin") if (path / "pg_ctl").exists()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if not found:
        raise PostgresServerError(
            f"no PostgreSQL server binaries under {POSTGRES_VERSIONS_DIR} "
            "(run scripts/ensure-test-servers.sh, or `apt-get install -y postgresql`)"
        )
    return found[-1]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PostgresServer:
    """One PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only.

    Durability is left as in production (fsync and synchronous_commit on). The server
    refuses to run as root, so when the tests run as root every server command runs as the
    ``postgres`` user. Local socket connections are trusted; TCP needs the password.
    ``settings`` are further server settings (``-c name=value``) for a test's own server.
    """

    def __init__(self, settings: Mapping[str, str] | None = None) -> None:
        self.settings = dict(settings or {})
        self.bindir = postgres_bindir()
        self.root = Path(tempfile.mkdtemp(prefix="relayarr-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "sock"
        self.log = self.root / "server.log"
        self.port = 0
        self._as_root = os.geteuid() == 0
        self._started = False
        self._spare: list[str] = []  # emptied databases ready for the next test

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        try:
            self.socket_dir.mkdir()
            if self._as_root:
                shutil.chown(self.root, POSTGRES_USER, POSTGRES_USER)
                shutil.chown(self.socket_dir, POSTGRES_USER, POSTGRES_USER)
            pwfile = self.root / "pwfile"
            pwfile.write_text(POSTGRES_PASSWORD + "\n")
            if self._as_root:
                shutil.chown(pwfile, POSTGRES_USER, POSTGRES_USER)
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                POSTGRES_USER,
                "--pwfile",
                str(pwfile),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            )
            pwfile.unlink()
            for _ in range(5):  # the port may be taken between probing and binding
                self.port = _free_port()
                try:
                    self._pg_ctl("start")
                except PostgresServerError:
                    if "could not bind" not in self.log_tail():
                        raise
                    continue
                self._started = True
                return
            raise PostgresServerError("no free loopback port for PostgreSQL")
        except BaseException:
            self.stop()
            raise

    def _pg_ctl(self, action: str, *extra: str) -> None:
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.socket_dir}",
                "-c fsync=on",
                "-c synchronous_commit=on",
                "-c max_connections=300",
                "-c shared_buffers=64MB",
                *(f"-c {name}={value}" for name, value in self.settings.items()),
            ]
        )
        self._run(
            "pg_ctl",
            action,
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-w",
            "-t",
            str(POSTGRES_START_TIMEOUT),
            "-o",
            options,
            *extra,
        )

    def restart(self) -> None:
        """Restart the server in place (same port and data): clients' connections drop."""
        self._pg_ctl("restart", "-m", "fast")

    def pause(self) -> None:
        """Stop the server, keeping its data and port for :meth:`resume`."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w")

    def resume(self) -> None:
        """Start the server again after :meth:`pause`, on the same port and data."""
        self._pg_ctl("start")

    def stop(self) -> None:
        """Stop the server (if it runs) and remove its directory; idempotent."""
        if self._started:
            self._started = False
            with contextlib.suppress(PostgresServerError):
                self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w")
        shutil.rmtree(self.root, ignore_errors=True)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if self._as_root:
            command = ["runuser", "-u", POSTGRES_USER, "--", *command]
        try:
            completed = subprocess.run(
                command,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=POSTGRES_START_TIMEOUT + 30,
                check=False,
                cwd=self.root,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PostgresServerError(f"{program} failed: {exc}") from exc
        if completed.returncode != 0:
            raise PostgresServerError(
                f"{program} exited with {completed.returncode}:\n{completed.stdout}"
                f"{completed.stderr}\n{self.log_tail()}"
            )

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- databases ---------------------------------------------------------------------------

    def url(self, database: str = "postgres", *, password: str | None = POSTGRES_PASSWORD) -> str:
        """A ``postgresql://`` URL for ``database`` over TCP on the loopback port."""
        auth = POSTGRES_USER if password is None else f"{POSTGRES_USER}:{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL through psql on the unix socket (trusted); returns its output."""
        command = [
            str(self.bindir / "psql"),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            POSTGRES_USER,
            "-d",
            database,
            "-c",
            sql,
        ]
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=120, check=False
        )
        if completed.returncode != 0:
            raise PostgresServerError(f"psql failed: {completed.stderr.strip()}")
        return completed.stdout

    def create_database(self) -> str:
        """A new, empty database; returns its name."""
        name = f"relayarr_{uuid.uuid4().hex[:16]}"
        self.psql(f'CREATE DATABASE "{name}"')  # a name we generated, not input
        return name

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    async def admin(self, database: str = "postgres") -> asyncpg.Connection[asyncpg.Record]:
        """An asyncpg connection as the superuser over the (trusted) unix socket."""
        return await asyncpg.connect(
            host=str(self.socket_dir), port=self.port, user=POSTGRES_USER, database=database
        )

    @asynccontextmanager
    async def fresh_database(self) -> AsyncIterator[str]:
        """An empty database as a queue URL.

        Creating and dropping a database costs about half a second with fsync on, too much
        for a suite of hundreds of tests; so databases are reused: after a test every
        connection to its database is ended and every table but the migration record is
        emptied (sequences restarted), which leaves it as empty as a new one.
        """
        name = self._spare.pop() if self._spare else self.create_database()
        try:
            yield self.url(name)
        except BaseException:
            self.drop_database(name)  # whatever the test did, do not hand it on
            raise
        conn = await self.admin(name)
        try:
            await conn.execute(_TERMINATE_OTHERS, name)
            await conn.execute(_EMPTY_DATABASE)
        finally:
            await conn.close()
        self._spare.append(name)


# Statements run by the test infrastructure only, on databases it created itself.
_TERMINATE_OTHERS = """
SELECT pg_terminate_backend(pid) FROM pg_stat_activity
WHERE datname = $1 AND pid <> pg_backend_pid()
"""
_EMPTY_DATABASE = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT tablename FROM pg_tables
             WHERE schemaname = 'public' AND tablename <> 'jobqueue_migrations' LOOP
        EXECUTE format('DELETE FROM %I', r.tablename);
    END LOOP;
    FOR r IN SELECT sequencename FROM pg_sequences WHERE schemaname = 'public' LOOP
        EXECUTE format('ALTER SEQUENCE %I RESTART', r.sequencename);
    END LOOP;
END
$$
"""


_postgres: PostgresServer | None = None
_postgres_error: str | None = None
_postgres_lock = threading.Lock()


def postgres_server() -> PostgresServer:
    """The session's PostgreSQL, started on first use and stopped when the process exits.

    Fails the calling test (``pytest.fail``, never a skip) when it cannot be started.
    """
    global _postgres, _postgres_error
    with _postgres_lock:
        if _postgres_error is not None:
            pytest.fail(_postgres_error, pytrace=False)
        if _postgres is None:
            try:
                server = PostgresServer()
                server.start()
            except (PostgresServerError, OSError, LookupError) as exc:
                _postgres_error = f"cannot start the test PostgreSQL server: {exc}"
                pytest.fail(_postgres_error, pytrace=False)
            atexit.register(server.stop)
            _postgres = server
        return _postgres


@contextlib.contextmanager
def postgres_database() -> Iterator[tuple[PostgresServer, str]]:
    """(server, name of a fresh database) for synchronous tests; dropped afterwards."""
    server = postgres_server()
    name = server.create_database()
    try:
        yield server, name
    finally:
        server.drop_database(name)


# -- Redis -----------------------------------------------------------------------------------

REDIS_PASSWORD = "relayarr-redis-test-secret"  # so the CLI tests can check a wrong password
# is reported, and that no password is ever printed
REDIS_START_TIMEOUT = 30.0  # seconds; only against hanging


class RedisServerError(RuntimeError):
    """The throwaway redis-server could not be found or started."""


class RedisServer:
    """One redis-server in a temporary directory on a loopback port, AOF on, no snapshots.

    ``appendonly yes`` with ``appendfsync everysec`` is what production needs (see the redis
    engine's docs); ``restart`` shuts it down (the AOF is written) and starts it again on the
    same port and directory, for the fault tests.
    """

    def __init__(self, *, appendonly: bool = True, tls: bool = False) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RedisServerError(
                "redis-server is not installed (run scripts/ensure-test-servers.sh, or "
                "`apt-get install -y redis-server`)"
            )
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="relayarr-redis-"))
        self.log = self.root / "server.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.appendonly = appendonly
        self.tls_port = 0  # with ``tls``: a second, TLS-only port (see make_certificates)
        self.ca_file = self.root / "ca.crt"
        if tls:
            make_certificates(self.root)
            self.tls_port = _free_port()

    def start(self) -> None:
        """Start on a free port (kept on restarts); raises RedisServerError."""
        try:
            for _ in range(5):  # the port may be taken between probing and binding
                port = self.port or _free_port()
                self._spawn(port)
                if self._wait_ready():
                    self.port = port
                    return
                if "Address already in use" not in self.log_tail() or self.port:
                    break
            raise RedisServerError(f"redis-server did not start:\n{self.log_tail()}")
        except BaseException:
            self.stop()
            raise

    def _spawn(self, port: int) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.root),
                "--appendonly",
                "yes" if self.appendonly else "no",
                "--appendfsync",
                "everysec",
                "--save",
                "",
                "--requirepass",
                REDIS_PASSWORD,
                "--databases",
                "16",
                "--logfile",
                str(self.log),
                "--daemonize",
                "no",
                *self._tls_options(),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        self._pending_port = port

    def _tls_options(self) -> list[str]:
        if not self.tls_port:
            return []
        return [
            "--tls-port",
            str(self.tls_port),
            "--tls-cert-file",
            str(self.root / "server.crt"),
            "--tls-key-file",
            str(self.root / "server.key"),
            "--tls-ca-cert-file",
            str(self.ca_file),
            "--tls-auth-clients",
            "no",
        ]

    def _wait_ready(self) -> bool:
        assert self.process is not None
        deadline = time.monotonic() + REDIS_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                if self.command("PING", port=self._pending_port) == "PONG":
                    return True
            except OSError:
                pass
            time.sleep(0.02)
        return False

    def command(self, *args: str, port: int | None = None) -> str:
        """Run one command over a raw socket (authenticated); returns a simple reply."""
        with socket.create_connection(("127.0.0.1", port or self.port), timeout=10) as sock:
            payload = b""
            for command in (("AUTH", REDIS_PASSWORD), args):
                payload += f"*{len(command)}\r\n".encode()
                for arg in command:
                    data = arg.encode()
                    payload += b"$%d\r\n%s\r\n" % (len(data), data)
            sock.sendall(payload)
            replies = sock.makefile("rb")
            first = replies.readline()
            if not first.startswith(b"+OK"):
                raise OSError(f"AUTH failed: {first!r}")
            line = replies.readline().decode().rstrip("\r\n")
            if line.startswith("$") and line != "$-1":
                line = replies.readline().decode().rstrip("\r\n")
            return line.lstrip("+:")

    def shutdown(self) -> None:
        """SHUTDOWN (the AOF is flushed) and wait for the process to exit."""
        if self.process is None or self.process.poll() is not None:
            return
        with contextlib.suppress(OSError):
            self.command("SHUTDOWN")
        try:
            self.process.wait(timeout=REDIS_START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self, down_for: float = 0.0) -> None:
        """Shut down, stay down ``down_for`` seconds, and start again on the same port and
        directory (the data comes back from the AOF)."""
        self.shutdown()
        time.sleep(down_for)
        self.resume()

    def resume(self) -> None:
        """Start again after :meth:`shutdown`, on the same port and directory."""
        self._spawn(self.port)
        if not self._wait_ready():
            raise RedisServerError(f"redis-server did not come back:\n{self.log_tail()}")

    def stop(self) -> None:
        """Kill the server (if it runs) and remove its directory; idempotent."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def url(self, db: int = 0, *, prefix: str | None = None, password: str = REDIS_PASSWORD) -> str:
        """A ``redis://`` URL for database ``db`` (and a key prefix, when given)."""
        query = f"?prefix={prefix}" if prefix else ""
        return f"redis://:{password}@127.0.0.1:{self.port}/{db}{query}"

    def fresh_url(self) -> str:
        """A URL no test used before: its own key prefix in database 0."""
        return self.url(prefix=f"t{uuid.uuid4().hex[:12]}:")

    @asynccontextmanager
    async def fresh_database(self) -> AsyncIterator[str]:
        """A new, empty queue (a fresh key prefix) as a URL; its keys removed afterwards."""
        url = self.fresh_url()
        try:
            yield url
        finally:
            self.delete_prefix(url.rsplit("prefix=", 1)[1])

    def delete_prefix(self, prefix: str) -> None:
        """Delete every key under ``prefix`` (tests share one server)."""
        with contextlib.suppress(OSError):
            self.command(
                "EVAL",
                "for _, k in ipairs(redis.call('KEYS', ARGV[1] .. '*')) do "
                "redis.call('DEL', k) end return 0",
                "0",
                prefix,
            )


def make_certificates(directory: Path) -> None:
    """A throwaway CA and a server certificate for 127.0.0.1 signed by it (openssl)."""

    def openssl(*args: str) -> None:
        try:
            subprocess.run(
                ["openssl", *args], cwd=directory, capture_output=True, check=True, timeout=60
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise RedisServerError(f"cannot make test certificates with openssl: {exc}") from exc

    subj = "/CN=relayarr-test-ca"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", subj,
            "-keyout", "ca.key", "-out", "ca.crt")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", "server.key", "-out", "server.csr")  # fmt: skip
    (directory / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
            "-out", "server.crt")  # fmt: skip


_redis: RedisServer | None = None
_redis_error: str | None = None
_redis_lock = threading.Lock()


def redis_server() -> RedisServer:
    """The session's redis-server, started on first use and stopped when the process exits.

    Fails the calling test (``pytest.fail``, never a skip) when it cannot be started.
    """
    global _redis, _redis_error
    with _redis_lock:
        if _redis_error is not None:
            pytest.fail(_redis_error, pytrace=False)
        if _redis is None:
            try:
                server = RedisServer()
                server.start()
            except (RedisServerError, OSError) as exc:
                _redis_error = f"cannot start the test redis-server: {exc}"
                pytest.fail(_redis_error, pytrace=False)
            atexit.register(server.stop)
            _redis = server
        return _redis


@asynccontextmanager
async def redis_database() -> AsyncIterator[str]:
    """A fresh, empty Redis queue as a URL (for the contract suite's ENGINES)."""
    async with redis_server().fresh_database() as url:
        yield url
