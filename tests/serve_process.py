"""``relayarr serve`` as a real process on a free loopback port, for tests and benchmarks.

>>> with ServeProcess(tmp_path, api_key=KEY) as server:   # doctest: +SKIP
...     httpx.get(server.url("/api/v1/health"))
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

START_DEADLINE = 30.0  # seconds; only against hanging


def relayarr_command() -> list[str]:
    """The installed console script next to this interpreter, else ``python -m relayarr``."""
    script = Path(sys.executable).with_name("relayarr")
    return [str(script)] if script.exists() else [sys.executable, "-m", "relayarr"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServeProcess:
    """Starts ``relayarr serve`` in ``workdir`` (data under ``workdir/data``) and waits until
    /api/v1/health answers. ``stop()`` sends SIGTERM and waits for the exit status."""

    def __init__(
        self,
        workdir: Path,
        *,
        api_key: str | None = None,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
        port: int | None = None,
    ) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.args = args
        self.env = {k: v for k, v in os.environ.items() if not k.upper().startswith("RELAYARR_")}
        self.env["RELAYARR_DATA_DIR"] = str(workdir / "data")
        if api_key is not None:
            self.env["RELAYARR_API_KEY"] = api_key
        self.env.update(env or {})
        self.stdout_path = workdir / f"serve-{self.port}.out"
        self.stderr_path = workdir / f"serve-{self.port}.err"
        self.process: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    @property
    def stdout(self) -> str:
        return self.stdout_path.read_text(errors="replace")

    @property
    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")

    def start(self) -> ServeProcess:
        self.workdir.mkdir(parents=True, exist_ok=True)
        argv = [*relayarr_command(), "serve", "--port", str(self.port), *self.args]
        with self.stdout_path.open("wb") as out, self.stderr_path.open("wb") as err:
            self.process = subprocess.Popen(
                argv, cwd=self.workdir, env=self.env, stdout=out, stderr=err
            )
        deadline = time.monotonic() + START_DEADLINE
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"relayarr serve exited at start:\n{self.stderr}")
            try:
                if httpx.get(self.url("/api/v1/health"), timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"relayarr serve did not become healthy:\n{self.stderr}")

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float = START_DEADLINE) -> int:
        assert self.process is not None
        self.returncode = self.process.wait(timeout=timeout)
        return self.returncode

    def stop(self, timeout: float = START_DEADLINE) -> int:
        """SIGTERM, then the exit status (the process is killed if it hangs)."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.signal(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ServeProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
