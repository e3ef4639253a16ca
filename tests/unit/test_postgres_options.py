"""The PostgreSQL engine's URL handling and error translation (no server needed)."""

from __future__ import annotations

import importlib
import socket
import sys

import asyncpg
import pytest

from relayarr.jobqueue.errors import (
    DriverMissing,
    InvalidURL,
    StorageBusy,
    StorageError,
    StorageUnavailable,
)
from relayarr.jobqueue.storage.postgres.connection import (
    PostgresOptions,
    is_retryable,
    redact_url,
    translate,
)

SECRET = "s3cr:et@pw"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://relay:pw@db:5432/queue", "postgresql://relay@db:5432/queue"),
        ("postgresql://relay@db/queue", "postgresql://relay@db/queue"),
        ("postgresql://:pw@db/queue", "postgresql://db/queue"),
        (
            "postgresql://db/queue?password=pw&sslmode=require",
            "postgresql://db/queue?sslmode=require",
        ),
        ("postgresql://u:p%40ss@db/q?PASSWORD=x", "postgresql://u@db/q"),
        ("postgresql://u:p@ss@db/q", "postgresql://u@db/q"),  # an unencoded @ in the password
    ],
)
def test_redact_url_removes_every_password(url: str, expected: str) -> None:
    assert redact_url(url) == expected


def test_redact_url_never_raises() -> None:
    assert "pw" not in redact_url("postgresql://u:pw@[::1/q")


def test_options_keep_the_password_for_the_driver_only() -> None:
    options = PostgresOptions.from_url(
        f"postgresql://relay:{SECRET.replace('@', '%40')}@db:5433/queue"
        "?pool_size=3&connect_timeout=2.5&reconnect_timeout=0&sslmode=disable"
    )
    assert (options.pool_size, options.connect_timeout, options.reconnect_timeout) == (3, 2.5, 0)
    assert options.where == (
        "postgresql://relay@db:5433/queue"
        "?pool_size=3&connect_timeout=2.5&reconnect_timeout=0&sslmode=disable"
    )
    assert "pool_size" not in options.dsn
    assert "sslmode=disable" in options.dsn
    assert "s3cr" in options.dsn
    assert "s3cr" not in options.where


def test_event_retention_is_ours_and_defaults_to_a_hundred_thousand() -> None:
    assert PostgresOptions.from_url("postgresql://u@db/q").event_retention == 100_000
    options = PostgresOptions.from_url("postgresql://u@db/q?event_retention=25")
    assert options.event_retention == 25
    assert "event_retention" not in options.dsn


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:pw@db:5432/", "names no database"),
        ("postgresql://u:pw@db:99999/q", "malformed"),
        ("postgresql://u:pw@db/q?pool_size=0", "pool_size"),
        ("postgresql://u:pw@db/q?event_retention=0", "event_retention"),
        ("postgresql://u:pw@db/q?event_retention=many", "bad PostgreSQL URL option"),
        ("postgresql://u:pw@db/q?connect_timeout=soon", "bad PostgreSQL URL option"),
        ("mysql://u:pw@db/q", "not a PostgreSQL URL"),
        ("postgres://u:pw@db/q", "not a PostgreSQL URL"),  # as open_storage refuses it
    ],
)
def test_bad_urls_are_refused_without_the_password(url: str, expected: str) -> None:
    with pytest.raises(InvalidURL, match=expected) as caught:
        PostgresOptions.from_url(url)
    assert "pw" not in str(caught.value)


@pytest.mark.parametrize(
    ("error", "kind", "words"),
    [
        (
            asyncpg.InvalidPasswordError("password authentication failed"),
            StorageUnavailable,
            "log in",
        ),
        (
            asyncpg.InvalidCatalogNameError('database "q" does not exist'),
            StorageUnavailable,
            "does not exist",
        ),
        (asyncpg.TooManyConnectionsError("too many clients"), StorageBusy, "no free connections"),
        (asyncpg.CannotConnectNowError("starting up"), StorageUnavailable, "not accepting"),
        (ConnectionRefusedError(111, "Connection refused"), StorageUnavailable, "cannot reach"),
        (socket.gaierror(-2, "Name or service not known"), StorageUnavailable, "resolve"),
        (TimeoutError(), StorageUnavailable, "timed out"),
        (asyncpg.UniqueViolationError("duplicate key"), StorageError, "23505"),
    ],
)
def test_driver_errors_become_storage_errors_naming_the_database(
    error: Exception, kind: type[StorageError], words: str
) -> None:
    translated = translate(error, "postgresql://relay@db/q")
    assert type(translated) is kind
    assert words in str(translated)
    assert translated.where == "postgresql://relay@db/q"


def test_only_connection_trouble_is_retried() -> None:
    assert is_retryable(ConnectionResetError())
    assert is_retryable(asyncpg.ConnectionDoesNotExistError("closed in the middle"))
    assert is_retryable(asyncpg.SerializationError("could not serialize"))
    assert not is_retryable(asyncpg.UniqueViolationError("duplicate key"))
    assert not is_retryable(asyncpg.InvalidPasswordError("password authentication failed"))


def test_missing_driver_names_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name == "asyncpg" or name.startswith(("asyncpg.", "relayarr.jobqueue.storage.postgres")):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # makes ``import asyncpg`` fail
    with pytest.raises(DriverMissing, match=r"pip install 'relayarr\[postgres\]'"):
        importlib.import_module("relayarr.jobqueue.storage.postgres")
