"""`vigil replay`, `vigil retention` and `vigil dagster webserver|daemon` as real processes:
reports, refusals of bad input, health URLs, and a clean stop that leaves no child behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.fixtures.processes import live_processes_mentioning
from tests.pipelines import lakedata
from tests.pipelines.world import box, make_camera, make_zone
from vigil.db import migrate
from vigil.embedded.process import free_port

ROOT = Path(__file__).resolve().parents[2]
HOUR = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def vigil(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "vigil", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    data = tmp_path / "data"
    url = f"sqlite:///{data / 'vigil.db'}"
    migrate.upgrade(url)
    return {
        **os.environ,
        "VIGIL_DATA_DIR": str(data),
        "VIGIL_DATABASE_URL": url,
        "VIGIL_OBJECT_STORE": "local",
        "VIGIL_LOG_LEVEL": "WARNING",
    }


def test_replay_reports_and_is_idempotent(env: dict[str, str]) -> None:
    url, data = env["VIGIL_DATABASE_URL"], Path(env["VIGIL_DATA_DIR"])
    camera = make_camera(url)
    make_zone(url, camera, "Left", box(0.1, 0.3, 0.3, 0.7))
    walks = [lakedata.Walk(1, HOUR + timedelta(minutes=5), 20, (0.0, 0.5), (0.5, 0.5))]
    lakedata.write(data / "lake", lakedata.rows(camera, HOUR, 1800, 5, walks))
    args = ["replay", "--camera", str(camera), "--since", "2026-11-20T12:00", "--until"]
    first = vigil(env, *args, "2026-11-20T14:00Z", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert (report["hours"], report["inserted"], report["deleted"]) == (2, 1, 0)
    again = json.loads(vigil(env, *args, "2026-11-20T14:00Z", "--json").stdout)
    assert (again["inserted"], again["unchanged"]) == (0, 1)
    table = vigil(env, *args, "2026-11-20T14:00Z")
    assert "unchanged" in table.stdout and table.returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--camera", "999", "--since", "2026-11-20T12:00"], "no camera with id 999"),
        (["--camera", "1", "--since", "yesterday"], "neither an ISO time"),
        (["--camera", "1", "--since", "2h", "--until", "3h"], "--since must be before --until"),
        (["--camera", "0", "--since", "2h"], "camera"),
    ],
)
def test_replay_refuses_bad_input(env: dict[str, str], args: list[str], message: str) -> None:
    make_camera(env["VIGIL_DATABASE_URL"])
    result = vigil(env, "replay", *args)
    assert result.returncode == 2
    assert message in result.stdout + result.stderr


def test_retention_dry_run_then_sweep(env: dict[str, str]) -> None:
    url, data = env["VIGIL_DATABASE_URL"], Path(env["VIGIL_DATA_DIR"])
    camera = make_camera(url, record_retention_days=1)
    old = data / "media" / "record" / str(camera) / "20200101" / "20200101T000000Z.mp4"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"x" * 2048)
    dry = vigil(env, "retention", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert json.loads(dry.stdout)["deleted"] == {"recording": 1} and old.exists()
    done = vigil(env, "retention")
    assert done.returncode == 0 and "freed 2.0 KB" in done.stdout and not old.exists()


def _wait_healthy(url: str, proc: subprocess.Popen, timeout: float) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else "exited"
        try:
            response = httpx.get(url, timeout=2)
            if response.status_code == 200:
                return response
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not healthy within {timeout} s")


def test_dagster_webserver_and_daemon_stop_with_every_child(env: dict[str, str]) -> None:
    data = env["VIGIL_DATA_DIR"]
    web_port, health_port = free_port(), free_port()
    env = env | {
        "VIGIL_DAGSTER_PORT": str(web_port),
        "VIGIL_DAGSTER_DAEMON_HEALTH_PORT": str(health_port),
    }
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "vigil", "dagster", name],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        for name in ("webserver", "daemon")
    }
    try:
        info = _wait_healthy(f"http://127.0.0.1:{web_port}/server_info", procs["webserver"], 120)
        assert "dagster_webserver_version" in info.json()
        health = _wait_healthy(f"http://127.0.0.1:{health_port}/healthz", procs["daemon"], 120)
        assert health.json()["status"] == "ok"
        assert (Path(data) / "dagster" / "dagster.yaml").is_file()
        assert (
            len(live_processes_mentioning(data)) >= 4
        )  # two vigil supervisors, their Dagster children
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        codes = {name: proc.wait(timeout=60) for name, proc in procs.items()}
    assert codes == {"webserver": 0, "daemon": 0}
    deadline = time.monotonic() + 10
    while live_processes_mentioning(data) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert live_processes_mentioning(data) == []


def _code_servers(data: str) -> list[str]:
    """Command lines of the live `dagster api grpc` processes of this data dir."""
    found = []
    for pid in live_processes_mentioning(data):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if " api grpc " in cmdline:
            found.append(cmdline)
    return found


def test_one_code_server_serves_the_webserver_and_the_daemon(env: dict[str, str]) -> None:
    data = env["VIGIL_DATA_DIR"]
    web_port, health_port, code_port = free_port(), free_port(), free_port()
    env = env | {
        "VIGIL_DAGSTER_PORT": str(web_port),
        "VIGIL_DAGSTER_DAEMON_HEALTH_PORT": str(health_port),
        "VIGIL_DAGSTER_CODE_PORT": str(code_port),
        "VIGIL_DAGSTER_CODE_SERVER": f"127.0.0.1:{code_port}",
    }

    def start(name: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "vigil", "dagster", name],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    procs = {name: start(name) for name in ("code-server", "webserver")}
    try:
        _wait_healthy(f"http://127.0.0.1:{web_port}/server_info", procs["webserver"], 180)
        # Like `vigil up`: the daemon starts once the webserver has created the instance's
        # storage; two processes creating the same SQLite schema at once can collide.
        procs["daemon"] = start("daemon")
        health = _wait_healthy(f"http://127.0.0.1:{health_port}/healthz", procs["daemon"], 180)
        assert health.json()["status"] == "ok"
        query = "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus } } } }"
        answer = httpx.post(f"http://127.0.0.1:{web_port}/graphql", json={"query": query})
        entries = answer.json()["data"]["workspaceOrError"]["locationEntries"]
        assert entries == [{"name": "vigil", "loadStatus": "LOADED"}]
        # Served by the one code server: the webserver and the daemon started none.
        servers = _code_servers(data)
        assert len(servers) == 1 and f"-p {code_port}" in servers[0]
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        codes = {name: proc.wait(timeout=60) for name, proc in procs.items()}
    assert codes == {"code-server": 0, "webserver": 0, "daemon": 0}
