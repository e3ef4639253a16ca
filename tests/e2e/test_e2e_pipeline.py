"""The pipeline end to end through a running ``relayarr serve`` on SQLite: real HTTP over
loopback, a config file with ``[library]`` and ``[[mappings]]``, media folders on disk.
No players here (``notify-players`` records what it would tell); the real Kodi is in
``test_e2e_kodi.py``. Deadlines only stop a broken run from hanging.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_world import (
    ARR_MOVIES,
    FIXTURES,
    Server,
    Site,
    fixture,
    make_site,
    running,
    walk,
)

pytestmark = pytest.mark.slow

ARRIVAL = "Arrival (2016)"
ARRIVAL_2160 = "Arrival (2016) {imdb-tt2543164} [Bluray-2160p].mkv"
SEVERANCE = "Severance"
S02E03 = "Season 02/Severance - S02E03 - Who Is Alive [WEBDL-2160p].mkv"
S02E04 = "Season 02/Severance - S02E04 - Woe's Hollow [WEBDL-2160p].mkv"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return make_site(tmp_path_factory.mktemp("e2e"))


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    with running(site) as started:
        yield started


# -- every event type ----------------------------------------------------------------------


def arrival_on_disk(site: Site) -> None:
    site.file(site.movies / ARRIVAL / ARRIVAL_2160)


def arrival_gone(site: Site) -> None:
    shutil.rmtree(site.movies / ARRIVAL, ignore_errors=True)


def severance_on_disk(site: Site) -> None:
    site.file(site.tv / SEVERANCE / "tvshow.nfo", "<tvshow><title>Severance</title></tvshow>")
    site.file(site.tv / SEVERANCE / S02E03)
    site.file(site.tv / SEVERANCE / S02E04)


def episode_gone(site: Site) -> None:
    severance_on_disk(site)
    (site.tv / SEVERANCE / S02E03).unlink()


def severance_gone(site: Site) -> None:
    shutil.rmtree(site.tv / SEVERANCE, ignore_errors=True)


def nothing(site: Site) -> None:
    return None


SCAN_MOVIE = [(1, "scan-movie"), (2, "notify-players")]
SCAN_SERIES = [(1, "scan-series"), (2, "notify-players")]
REMOVE = [(1, "notify-players")]
# fixture -> (what the disk holds when it arrives, action, the chain below the webhook)
EVENTS: dict[str, tuple[Callable[[Site], None], str, list[tuple[int, str]]]] = {
    "radarr/download.json": (arrival_on_disk, "scan", SCAN_MOVIE),
    "radarr/rename.json": (arrival_on_disk, "scan", SCAN_MOVIE),
    "radarr/movie_file_delete.json": (nothing, "recorded", []),  # an upgrade: Download acts
    "radarr/movie_delete.json": (arrival_gone, "remove", REMOVE),
    "radarr/movie_added.json": (nothing, "recorded", []),
    "radarr/grab.json": (nothing, "recorded", []),
    "radarr/health.json": (nothing, "recorded", []),
    "radarr/health_restored.json": (nothing, "recorded", []),
    "radarr/application_update.json": (nothing, "recorded", []),
    "radarr/manual_interaction_required.json": (nothing, "recorded", []),
    "sonarr/download_episode_file.json": (severance_on_disk, "scan", SCAN_SERIES),
    "sonarr/download_import_complete.json": (severance_on_disk, "scan", SCAN_SERIES),
    "sonarr/rename.json": (severance_on_disk, "scan", SCAN_SERIES),
    "sonarr/episode_file_delete.json": (episode_gone, "remove", REMOVE),
    "sonarr/series_delete.json": (severance_gone, "remove", REMOVE),
    "sonarr/series_add.json": (nothing, "recorded", []),
    "sonarr/grab.json": (nothing, "recorded", []),
    "sonarr/health.json": (nothing, "recorded", []),
    "sonarr/health_restored.json": (nothing, "recorded", []),
    "sonarr/application_update.json": (nothing, "recorded", []),
    "sonarr/manual_interaction_required.json": (nothing, "recorded", []),
}


def test_the_table_covers_every_fixture() -> None:
    names = {f"{p.parent.name}/{p.name}" for p in FIXTURES.glob("*/*.json")}
    assert names - set(EVENTS) == {"radarr/test.json", "sonarr/test.json"}


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_every_event_type_is_answered_and_routed(server: Server, site: Site, name: str) -> None:
    prepare, action, below = EVENTS[name]
    prepare(site)
    body = fixture(name)
    job_id = server.webhook(name.split("/")[0], body)
    detail = server.finished(job_id)
    job = detail["job"]
    assert job["status"] == "completed", job["last_error"]
    assert job["result"]["event"] == body["eventType"]
    assert job["result"]["action"] == action
    chain = detail["chain"]
    assert [(depth, node["type"]) for depth, node in walk(chain)][1:] == below
    assert all(node["status"] == "completed" for _, node in walk(chain))


@pytest.mark.parametrize("source", ["radarr", "sonarr"])
def test_the_test_button_is_answered_and_nothing_is_stored(server: Server, source: str) -> None:
    before = server.client.get("/api/v1/stats").json()["totals"]
    response = server.client.post(f"/api/v1/webhooks/{source}", json=fixture(f"{source}/test.json"))
    assert response.json() == {"status": "ok", "test": True}
    assert server.client.get("/api/v1/stats").json()["totals"] == before


# -- one import, its whole chain -------------------------------------------------------------


def import_body(title: str, folder: str, video: str) -> dict[str, Any]:
    body = fixture("radarr/download.json")
    body["isUpgrade"] = False
    body["deletedFiles"] = []
    body["movie"].update(title=title, folderPath=f"{ARR_MOVIES}/{folder}")
    body["movieFile"].update(relativePath=video, path=f"{ARR_MOVIES}/{folder}/{video}")
    return body


def test_the_webhook_job_shows_the_whole_chain(server: Server, site: Site) -> None:
    folder = site.movies / "Heat (1995)"
    site.file(folder / "Heat.1995.mkv")
    site.file(folder / "movie.nfo", "<movie><title>Heat</title><year>1995</year></movie>")
    job_id = server.webhook("radarr", import_body("Heat", "Heat (1995)", "Heat.1995.mkv"))
    detail = server.finished(job_id)
    chain = detail["chain"]
    assert (chain["id"], chain["type"]) == (job_id, "webhook")
    (scan,) = chain["children"]
    assert (scan["type"], scan["status"]) == ("scan-movie", "completed")
    assert scan["result"]["folder"] == str(folder)
    assert scan["result"]["created"] is True
    (notify,) = scan["children"]
    told = notify["result"]["would_tell"]
    assert (told["action"], told["file"]) == ("added", str(folder / "Heat.1995.mkv"))
    assert detail["children"][0]["id"] == scan["id"]  # the direct children, as before
    # The library API shows the movie and the jobs that touched it.
    movies = server.client.get("/api/v1/library/movies", params={"search": "heat"}).json()
    (movie,) = movies["items"]
    shown = server.client.get(f"/api/v1/library/movies/{movie['id']}").json()
    assert {job["job_id"] for job in shown["jobs"]} == {job_id, scan["id"]}


# -- failures --------------------------------------------------------------------------------


def test_a_path_that_maps_nowhere_fails_with_its_message_in_the_api_and_cli(
    server: Server, site: Site
) -> None:
    body = import_body("Lost", "Lost (2001)", "lost.mkv")
    body["movie"]["folderPath"] = "/elsewhere/Lost (2001)"
    body["movieFile"]["path"] = "/elsewhere/Lost (2001)/lost.mkv"
    job_id = server.webhook("radarr", body)
    job = server.finished(job_id)["job"]
    assert (job["status"], job["attempts"]) == ("failed", 1)
    error = job["last_error"]
    assert "/elsewhere/Lost (2001)" in error
    assert f"radarr: {ARR_MOVIES} -> {site.movies}" in error  # the rule tried
    shown = site.cli("jobs", "show", str(job_id))
    assert shown.returncode == 0, shown.stderr
    assert "failed" in shown.stdout
    assert "/elsewhere/Lost (2001)" in " ".join(shown.stdout.split())
    as_json = json.loads(site.cli("jobs", "show", str(job_id), "--json").stdout)
    assert as_json["last_error"] == error


# -- manual scans: the API and the CLI -----------------------------------------------------


def test_the_scan_api_queues_a_scan_and_refuses_bad_paths(server: Server, site: Site) -> None:
    folder = site.movies / "Ronin (1998)"
    site.file(folder / "Ronin.mkv")
    answer = server.client.post("/api/v1/scan", json={"path": str(folder / "Ronin.mkv")})
    assert answer.status_code == 202, answer.text
    queued = answer.json()
    assert (queued["type"], queued["folder"], queued["root"]) == (
        "scan-movie",
        str(folder),
        str(site.movies),
    )
    assert queued["root_unavailable"] is None
    chain = server.finished(queued["job_id"])["chain"]
    assert [(node["type"], node["status"]) for _, node in walk(chain)] == [
        ("scan-movie", "completed"),
        ("notify-players", "completed"),
    ]
    refused = {
        "/etc": (422, "outside every library root"),
        str(site.movies / "Nope (2020)"): (404, "does not exist"),
        str(site.movies): (404, "is the library root itself"),
        "relative/path": (422, "is not an absolute path"),
    }
    for path, (status, message) in refused.items():
        response = server.client.post("/api/v1/scan", json={"path": path})
        assert response.status_code == status, (path, response.text)
        assert message in response.json()["error"]["message"]


def test_the_scan_cli_follows_the_chain_of_the_running_server(server: Server, site: Site) -> None:
    folder = site.tv / "Dark"
    site.file(folder / "Season 01" / "Dark - S01E01.mkv")
    result = site.cli("scan", str(folder), "--wait")
    assert result.returncode == 0, result
    lines = result.stdout.splitlines()
    assert lines[0].startswith("queued scan-series #")
    assert lines[1].startswith("scan-series #")
    assert "completed: Dark: new" in lines[1]
    assert "notify-players #" in lines[2]
    assert f"would tell: added {folder}" in lines[2]
    bad = site.cli("scan", "/etc")
    assert (bad.returncode, bad.stderr.strip()) == (
        1,
        f"error: /etc is outside every library root; roots: {site.movies}, {site.tv}",
    )


def test_the_mappings_tester_explains_a_path(server: Server, site: Site) -> None:
    answer = server.client.post(
        "/api/v1/mappings/try", json={"source": "radarr", "path": f"{ARR_MOVIES}/Heat (1995)"}
    )
    assert answer.status_code == 200, answer.text
    explained = answer.json()
    assert explained["usable"] is True
    assert explained["root"] == str(site.movies)
    assert explained["item_folder"] == str(site.movies / "Heat (1995)")


# -- bursts ----------------------------------------------------------------------------------


def test_a_season_pack_burst_makes_one_scan_and_one_notify(tmp_path: Path) -> None:
    # A settle delay long enough for the 50 webhooks to arrive before the scan is due.
    site = make_site(tmp_path, settle_seconds=3.0)
    names = [f"Season 01/Pack - S01E{n:02d}.mkv" for n in range(1, 51)]
    for name in names:
        site.file(site.tv / "Pack" / name)
    with running(site) as server:
        webhooks = []
        for n, name in enumerate(names, start=1):
            body = fixture("sonarr/download_episode_file.json")
            body["series"].update(title="Pack", path="/data/media/tv/Pack")
            body["episodes"][0].update(seasonNumber=1, episodeNumber=n)
            body["episodeFile"].update(relativePath=name, path=f"/data/media/tv/Pack/{name}")
            webhooks.append(server.webhook("sonarr", body))
        server.idle()
        scans = server.jobs("scan-series")
        notifies = server.jobs("notify-players")
        assert len(scans) == 1
        assert len(notifies) == 1
        assert notifies[0]["parent_id"] == scans[0]["id"]
        routed = {server.detail(job_id)["job"]["result"]["scan_job"] for job_id in webhooks}
        assert routed == {scans[0]["id"]}
        # The first webhook's chain holds the one scan and the one notify.
        chain = server.detail(webhooks[0])["chain"]
        assert [node["type"] for _, node in walk(chain)] == [
            "webhook",
            "scan-series",
            "notify-players",
        ]
        added = chain["children"][0]["result"]["added"]
        assert len([path for path in added if path.endswith(".mkv")]) == 50


# -- reconciliation ----------------------------------------------------------------------------


def test_a_folder_added_while_relayarr_was_down_is_found_at_start(tmp_path: Path) -> None:
    site = make_site(tmp_path, reconcile_every="1h")
    first = site.movies / "First (2001)"
    site.file(first / "first.mkv")
    with running(site) as server:
        job_id = server.webhook("radarr", import_body("First", "First (2001)", "first.mkv"))
        assert server.finished(job_id)["job"]["status"] == "completed"
        server.idle()
    # While relayarr is down, Radarr imports a movie: its webhook is lost.
    lost = site.movies / "Lost While Down (2002)"
    site.file(lost / "lost.mkv")
    with running(site) as server:
        server.idle()  # the start-up catch-up runs at once (settle_seconds is 0)
        (movie,) = [
            item
            for item in server.client.get("/api/v1/library/movies").json()["items"]
            if item["folder"] == str(lost)
        ]
        assert movie["title"] == "Lost While Down"
        catch_up = [
            job
            for job in server.jobs("reconcile", status="completed")
            if job["result"]["roots"][0].get("new") == ["Lost While Down (2002)"]
        ]
        assert len(catch_up) == 1
        chain = server.detail(catch_up[0]["id"])["chain"]
        below = [(node["type"], node["result"]) for _, node in walk(chain)][1:]
        assert [kind for kind, _ in below] == ["scan-movie", "notify-players"]
        assert below[0][1]["reason"] == "reconcile"
        assert below[1][1]["would_tell"]["action"] == "added"
        assert below[1][1]["would_tell"]["folder"] == str(lost)
        # The periodic reconciliation waits for its hour, once.
        periodic = server.jobs("reconcile", status="pending")
        assert [job["payload"] for job in periodic] == [{"periodic": True}]
