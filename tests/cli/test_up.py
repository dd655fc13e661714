"""`vigil up` on a fresh data directory: migrates, seeds, serves, and stops every child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from vigil.embedded.process import free_port


def processes_mentioning(marker: str) -> list[int]:
    """Live processes whose environment mentions `marker` (children inherit the data dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
                    if state not in ("Z", "X"):
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def _wait_ready(url: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "vigil up exited early"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not ready within {timeout} s")


def test_vigil_up_serves_the_api_on_a_fresh_data_dir(tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "VIGIL_DATA_DIR": str(tmp_path / "var"),
        "VIGIL_API_PORT": str(port),
        "VIGIL_DEMO_EMAIL": "owner@example.com",
        "VIGIL_DEMO_PASSWORD": "a long demo password",
    }
    env.pop("VIGIL_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil", "up"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_ready(f"http://127.0.0.1:{port}/readyz", proc, timeout=120)
        login = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/auth/login",
            json={"email": "owner@example.com", "password": "a long demo password"},
        )
        assert login.status_code == 200
        token = login.json()["access_token"]
        cameras = httpx.get(
            f"http://127.0.0.1:{port}/api/v1/cameras",
            headers={"Authorization": f"Bearer {token}"},
        ).json()
        assert [c["name"] for c in cameras["items"]] == ["Demo plaza"]
        assert (tmp_path / "var" / "vigil.db").exists()
        assert len(processes_mentioning(str(tmp_path / "var"))) >= 2  # up + the API child
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=90)[0].decode()
    assert proc.returncode == 0, output
    assert '"platform_stopped"' in output
    assert processes_mentioning(str(tmp_path / "var")) == []  # no child left behind
