"""`vigil up` on a fresh data directory, end to end: it migrates and seeds, starts the embedded
object store and broker, the demo camera (real footage over RTSP) and every service; the demo
camera is live within a minute; people crossing the seeded walkway zone produce intrusion
events with playable clips through the API; detections fill the lake and the topic; and on
SIGTERM every process it started is gone."""

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

import cv2
import httpx
import pytest

from tests.alerts.servers import Mailbox, smtp_server
from vigil.broker.consumer import JsonConsumer
from vigil.broker.topics import Topics
from vigil.embedded.process import free_port, free_port_block
from vigil.embedded.seaweedfs import SeaweedPorts
from vigil.lake.query import connect


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


class Platform:
    def __init__(self, proc: subprocess.Popen[bytes], env: dict[str, str]) -> None:
        self.proc = proc
        self.env = env
        self.base = f"http://127.0.0.1:{env['VIGIL_API_PORT']}"
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
            f"http://127.0.0.1:{env['VIGIL_DAGSTER_PORT']}/server_info",
            f"http://127.0.0.1:{env['VIGIL_DAGSTER_DAEMON_HEALTH_PORT']}/healthz",
            f"http://127.0.0.1:{env['VIGIL_DASHBOARD_PORT']}/_stcore/health",
        ]

    def get(
        self, path: str, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        return httpx.get(
            f"{self.base}{path}", headers={**self.headers, **(headers or {})}, timeout=10, **kwargs
        )

    def answers(self, url: str) -> bool:
        return httpx.get(url, timeout=5).status_code == 200


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    with smtp_server() as server:
        yield server


@pytest.fixture(scope="module")
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
        "VIGIL_DAGSTER_DAEMON_HEALTH_PORT": str(free_port()),
        "VIGIL_DASHBOARD_PORT": str(free_port()),
        "VIGIL_DEMO_EMAIL": "owner@example.com",
        "VIGIL_DEMO_PASSWORD": "a long demo password",
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
    proc = subprocess.Popen(
        [sys.executable, "-m", "vigil", "up", *(f"{f}={env[name]}" for f, name in flags.items())],
        env={k: v for k, v in env.items() if k not in flags.values()},
        cwd=tmp,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    platform = Platform(proc, env)
    try:
        for url in platform.health_urls():  # services start in this order
            platform.wait(partial(platform.answers, url), 240, url)
        login = httpx.post(
            f"{platform.base}/api/v1/auth/login",
            json={"email": "owner@example.com", "password": "a long demo password"},
        )
        platform.headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        yield platform
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=180)[0].decode()
        assert proc.returncode == 0, output[-3000:]
        assert '"platform_stopped"' in output
        assert f"  dashboard  http://127.0.0.1:{env['VIGIL_DASHBOARD_PORT']}" in output
        assert "  demo login owner@example.com / a long demo password" in output
        assert processes_mentioning(str(platform.data_dir)) == []  # no child left behind


def test_demo_camera_is_live_within_a_minute(platform: Platform) -> None:
    cameras = platform.get("/api/v1/cameras").json()["items"]
    assert [c["name"] for c in cameras] == ["Demo plaza", "Demo desk"]
    assert [c["face_recognition"] for c in cameras] == [True, True]
    camera = cameras[0]
    token = platform.headers["Authorization"].split()[1]
    live = f"{camera['live_url']}?access_token={token}"
    platform.wait(lambda: "#EXTINF" in httpx.get(f"{platform.base}{live}").text, 60, "playlist")
    platform.wait(
        lambda: platform.get(f"/api/v1/cameras/{camera['id']}").json()["status"] == "online",
        30,
        "camera online",
    )
    lines = httpx.get(f"{platform.base}{live}").text.splitlines()
    segment = next(line for line in lines if line.startswith("seg_"))
    media = httpx.get(f"{platform.base}/api/v1/cameras/{camera['id']}/live/{segment}")
    assert media.status_code == 200
    assert media.headers["content-type"] == "video/mp2t"
    # Every service still answers its health check.
    for url in platform.health_urls():
        assert httpx.get(url, timeout=10).status_code == 200, url


def test_detections_fill_the_lake_and_the_topic(platform: Platform) -> None:
    lake = platform.data_dir / "lake"

    def lake_detections() -> int:
        row = (
            connect(lake)
            .execute("SELECT count(*) FROM detections WHERE track_id IS NOT NULL")
            .fetchone()
        )
        return int(row[0]) if row else 0

    assert platform.wait(lambda: lake_detections() >= 20, 180, "tracked detections in the lake")
    bootstrap = f"127.0.0.1:{platform.env['VIGIL_KAFKA_EMBEDDED_PORT']}"
    consumer = JsonConsumer(
        bootstrap, "test-up", [Topics().detections], auto_offset_reset="earliest"
    )
    try:
        records = consumer.consume(max_records=20, timeout=60)
    finally:
        consumer.close()
    assert len(records) == 20
    assert all(r.value["camera_id"] == 1 and r.schema_version == 1 for r in records)


def test_people_on_the_walkway_give_intrusion_events_with_playable_clips(
    platform: Platform, tmp_path: Path
) -> None:
    def event_with_clip() -> dict | None:
        events = platform.get(
            "/api/v1/events", params={"type": "intrusion", "has_clip": True}
        ).json()["items"]
        return events[0] if events else None

    event = platform.wait(event_with_clip, 420, "an intrusion event with a clip")
    assert event["status"] == "closed"
    assert event["zone_id"] is not None
    assert 0 < event["confidence"] <= 1
    clip = platform.get(event["clip_url"])
    assert clip.status_code == 200
    assert clip.headers["content-type"] == "video/mp4"
    part = platform.get(event["clip_url"], headers={"Range": "bytes=0-1023"})
    assert part.status_code == 206
    path = tmp_path / "clip.mp4"
    path.write_bytes(clip.content)
    capture = cv2.VideoCapture(str(path))
    frames = 0
    while capture.read()[0]:
        frames += 1
    capture.release()
    assert frames >= 50  # at 10 fps: the event plus its pre/post padding


def test_walking_through_the_demo_zone_emails_the_owner_with_the_picture(
    platform: Platform, mailbox: tuple[Mailbox, int]
) -> None:
    inbox, _ = mailbox
    message = platform.wait(lambda: next(iter(inbox.messages()), None), 420, "an alert email")
    assert message["To"] == "owner@example.com"
    assert message["Subject"].startswith("[Vigil] Intrusion at Demo plaza, ")
    assert [p for p in message.walk() if p.get_content_type() == "image/jpeg"]
    event = platform.get(f"/api/v1/events/{message['X-Vigil-Event-Id']}").json()
    assert event["type"] == "intrusion"
    deliveries = platform.get("/api/v1/alerts/deliveries").json()["items"]
    assert any(d["event_id"] == event["id"] and d["status"] == "sent" for d in deliveries)
    emailed = [m["X-Vigil-Event-Id"] for m in inbox.messages()]
    assert len(emailed) == len(set(emailed))  # once per event
