"""The composition root: --import resolution, build_queue, and the log formats."""

from __future__ import annotations

import io
import json
import logging
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fakes import MemoryStorage

from relayarr.app import build_queue, configure_logging, import_setups
from relayarr.config import LogSettings, QueueSettings, Settings
from relayarr.errors import AppError
from relayarr.jobqueue import FakeClock, Job, JobId, JobQueue, JobStatus, UnknownJobType
from relayarr.jobqueue.context import bind_job, unbind_job


@pytest.fixture
def modules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory on sys.path for handler modules written by the test."""
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def module(directory: Path, name: str, source: str) -> None:
    (directory / f"{name}.py").write_text(source, encoding="utf-8")
    sys.modules.pop(name, None)


HANDLERS = """
from relayarr.jobqueue import Job, JobQueue

async def echo(job: Job) -> object:
    return job.payload

def register(queue: JobQueue) -> None:
    queue.register("echo", echo)

def other(queue: JobQueue) -> None:
    queue.register("other", echo)

async def setup_async(queue: JobQueue) -> None:
    queue.register("late", echo)

NOT_CALLABLE = 3
"""


def settings() -> Settings:
    return Settings(queue=QueueSettings(lease_seconds=7.0, poll_interval=0.5, max_rescues=1))


def queue_with(*specs: str) -> JobQueue:
    return build_queue(settings(), MemoryStorage(FakeClock()), setups=import_setups(specs))


def test_module_means_its_register_function(modules: Path) -> None:
    module(modules, "app_handlers", HANDLERS)
    builtin = queue_with().handled_types()
    assert queue_with("app_handlers").handled_types() == [*builtin, "echo"]


def test_module_colon_function(modules: Path) -> None:
    module(modules, "app_handlers", HANDLERS)
    queue = queue_with("app_handlers:register", "app_handlers:other")
    assert queue.handled_types()[-2:] == ["echo", "other"]


def test_queue_options_come_from_settings() -> None:
    queue = queue_with()
    assert (queue.lease_seconds, queue.poll_interval, queue.max_rescues) == (7.0, 0.5, 1)


async def test_strict_queue_refuses_types_nobody_handles() -> None:
    with pytest.raises(UnknownJobType):
        await queue_with().add_job("nobody-handles-this")


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("app_missing_module", "no module named 'app_missing_module'"),
        ("app_handlers:nope", "app_handlers has no 'nope'"),
        ("app_handlers:NOT_CALLABLE", "'NOT_CALLABLE' is not a function"),
        ("app-handlers", "expected MODULE or MODULE:FUNCTION"),
        (":register", "expected MODULE or MODULE:FUNCTION"),
    ],
)
def test_unusable_import_is_named(modules: Path, spec: str, expected: str) -> None:
    module(modules, "app_handlers", HANDLERS)
    with pytest.raises(AppError, match="--import") as caught:
        import_setups([spec])
    assert expected in str(caught.value)
    assert repr(spec) in str(caught.value)


def test_module_without_register_hints_at_the_function_form(modules: Path) -> None:
    module(modules, "app_plain", "x = 1\n")
    with pytest.raises(AppError, match=r"app_plain:FUNCTION"):
        import_setups(["app_plain"])


def test_module_failing_on_import_reports_file_and_line(modules: Path) -> None:
    module(modules, "app_broken", "import os\nraise RuntimeError('boom')\n")
    with pytest.raises(AppError) as caught:
        import_setups(["app_broken"])
    message = str(caught.value)
    assert "RuntimeError: boom" in message
    assert "app_broken.py:2" in message


def test_missing_dependency_of_a_module_is_not_blamed_on_the_module(modules: Path) -> None:
    module(modules, "app_needs", "import app_dependency_nowhere\n")
    with pytest.raises(AppError) as caught:
        import_setups(["app_needs"])
    assert "No module named 'app_dependency_nowhere'" in str(caught.value)
    assert "app_needs.py:1" in str(caught.value)


def test_async_setup_is_refused(modules: Path) -> None:
    module(modules, "app_handlers", HANDLERS)
    with pytest.raises(AppError, match="must be a plain function"):
        queue_with("app_handlers:setup_async")


def test_two_setups_registering_one_type_fail_clearly(modules: Path) -> None:
    module(modules, "app_handlers", HANDLERS)
    with pytest.raises(AppError, match="already has a handler"):
        queue_with("app_handlers", "app_handlers:register")


# -- logging -------------------------------------------------------------------------------


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def job() -> Job:
    now = datetime.now(UTC)
    return Job(JobId(42), "scan", {}, 5, JobStatus.PROCESSING, 2, 3, now, now)


def log_inside_a_job(message: str, **extra: object) -> None:
    token = bind_job(job())
    try:
        logging.getLogger("tests.app").warning(message, extra=extra)
    finally:
        unbind_job(token)


@pytest.mark.usefixtures("restore_root_logger")
def test_json_lines_carry_the_job_and_extra_context() -> None:
    stream = io.StringIO()
    configure_logging(LogSettings(json_lines=True), stream=stream)
    log_inside_a_job("scanning", duration_ms=1.5)
    (line,) = stream.getvalue().splitlines()
    entry = json.loads(line)
    assert entry["message"] == "scanning"
    assert entry["level"] == "warning"
    assert entry["logger"] == "tests.app"
    assert (entry["job_id"], entry["type"], entry["attempt"]) == (42, "scan", 2)
    assert entry["duration_ms"] == 1.5


@pytest.mark.usefixtures("restore_root_logger")
def test_text_lines_carry_the_job_as_key_values() -> None:
    stream = io.StringIO()
    configure_logging(LogSettings(), stream=stream)
    log_inside_a_job("scanning")
    logging.getLogger("tests.app").warning("outside")
    inside, outside = stream.getvalue().splitlines()
    assert inside.endswith("WARNING tests.app: scanning job_id=42 type=scan attempt=2")
    assert outside.endswith("WARNING tests.app: outside")


@pytest.mark.usefixtures("restore_root_logger")
def test_configuring_again_replaces_the_handler_and_sets_the_level() -> None:
    first, second = io.StringIO(), io.StringIO()
    configure_logging(LogSettings(), stream=first)
    configure_logging(LogSettings(level="ERROR"), stream=second)
    logging.getLogger("tests.app").warning("dropped")
    logging.getLogger("tests.app").error("kept")
    assert first.getvalue() == ""
    assert "kept" in second.getvalue()
    assert "dropped" not in second.getvalue()
