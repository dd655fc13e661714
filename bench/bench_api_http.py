"""What the bounded HTTP parser costs: the API served by uvicorn with h11 (which enforces the
header size limit, as `vigil api` now runs it) against httptools (the previous default, with no
header limit), same app, same SQLite database, same machine, in one run.

Timed per server, on one kept-alive connection, after a warm-up: sequential GET /healthz (the
parser and middleware alone) and GET /api/v1/cameras (authenticated, a database query). Also,
for the h11 server: the server's RSS before and after declared 50 MB bodies (refused unread).

    .venv/bin/python bench/bench_api_http.py [--requests 500]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from _report import machine, now_iso, save_report

from vigil.embedded import free_port

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "api_http.json"
PASSWORD = "correct horse 42"  # noqa: S105 (a scratch user)
SERVE = """
import sys, uvicorn
from api.app import create_app
from vigil.settings import Settings
settings = Settings()
uvicorn.run(create_app(settings), host="127.0.0.1", port=int(sys.argv[1]), http=sys.argv[2],
            h11_max_incomplete_event_size=settings.api_max_header_bytes, log_level="warning")
"""


def _start(parser: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE, str(port), parser],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError(f"{parser} server did not start")


def _rate(client: httpx.Client, path: str, headers: dict[str, str], count: int) -> float:
    for _ in range(20):
        client.get(path, headers=headers)
    started = time.perf_counter()
    for _ in range(count):
        assert client.get(path, headers=headers).status_code == 200
    return count / (time.perf_counter() - started)


def _rss(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(ln.split()[1] for ln in status.splitlines() if ln.startswith("VmRSS:"))) * 1024


def _big_bodies(url: str, count: int) -> None:
    body = b"x" * (50 * 1024 * 1024)
    for _ in range(count):
        # The server answers 413 and closes while the upload is going: the client may see a reset.
        with contextlib.suppress(httpx.TransportError):
            httpx.post(f"{url}/api/v1/auth/signup", content=body, timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    load = os.getloadavg()
    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
        env |= {"VIGIL_DATA_DIR": scratch, "VIGIL_JWT_SECRET": "bench-" + "b" * 40}
        subprocess.run([sys.executable, "-m", "vigil", "migrate"], env=env, cwd=ROOT, check=True)
        for name in ("httptools", "h11"):
            process, url = _start(name, env)
            try:
                with httpx.Client(base_url=url, timeout=30) as client:
                    body = {"email": f"{name}@example.com", "password": PASSWORD}
                    client.post("/api/v1/auth/signup", json=body)
                    token = client.post("/api/v1/auth/login", json=body).json()["access_token"]
                    auth = {"Authorization": f"Bearer {token}"}
                    results[name] = {
                        "healthz_per_s": _rate(client, "/healthz", {}, args.requests),
                        "cameras_per_s": _rate(client, "/api/v1/cameras", auth, args.requests),
                    }
                if name == "h11":
                    _big_bodies(url, 1)
                    before = _rss(process.pid)
                    _big_bodies(url, 5)
                    results[name]["rss_growth_mb_after_5x50mb"] = (_rss(process.pid) - before) / 1e6
            finally:
                process.terminate()
                process.wait(timeout=30)
    ratios = {
        key: results["h11"][key] / results["httptools"][key]
        for key in ("healthz_per_s", "cameras_per_s")
    }
    print(f"{'':10} {'healthz/s':>10} {'cameras/s':>10}")
    for name, figures in results.items():
        print(f"{name:10} {figures['healthz_per_s']:10.0f} {figures['cameras_per_s']:10.0f}")
    print(f"{'h11/httptools':10} {ratios['healthz_per_s']:10.2f} {ratios['cameras_per_s']:10.2f}")
    print(
        f"h11 server RSS growth after 5 x 50 MB bodies: "
        f"{results['h11']['rss_growth_mb_after_5x50mb']:.1f} MB"
    )
    save_report(
        RESULTS,
        {
            "when": now_iso(),
            "machine": machine(load),
            "requests": args.requests,
            "results": results,
            "ratio_h11_to_httptools": ratios,
        },
    )


if __name__ == "__main__":
    main()
