"""A real Kodi (Debian's ``kodi`` package) running headless for the integration tests.

Started once per test session on first use (:func:`kodi_server`), stopped when the
process exits. The recipe is ``shared/reference/kodi-headless.md``: Xvfb for a display (Kodi
cannot start without one), a fresh HOME with a ``guisettings.xml`` that turns the web
server on at a free port with Basic auth, an ALSA null sink (``.asoundrc``) so the audio
engine neither waits for a device nor spins, a ``sources.xml`` with a movies and a tvshows
source, and, once JSON-RPC answers, the rows of Kodi's ``path`` table that give both
sources their content and the ``metadata.local`` scraper (JSON-RPC has no method for it).

kodi.bin 20.1 runs as root here, so it runs as whoever runs the tests.
``scripts/ensure-kodi.sh`` (run by ``make test``) installs kodi, xvfb, xauth, sqlite3 and
ffmpeg. A Kodi that cannot be started fails the tests that need it, never skips them.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from xml.sax.saxutils import escape

import httpx
import pytest

KODI_BIN_CANDIDATES = (
    Path("/usr/lib/x86_64-linux-gnu/kodi/kodi.bin"),
    Path("/usr/lib/aarch64-linux-gnu/kodi/kodi.bin"),
)
KODI_USER = "kodi"
KODI_PASSWORD = "kodi-test-secret"
START_TIMEOUT = 90.0  # seconds; only against hanging (it answers in about 1 s)
STOP_TIMEOUT = 15.0

GUISETTINGS = """<settings version="2">
    <setting id="services.webserver">true</setting>
    <setting id="services.webserverport">{port}</setting>
    <setting id="services.webserverauthentication">true</setting>
    <setting id="services.webserverusername">{user}</setting>
    <setting id="services.webserverpassword">{password}</setting>
    <setting id="services.webserverssl">false</setting>
    <setting id="services.esenabled">false</setting>
    <setting id="services.esallinterfaces">false</setting>
    <setting id="services.zeroconf">false</setting>
    <setting id="services.wsdiscovery">false</setting>
    <setting id="services.upnp">false</setting>
    <setting id="services.airplay">false</setting>
    <setting id="audiooutput.guisoundmode">0</setting>
    <setting id="audiooutput.streamsilence">0</setting>
    <setting id="general.addonupdates">2</setting>
    <setting id="general.addonnotifications">false</setting>
</settings>
"""

SOURCES = """<sources>
    <programs><default pathversion="1"></default></programs>
    <video>
        <default pathversion="1"></default>
        <source>
            <name>Movies</name>
            <path pathversion="1">{movies}</path>
            <allowsharing>true</allowsharing>
        </source>
        <source>
            <name>TV Shows</name>
            <path pathversion="1">{tvshows}</path>
            <allowsharing>true</allowsharing>
        </source>
    </video>
    <music><default pathversion="1"></default></music>
    <pictures><default pathversion="1"></default></pictures>
    <files><default pathversion="1"></default></files>
    <games><default pathversion="1"></default></games>
