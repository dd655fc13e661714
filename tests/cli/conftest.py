"""One `vigil up` for every test of this package that asks for it (test_up.py, the smoke
checklist): starting it from a fresh data directory costs minutes, so it starts once, on free
loopback ports with a loopback SMTP server, and is stopped (and checked to leave nothing
running) after the package's last test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.alerts.servers import Mailbox, smtp_server
from tests.fixtures.processes import live_processes_mentioning
from vigil.embedded.process import free_port, free_port_block
from vigil.embedded.seaweedfs import SeaweedPorts

DEMO_EMAIL = "owner@example.com"
DEMO_PASSWORD = "a long demo password"


class Platform:
    def __init__(self, proc: subprocess.Popen[bytes], env: dict[str, str]) -> None:
        self.proc = proc
        self.env = env
        self.base = f"http://127.0.0.1:{env['VIGIL_API_PORT']}"
        self.dashboard = f"http://127.0.0.1:{env['VIGIL_DASHBOARD_PORT']}"
        self.dagster = f"http://127.0.0.1:{env['VIGIL_DAGSTER_PORT']}"
        self.data_dir = Path(env["VIGIL_DATA_DIR"])
        self.headers: dict[str, str] = {}

    def wait(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "vigil up exited early"
            try:
                if result := predicate():
                    return result
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise AssertionError(f"{what}: not within {timeout} s")

    def health_urls(self) -> list[str]:
        env = self.env
        return [
            f"{self.base}/readyz",
            f"http://127.0.0.1:{env['VIGIL_INGEST_HEALTH_PORT']}/healthz",
            f"http://127.0.0.1:{env['VIGIL_DATAFLOW_HEALTH_PORT']}/healthz",
            f"http://127.0.0.1:{env['VIGIL_ALERTS_HEALTH_PORT']}/healthz",
            f"{self.dagster}/server_info",
            f"http://127.0.0.1:{env['VIGIL_DAGSTER_DAEMON_HEALTH_PORT']}/healthz",
            f"{self.dashboard}/_stcore/health",
        ]

    def get(
        self, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return httpx.get(
            f"{self.base}{path}", headers={**self.headers, **(headers or {})}, timeout=10, **kwargs
        )

    def answers(self, url: str) -> bool:
        return httpx.get(url, timeout=5).status_code == 200

    def camera_id(self, name: str) -> int:
        cameras = self.get("/api/v1/cameras").json()["items"]
        return int(next(c["id"] for c in cameras if c["name"] == name))


@pytest.fixture(scope="package")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="package")
def platform(
    tmp_path_factory: pytest.TempPathFactory, mailbox: tuple[Mailbox, int]
) -> Iterator[Platform]:
    tmp = tmp_path_factory.mktemp("up")
    env = {
        **os.environ,
        "VIGIL_DATA_DIR": str(tmp / "var"),
        "VIGIL_API_PORT": str(free_port()),
        "VIGIL_SEAWEEDFS_S3_PORT": str(free_port_block(SeaweedPorts.OFFSETS)),
        "VIGIL_KAFKA_EMBEDDED_PORT": str(free_port()),
        "VIGIL_DEMO_RTSP_PORT": str(free_port()),
        "VIGIL_DEMO_DESK_RTSP_PORT": str(free_port()),
        "VIGIL_INGEST_HEALTH_PORT": str(free_port()),
        "VIGIL_DATAFLOW_HEALTH_PORT": str(free_port()),
        "VIGIL_DAGSTER_PORT": str(free_port()),
        "VIGIL_DAGSTER_CODE_PORT": str(free_port()),
        "VIGIL_DAGSTER_DAEMON_HEALTH_PORT": str(free_port()),
        "VIGIL_DASHBOARD_PORT": str(free_port()),
        "VIGIL_DEMO_EMAIL": DEMO_EMAIL,
        "VIGIL_DEMO_PASSWORD": DEMO_PASSWORD,
        "VIGIL_LAKE_ROLL_SECONDS": "5",
        "VIGIL_ALERTS_HEALTH_PORT": str(free_port()),
        "VIGIL_SMTP_HOST": "127.0.0.1",
        "VIGIL_SMTP_PORT": str(mailbox[1]),
        "VIGIL_SMTP_STARTTLS": "false",
    }
    for name in ("VIGIL_DATABASE_URL", "VIGIL_KAFKA_BOOTSTRAP", "VIGIL_OBJECT_STORE"):
        env.pop(name, None)
    # These four through vigil up's flags, which override the same settings for every service.
    flags = {
        "--data-dir": "VIGIL_DATA_DIR",
        "--api-port": "VIGIL_API_PORT",
        "--dashboard-port": "VIGIL_DASHBOARD_PORT",
        "--dagster-port": "VIGIL_DAGSTER_PORT",
    }
    # Its output goes to a file: a pipe nobody reads during a long run could fill and block it.
    log = tmp / "vigil-up.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vigil", "up", *(f"{f}={env[n]}" for f, n in flags.items())],
            env={k: v for k, v in env.items() if k not in flags.values()},
            cwd=tmp,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    platform = Platform(proc, env)
    try:
        for url in platform.health_urls():  # services start in this order
            platform.wait(partial(platform.answers, url), 240, url)
        login = httpx.post(
            f"{platform.base}/api/v1/auth/login",
            json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD},
        )
        platform.headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        yield platform
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=180)
        output = log.read_text(errors="replace")
        assert proc.returncode == 0, output[-3000:]
        assert '"platform_stopped"' in output
        assert f"  dashboard  http://127.0.0.1:{env['VIGIL_DASHBOARD_PORT']}" in output
        assert f"  demo login {DEMO_EMAIL} / {DEMO_PASSWORD}" in output
        assert live_processes_mentioning(str(platform.data_dir)) == []  # no child left behind
