"""`vigil up`'s flags: they override the same settings, a port already taken stops it before
anything starts with one line naming the port and its setting, and the banner (printed once
the services are healthy) gives the URLs and the demo login. Only the API is started here;
tests/cli/test_up.py runs every service."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from vigil.embedded.process import free_port

SKIP_ALL_BUT_API = [
    f"--skip={name}"
    for name in ("object-store", "broker", "demo-camera", "ingest", "dataflow", "dagster", "alerts")
] + ["--skip=dashboard"]


def _env() -> dict[str, str]:
    """Free ports for what the flags don't set: others may run Vigil on the defaults."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    ports = ["DEMO_RTSP", "DEMO_DESK_RTSP", "INGEST_HEALTH", "DATAFLOW_HEALTH"]
    ports += ["DAGSTER_DAEMON_HEALTH", "DAGSTER_CODE", "ALERTS_HEALTH"]
    env |= {f"VIGIL_{name}_PORT": str(free_port()) for name in ports}
    return env | {
        "VIGIL_DEMO_EMAIL": "owner@example.com",
        "VIGIL_DEMO_PASSWORD": "a long demo password",
        "VIGIL_JWT_SECRET": "x" * 40,
        "PYTHONUNBUFFERED": "1",
    }


def _up(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "vigil", "up", *args],
        env=_env() | env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


@pytest.fixture
def taken() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", free_port()))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    ("flag", "setting"),
    [
        ("--api-port", "VIGIL_API_PORT"),
        ("--dashboard-port", "VIGIL_DASHBOARD_PORT"),
        ("--dagster-port", "VIGIL_DAGSTER_PORT"),
    ],
)
def test_a_taken_port_is_one_line_before_anything_starts(
    tmp_path: Path, taken: int, flag: str, setting: str
) -> None:
    data = tmp_path / "var"
    ports = {"--api-port": free_port(), "--dashboard-port": free_port()}
    ports |= {"--dagster-port": free_port(), flag: taken}
    args = [f"{name}={port}" for name, port in ports.items()]
    proc = _up(tmp_path, "--data-dir", str(data), *args, "--skip=object-store", "--skip=broker")
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 2, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    assert str(taken) in errors[0] and setting in errors[0] and flag in errors[0]
    assert not (data / "vigil.db").exists() and not (data / "logs").exists()  # nothing started


@pytest.mark.parametrize("setting", ["VIGIL_DEMO_DESK_RTSP_PORT", "VIGIL_ALERTS_HEALTH_PORT"])
def test_a_taken_port_of_a_setting_without_a_flag_is_refused_too(
    tmp_path: Path, taken: int, setting: str
) -> None:
    flags = [f"--{name}-port={free_port()}" for name in ("api", "dashboard", "dagster")]
    proc = _up(tmp_path, *flags, "--skip=object-store", "--skip=broker", **{setting: str(taken)})
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 2, output
    assert f"port {taken} ({setting}) is already in use" in output
    data = tmp_path / "var"
    assert not (data / "vigil.db").exists() and not (data / "logs").exists()  # nothing started


def test_one_port_for_two_services_is_refused(tmp_path: Path) -> None:
    port = free_port()
    proc = _up(tmp_path, f"--api-port={port}", f"--dashboard-port={port}")
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 2
    assert f"port {port} is set for both VIGIL_API_PORT" in output


@pytest.mark.parametrize("args", [["--api-port=0"], ["--dagster-port=70000"], ["--nope"]])
def test_bad_flags_are_refused(tmp_path: Path, args: list[str]) -> None:
    proc = _up(tmp_path, *args)
    output = proc.communicate(timeout=120)[0]
    assert proc.returncode == 2, output
    assert not (tmp_path / "var").exists()


def _until_banner(proc: subprocess.Popen[str]) -> list[str]:
    """vigil up's lines until its banner has been printed (it prints it once all are healthy)."""
    assert proc.stdout is not None
    lines: list[str] = []
    for line in proc.stdout:
        lines.append(line.rstrip())
        if line.startswith("Press Ctrl-C to stop."):
            return lines
    raise AssertionError("vigil up ended without a banner:\n" + "\n".join(lines[-40:]))


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 0


@pytest.mark.parametrize("demo", [True, False])
def test_flags_override_the_settings_and_the_banner_says_where(tmp_path: Path, demo: bool) -> None:
    data, api = tmp_path / "elsewhere", free_port()
    args = ["--data-dir", str(data), f"--api-port={api}", *SKIP_ALL_BUT_API]
    proc = _up(tmp_path, *args, *([] if demo else ["--no-demo"]))
    try:
        banner = _until_banner(proc)
        assert f"  api        http://127.0.0.1:{api}/docs" in banner
        assert not any(line.startswith("  dashboard") for line in banner)  # skipped
        login = {"email": "owner@example.com", "password": "a long demo password"}
        answer = httpx.post(f"http://127.0.0.1:{api}/api/v1/auth/login", json=login)
        if demo:
            assert "  demo login owner@example.com / a long demo password" in banner
            assert answer.status_code == 200
        else:
            assert "  no demo: sign up on the dashboard" in banner
            assert answer.status_code == 401
        assert (data / "vigil.db").is_file() and (data / "logs" / "api.log").is_file()
        assert not (tmp_path / "var").exists()
    finally:
        _stop(proc)