</sources>
"""

# Kodi keeps a source's content and scraper in its video database. scanRecursive and
# useFolderNames are what the GUI stores for "movies in separate folders" (needed for
# movie.nfo); a tvshows source scans each subfolder as one show.
PATH_ROW_UPDATE = """UPDATE path SET strContent = ?, strScraper = 'metadata.local',
    scanRecursive = ?, useFolderNames = ?, strSettings = '', noUpdate = 0, exclude = 0
    WHERE strPath = ?"""
PATH_ROW_INSERT = """INSERT INTO path (strPath, strContent, strScraper, strHash, scanRecursive,
    useFolderNames, strSettings, noUpdate, exclude, allAudio, dateAdded, idParentPath)
    SELECT ?, ?, 'metadata.local', '', ?, ?, '', 0, 0, 0, datetime('now'), NULL
    WHERE NOT EXISTS (SELECT 1 FROM path WHERE strPath = ?)"""


class KodiError(RuntimeError):
    """The test Kodi could not be found or started."""


def kodi_binary() -> Path:
    for candidate in KODI_BIN_CANDIDATES:
        if candidate.exists():
            return candidate
    raise KodiError("kodi.bin is not installed (run scripts/ensure-kodi.sh)")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _alive(pid: int, name: str) -> bool:
    """True while ``pid`` is a live process named ``name``: a zombie has an empty cmdline,
    and a recycled pid has another name (so it is never signalled by mistake)."""
    try:
        argv0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0]
    except OSError:
        return False
    return os.path.basename(argv0.decode(errors="replace")) == name


class KodiServer:
    """One headless Kodi with its web server on a loopback port and two video sources."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="relayarr-kodi-"))
        self.home = self.root / "home"
        self.userdata = self.home / ".kodi" / "userdata"
        self.movies = self.root / "media" / "movies"
        self.tvshows = self.root / "media" / "tv shows"
        self.port = 0
        self.username = KODI_USER
        self.password = KODI_PASSWORD
        self._xvfb: subprocess.Popen[bytes] | None = None
        self._kodi: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.home / ".kodi" / "temp" / "kodi.log"

    @property
    def movies_source(self) -> str:
        return f"{self.movies}/"

    @property
    def tvshows_source(self) -> str:
        return f"{self.tvshows}/"

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        binary = kodi_binary()
        if shutil.which("Xvfb") is None:
            raise KodiError("Xvfb is not installed (run scripts/ensure-kodi.sh)")
        try:
            self.movies.mkdir(parents=True)
            self.tvshows.mkdir(parents=True)
            self.userdata.mkdir(parents=True)
            for _ in range(5):
                # Kodi binds 0.0.0.0 and says nothing when 127.0.0.1:PORT is someone
                # else's, so the port is checked first and only "pong" proves it is Kodi.
                self.port = _free_port()
                if not _port_taken(self.port):
                    break
            self._write_config()
            display = self._start_xvfb()
            started = time.monotonic()
            with (self.root / "kodi.out").open("wb") as out:
                self._kodi = subprocess.Popen(
                    [str(binary), "--standalone"],
                    env={
                        "HOME": str(self.home),
                        "DISPLAY": f":{display}",
                        "KODI_AE_SINK": "ALSA",
                        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                        "LANG": "C.UTF-8",
                    },
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    cwd=self.root,
                )
            self._wait_ready()
            self.startup_seconds = time.monotonic() - started
            self._set_scrapers()
        except BaseException:
            self.stop()
            raise

    def _write_config(self) -> None:
        (self.userdata / "guisettings.xml").write_text(
            GUISETTINGS.format(
                port=self.port, user=escape(self.username), password=escape(self.password)
            )
        )
        (self.userdata / "sources.xml").write_text(
            SOURCES.format(movies=escape(self.movies_source), tvshows=escape(self.tvshows_source))
        )
        (self.home / ".asoundrc").write_text("pcm.!default { type null }\n")

    def _start_xvfb(self) -> int:
        read_end, write_end = os.pipe()
        try:
            with (self.root / "xvfb.log").open("wb") as errors:
                self._xvfb = subprocess.Popen(
                    [
                        "Xvfb",
                        "-displayfd",
                        str(write_end),
                        "-screen",
                        "0",
                        "1280x720x24",
                        "-nolisten",
                        "tcp",
                        "-noreset",
                    ],
                    pass_fds=(write_end,),
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=errors,
                )
            os.close(write_end)
            write_end = -1
            # Xvfb writes the display number once it accepts clients.
            with os.fdopen(read_end, "rb") as pipe:
                read_end = -1
                line = pipe.readline().strip()
        finally:
            for fd in (read_end, write_end):
                if fd >= 0:
                    os.close(fd)
        if not line.isdigit():
            raise KodiError(f"Xvfb did not start: {self._tail(self.root / 'xvfb.log')}")
        return int(line)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            assert self._kodi is not None
            if self._kodi.poll() is not None:
                raise KodiError(
                    f"kodi.bin exited with {self._kodi.returncode}: {self._tail(self.log_file)}"
                )
            with contextlib.suppress(httpx.HTTPError, ValueError, KodiError):
                if self.rpc("JSONRPC.Ping", timeout=2.0) == "pong":
                    return
            time.sleep(0.1)
        raise KodiError(f"Kodi did not answer JSONRPC.Ping: {self._tail(self.log_file)}")

    def _set_scrapers(self) -> None:
        database = self.userdata / "Database" / "MyVideos121.db"
        deadline = time.monotonic() + 30
        while not database.exists():
            if time.monotonic() > deadline:
                raise KodiError(f"Kodi made no video database at {database}")
            time.sleep(0.1)
        rows = [
            (self.movies_source, "movies", 2147483647, 1),
            (self.tvshows_source, "tvshows", 0, 0),
        ]
        with contextlib.closing(sqlite3.connect(database, timeout=10)) as db, db:
            for path, content, recursive, folder_names in rows:
                db.execute(PATH_ROW_UPDATE, (content, recursive, folder_names, path))
                db.execute(PATH_ROW_INSERT, (path, content, recursive, folder_names, path))

    def stop(self) -> None:
        """Stop Kodi, then Xvfb (SIGTERM, then SIGKILL), and remove the directory."""
        for process, name in ((self._kodi, "kodi.bin"), (self._xvfb, "Xvfb")):
            if process is not None:
                _terminate(process, name)
        self._kodi = self._xvfb = None
        shutil.rmtree(self.root, ignore_errors=True)

    @staticmethod
    def _tail(path: Path, lines: int = 25) -> str:
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return f"(no {path.name})"

    # -- talking to it -----------------------------------------------------------------------

    def rpc(
        self, method: str, params: dict[str, object] | None = None, *, timeout: float = 30.0
    ) -> object:
        """Call a JSON-RPC method with the right credentials; its ``result``."""
        body: dict[str, object] = {"jsonrpc": "2.0", "method": method, "id": 1}
        if params is not None:
            body["params"] = params
        response = httpx.post(
            f"{self.url}/jsonrpc",
            json=body,
            auth=(self.username, self.password),
            timeout=timeout,
        )
        response.raise_for_status()
        answer = response.json()
        if "error" in answer:
            raise KodiError(f"{method}: {answer['error']}")
        return answer["result"]

    def wait_for(self, condition: Callable[[], bool], *, what: str, timeout: float = 30.0) -> None:
        """Poll ``condition`` until true; KodiError naming ``what`` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise KodiError(f"Kodi: no {what} within {timeout:g} s")
            time.sleep(0.05)

    def play_video(self) -> None:
        """Start playing a real (tiny, ten-minute) video; returns once Kodi plays it.

        The video is made with ffmpeg once per server and copied into a new folder each
        time: Kodi caches directory listings, and refuses ("Invalid params") a file that
        appeared in a folder it has listed before.
        """
        source = self.root / "video" / "tiny.mkv"
        if not source.exists():
            source.parent.mkdir(exist_ok=True)
            subprocess.run(
                [
                    "ffmpeg", "-v", "error", "-y", "-f", "lavfi",
                    "-i", "testsrc=size=160x90:rate=5", "-t", "600",
                    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
                    str(source),
                ],
                check=True,
                timeout=120,
                capture_output=True,
            )  # fmt: skip
        folder = Path(tempfile.mkdtemp(prefix="play-", dir=self.root))
        shutil.copy(source, folder / "tiny.mkv")
        self.rpc("Player.Open", {"item": {"file": str(folder / "tiny.mkv")}})
        self.wait_for(lambda: bool(self.rpc("Player.GetActivePlayers")), what="playback")

    def stop_video(self) -> None:
        """Stop every player; returns once none is active."""
        players = self.rpc("Player.GetActivePlayers")
        assert isinstance(players, list)
        for player in players:
            self.rpc("Player.Stop", {"playerid": player["playerid"]})
        self.wait_for(lambda: not self.rpc("Player.GetActivePlayers"), what="playback to stop")

    def movies_in_library(self) -> list[dict[str, object]]:
        result = self.rpc("VideoLibrary.GetMovies", {"properties": ["title", "year", "file"]})
        assert isinstance(result, dict)
        movies = result.get("movies", [])
        assert isinstance(movies, list)
        return movies

    def episodes_in_library(self) -> list[dict[str, object]]:
        result = self.rpc(
            "VideoLibrary.GetEpisodes",
            {"properties": ["title", "season", "episode", "file", "showtitle"]},
        )
        assert isinstance(result, dict)
        episodes = result.get("episodes", [])
        assert isinstance(episodes, list)
        return episodes


def _terminate(process: subprocess.Popen[bytes], name: str) -> None:
    if process.poll() is None and _alive(process.pid, name):
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        if _alive(process.pid, name):
            process.kill()
        process.wait(timeout=STOP_TIMEOUT)


_kodi: KodiServer | None = None
_kodi_error: str | None = None
_kodi_lock = threading.Lock()


def kodi_server() -> KodiServer:
    """The session's Kodi, started on first use and stopped when the process exits.

    Fails the calling test (``pytest.fail``, never a skip) when it cannot be started.
    """
    global _kodi, _kodi_error
    with _kodi_lock:
        if _kodi_error is not None:
            pytest.fail(_kodi_error, pytrace=False)
        if _kodi is None:
            server = KodiServer()
            try:
                server.start()
            except (KodiError, OSError, sqlite3.Error) as exc:
                _kodi_error = f"cannot start the test Kodi: {exc}"
                pytest.fail(_kodi_error, pytrace=False)
            atexit.register(server.stop)
            _kodi = server
        return _kodi


__all__ = ["KodiError", "KodiServer", "kodi_server"]
