"""`vigil simulate-camera`: a real RTSP camera from a video file, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from vigil.embedded.process import free_port
from vigil.simulator import rtsp_describe


def test_simulate_camera_serves_until_terminated(tmp_path: Path, footage: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil", "simulate-camera", str(footage), "--port", str(port)],
        env={**os.environ, "VIGIL_DATA_DIR": str(tmp_path)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()  # printed once the camera is serving
        assert url == f"rtsp://127.0.0.1:{port}/stream"
        assert rtsp_describe(url) == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            rtsp_describe(f"rtsp://127.0.0.1:{port}/stream", timeout=1)
        except OSError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the camera still answers after SIGTERM")


def test_missing_file_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vigil", "simulate-camera", str(tmp_path / "nope.mp4")],
        env={**os.environ, "COLUMNS": "300"},  # typer's error box must not wrap the message
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "does not exist" in result.stderr
