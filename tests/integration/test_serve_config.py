"""``relayarr config init|check`` run for real: the file written, the bad key named."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from serve_process import relayarr_command

pytestmark = pytest.mark.slow


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("RELAYARR_")}
    return subprocess.run(
        [*relayarr_command(), *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_init_writes_a_file_that_checks_and_refuses_to_overwrite(tmp_path: Path) -> None:
    done = run(tmp_path, "config", "init")
    assert done.returncode == 0, done.stderr
    written = tmp_path / "relayarr.toml"
    assert "[server]" in written.read_text()
    assert "# port = 7878" in written.read_text()
    assert written.stat().st_mode & 0o777 == 0o600
    checked = run(tmp_path, "config", "check", "relayarr.toml")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith("config ok: relayarr.toml")
    written.write_text("# mine\n")
    again = run(tmp_path, "config", "init")
    assert again.returncode == 1
    assert again.stderr.strip() == "error: relayarr.toml exists; use --force to overwrite it"
    assert written.read_text() == "# mine\n"
    forced = run(tmp_path, "config", "init", "--force")
    assert forced.returncode == 0
    assert "[queue]" in written.read_text()


def test_init_to_a_chosen_path(tmp_path: Path) -> None:
    assert run(tmp_path, "config", "init", "etc.toml").returncode == 0
    assert (tmp_path / "etc.toml").is_file()


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[server]\nport = 99999\n", "relayarr.toml: server.port:"),
        ("[server]\nprot = 1\n", "relayarr.toml: server.prot:"),
        ('[queue]\nconcurrency = "many"\n', "relayarr.toml: queue.concurrency:"),
        ("[server\n", "not valid TOML"),
    ],
)
def test_check_names_the_bad_key(tmp_path: Path, text: str, named: str) -> None:
    (tmp_path / "relayarr.toml").write_text(text)
    result = run(tmp_path, "config", "check", "relayarr.toml")
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert named in lines[0]


def test_check_names_a_bad_environment_variable_without_echoing_the_key(tmp_path: Path) -> None:
    result = run(tmp_path, "config", "check", env={"RELAYARR_API_KEY": "tiny-secret"})
    assert result.returncode == 1
    assert "RELAYARR_API_KEY: server.api_key" in result.stderr
    assert "tiny-secret" not in result.stderr


def test_check_uses_relayarr_config(tmp_path: Path) -> None:
    (tmp_path / "c.toml").write_text("[server]\nport = 8080\n")
    result = run(tmp_path, "config", "check", env={"RELAYARR_CONFIG": "c.toml"})
    assert result.returncode == 0, result.stderr
    assert "c.toml" in result.stdout
