"""The ingest service end to end: cameras added, edited, disabled and deleted through the API
are picked up while the service runs; status, health history, live view and snapshots are
served to the owner only. Real RTSP simulator, real FFmpeg, real database (SQLite here; the
API's own tests cover PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.conftest import signup_and_login
from tests.fixtures.waiting import wait_for
from tests.media.conftest import TEST_OPTIONS, processes_mentioning, zombie_children
from vigil.db.session import session_factory
from vigil.ingest.health import HealthRecorder
from vigil.ingest.service import IngestService
from vigil.lake.query import connect
from vigil.lake.writer import LakeWriter
from vigil.media.paths import MediaPaths
from vigil.media.supervisor import SupervisorConfig
from vigil.records import CAMERA_HEALTH
from vigil.settings import Settings
from vigil.simulator import RtspSimulator


@pytest.fixture
def settings(sqlite_settings: Settings) -> Settings:
    return sqlite_settings


@pytest.fixture
def client(sqlite_client: TestClient) -> TestClient:
    return sqlite_client


@pytest.fixture
def ingest(settings: Settings, ffmpeg_exe: str) -> Iterator[IngestService]:
    config = SupervisorConfig(
        paths=MediaPaths(settings.media_dir),
        ffmpeg=ffmpeg_exe,
        options=TEST_OPTIONS,
        stall_seconds=5.0,
        startup_seconds=10.0,
        backoff_initial_seconds=0.5,
        backoff_max_seconds=2.0,
    )
    lake = LakeWriter(settings.resolved_lake_dir, CAMERA_HEALTH, roll_seconds=0)
    service = IngestService(
        session_factory(settings.resolved_database_url),
        config,
        HealthRecorder(lake=lake),
        sync_seconds=0.5,
    )
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    yield service
    service.stop()
    thread.join(timeout=30)
    assert not thread.is_alive()


def _camera(client: TestClient, headers: dict, url: str, name: str = "Plaza") -> dict:
    response = client.post(
        "/api/v1/cameras", json={"name": name, "stream_url": url}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def _status(client: TestClient, headers: dict, camera_id: int) -> dict:
    return client.get(f"/api/v1/cameras/{camera_id}", headers=headers).json()


def _ffmpeg_for(media_dir: Path, camera_id: int) -> list[int]:
    return processes_mentioning(f"{media_dir}/live/{camera_id}/")


def test_camera_lifecycle_through_the_api(
    ingest: IngestService,
    client: TestClient,
    settings: Settings,
    own_simulator: RtspSimulator,
) -> None:
    alice = signup_and_login(client, "alice@example.com")
    bob = signup_and_login(client, "bob@example.com")
    camera = _camera(client, alice, own_simulator.url())
    cid = camera["id"]
    base = f"/api/v1/cameras/{cid}"

    # Added through the API -> FFmpeg starts, frames flow, the camera turns online.
    assert wait_for(lambda: _status(client, alice, cid)["status"] == "online", 40)
    assert _ffmpeg_for(settings.media_dir, cid)
    assert wait_for(lambda: _status(client, alice, cid)["last_seen_at"] is not None, 10)

    # Live view and snapshots for the owner.
    assert wait_for(
        lambda: "#EXTINF" in client.get(f"{base}/live/index.m3u8", headers=alice).text, 30
    )
    playlist = client.get(f"{base}/live/index.m3u8", headers=alice)
    assert playlist.headers["content-type"] == "application/vnd.apple.mpegurl"
    segment = next(line for line in playlist.text.splitlines() if line.startswith("seg_"))
    media = client.get(f"{base}/live/{segment}", headers=alice)
    assert media.status_code == 200 and media.content[:1] == b"\x47"  # MPEG-TS sync byte
    assert wait_for(
        lambda: client.get(f"{base}/snapshot.jpg", headers=alice).status_code == 200, 20
    )
    jpeg = client.get(f"{base}/snapshot.jpg", headers=alice).content
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[:2] == (576, 768)

    # A token in the query works for players without headers, and is carried to segments.
    token = alice["Authorization"].split()[1]
    by_query = client.get(f"{base}/live/index.m3u8?access_token={token}")
    assert f"?access_token={token}" in by_query.text

    # Another user sees none of it; traversal in segment names is refused.
    for path in (f"{base}/live/index.m3u8", f"{base}/live/{segment}", f"{base}/snapshot.jpg"):
        assert client.get(path, headers=bob).status_code == 404
        assert client.get(path).status_code == 401
    for name in ("..%2Findex.m3u8", "%2e%2e%2f%2e%2e%2fvigil.db", "seg_1.ts%00.m3u8",
                 "..%5C..%5Cvigil.db", "seg_..ts", "latest.jpg", "seg_1.mp4"):  # fmt: skip
        assert client.get(f"{base}/live/{name}", headers=alice).status_code == 404, name

    # Disabled -> FFmpeg stops, status offline with the reason, a health event per change.
    assert client.patch(base, json={"enabled": False}, headers=alice).status_code == 200
    assert wait_for(lambda: _ffmpeg_for(settings.media_dir, cid) == [], 20)
    assert wait_for(lambda: _status(client, alice, cid)["status"] == "offline", 10)
    assert _status(client, alice, cid)["last_error"] == "camera disabled"
    history = client.get(f"{base}/health", headers=alice).json()
    assert [h["status"] for h in history["items"]][:2] == ["offline", "online"]
    assert client.get(f"{base}/health", headers=bob).status_code == 404

    # Re-enabled, then the stream goes away: offline within a bounded time, online again after.
    client.patch(base, json={"enabled": True}, headers=alice)
    assert wait_for(lambda: _status(client, alice, cid)["status"] == "online", 40)
    own_simulator.stop()
    assert wait_for(lambda: _status(client, alice, cid)["status"] == "offline", 30)
    own_simulator.start()
    assert wait_for(lambda: _status(client, alice, cid)["status"] == "online", 60)

    # Deleted -> FFmpeg stops; nothing left running, no zombies.
    assert client.delete(base, headers=alice).status_code == 204
    assert wait_for(lambda: _ffmpeg_for(settings.media_dir, cid) == [], 20)
    # A stopped FFmpeg is reaped by its supervisor thread a moment later; one never reaped stays.
    assert wait_for(lambda: zombie_children() == [], 10), "unreaped ffmpeg"
    # Nothing it recorded stays on disk, not even what FFmpeg wrote after the API's purge.
    paths = MediaPaths(settings.media_dir)
    dirs = (paths.live_dir(cid), paths.snapshot_dir(cid), paths.record_dir(cid))
    assert wait_for(lambda: not any(d.exists() for d in dirs), 10)

    # Every change also reached the lake's camera_health table.
    ingest.recorder.close()
    statuses = (
        connect(settings.resolved_lake_dir)
        .execute("SELECT status FROM camera_health WHERE camera_id = ? ORDER BY ts", [cid])
        .fetchall()
    )
    assert [s for (s,) in statuses][:3] == ["online", "offline", "online"]


def test_wrong_credentials_and_unreachable_cameras_report_masked_errors(
    ingest: IngestService, client: TestClient, auth_simulator: RtspSimulator
) -> None:
    alice = signup_and_login(client, "carol@example.com")
    wrong = _camera(
        client, alice, auth_simulator.url(password="not-the-password-xyz"), name="Wrong creds"
    )
    nowhere = _camera(client, alice, "rtsp://admin:hunter2-secret@127.0.0.1:9/none", "Nowhere")
    assert wait_for(lambda: _status(client, alice, wrong["id"])["status"] == "error", 40)
    assert wait_for(lambda: _status(client, alice, nowhere["id"])["status"] == "offline", 40)
    wrong_error = _status(client, alice, wrong["id"])["last_error"]
    nowhere_error = _status(client, alice, nowhere["id"])["last_error"]
    assert "401" in wrong_error or "nauthorized" in wrong_error
    assert "not-the-password-xyz" not in wrong_error
    assert "hunter2-secret" not in nowhere_error
    assert "refused" in nowhere_error.lower()
