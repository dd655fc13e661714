"""`vigil up` on a fresh data directory: migrates, seeds, starts the embedded object store,
broker and demo camera and every service, shows the demo camera live, and on SIGTERM stops
every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from vigil.embedded.process import free_port, free_port_block
from vigil.embedded.seaweedfs import SeaweedPorts


def processes_mentioning(marker: str) -> list[int]:
    """Live processes whose environment or command line mentions `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                text = (entry / "environ").read_bytes() + (entry / "cmdline").read_bytes()
                if marker.encode() in text:
                    state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
                    if state not in ("Z", "X"):
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def _wait(predicate: Callable[[], bool], proc: subprocess.Popen, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "vigil up exited early"
        try:
            if predicate():
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{what} not within {timeout} s")


def test_vigil_up_shows_the_demo_camera_live(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    api = free_port()
    env = {
        **os.environ,
        "VIGIL_DATA_DIR": str(data_dir),
        "VIGIL_API_PORT": str(api),
        "VIGIL_SEAWEEDFS_S3_PORT": str(free_port_block(SeaweedPorts.OFFSETS)),
        "VIGIL_KAFKA_EMBEDDED_PORT": str(free_port()),
        "VIGIL_DEMO_RTSP_PORT": str(free_port()),
        "VIGIL_INGEST_HEALTH_PORT": str(free_port()),
        "VIGIL_DEMO_EMAIL": "owner@example.com",
        "VIGIL_DEMO_PASSWORD": "a long demo password",
    }
    for name in ("VIGIL_DATABASE_URL", "VIGIL_KAFKA_BOOTSTRAP", "VIGIL_OBJECT_STORE"):
        env.pop(name, None)
    base = f"http://127.0.0.1:{api}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil", "up"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait(lambda: httpx.get(f"{base}/readyz").status_code == 200, proc, 120, "API ready")
        login = httpx.post(
            f"{base}/api/v1/auth/login",
            json={"email": "owner@example.com", "password": "a long demo password"},
        )
        assert login.status_code == 200
        token = login.json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        cameras = httpx.get(f"{base}/api/v1/cameras", headers=auth).json()["items"]
        assert [c["name"] for c in cameras] == ["Demo plaza"]
        live = f"{base}{cameras[0]['live_url']}?access_token={token}"
        # The demo camera is live within a minute: a playlist with segments, reachable by token.
        _wait(lambda: "#EXTINF" in httpx.get(live).text, proc, 60, "live playlist")
        camera_url = f"{base}/api/v1/cameras/{cameras[0]['id']}"
        _wait(
            lambda: httpx.get(camera_url, headers=auth).json()["status"] == "online",
            proc,
            30,
            "camera online",
        )
        lines = httpx.get(live).text.splitlines()
        segment = next(line for line in lines if line.startswith("seg_"))
        media = httpx.get(f"{base}/api/v1/cameras/{cameras[0]['id']}/live/{segment}")
        assert media.status_code == 200
        assert media.headers["content-type"] == "video/mp2t"
        assert len(processes_mentioning(str(data_dir))) >= 6  # up, weed, tansu, camera, api, ingest
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=120)[0].decode()
    assert proc.returncode == 0, output[-3000:]
    assert '"platform_stopped"' in output
    assert processes_mentioning(str(data_dir)) == []  # no child left behind
