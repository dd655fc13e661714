"""Every bash block of docs/api.md runs, in order, against a real API server (uvicorn on
loopback, a fresh SQLite database), with `set -euo pipefail`: the docs cannot rot."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from vigil.embedded.process import free_port

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"```bash\n(.*?)```", re.S)


@pytest.fixture
def api_server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "VIGIL_DATA_DIR": str(tmp_path),
        "VIGIL_JWT_SECRET": "docs-test-secret-" + "z" * 32,
    }
    env.pop("VIGIL_DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "vigil", "migrate"], env=env, check=True, timeout=60)
    server = subprocess.Popen(
        [sys.executable, "-m", "vigil", "api", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "API did not start"
            time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=15)


def test_api_docs_examples_run(api_server: str) -> None:
    blocks = BLOCK.findall((ROOT / "docs" / "api.md").read_text())
    assert len(blocks) >= 8
    script = "set -euo pipefail\n" + "\n".join(blocks)
    result = subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, "VIGIL": api_server},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "rtsp://admin:***@192.168.1.20:554/Streaming/Channels/101" in out
    assert "secret@" not in out
    assert "Driveway (north)\nfalse" in out
    assert "stream_url\nValue error, must use the rtsp:// or rtsps:// scheme" in out
    assert "\n3\n" in out  # the zone's new dwell
    assert "crosses the edge" in out
    assert "media not found\n404\n401\n" in out
    assert "0\nnull\n" in out
    assert "recipients\n" in out  # a bad alert recipient is a 422 on that field
    assert "skipped\nno SMTP server configured\n" in out
    assert '{"detail":"identity not found"}\n404\n' in out  # faces: none seen yet
    assert "\n422\n404\n" in out  # an empty split, then deleting an unknown identity
