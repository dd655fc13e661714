"""What a deleted camera or user leaves behind must never reach the next owner: ids are not
reused, and a deleted camera's media is gone. Real server, PostgreSQL and SQLite."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from tests.conftest import signup_and_login
from vigil.cameras.purge import journal_purge
from vigil.db.models import Camera, CameraPurge, User
from vigil.db.session import session_factory, session_scope
from vigil.media.paths import MediaPaths
from vigil.retention.sweep import RetentionPolicy, sweep
from vigil.settings import Settings
from vigil.storage.factory import object_store_from_settings
from vigil.storage.keys import camera_prefix

CAMERA = {"name": "Gate", "stream_url": "rtsp://cam.local/stream"}


def _camera(client: TestClient, headers: dict, name: str = "Gate") -> int:
    response = client.post("/api/v1/cameras", json={**CAMERA, "name": name}, headers=headers)
    assert response.status_code == 201, response.text
    camera_id: int = response.json()["id"]
    return camera_id


def _me(client: TestClient, headers: dict) -> int:
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200, response.text
    user_id: int = response.json()["id"]
    return user_id


def test_ids_of_deleted_cameras_and_users_are_never_handed_out_again(
    client: TestClient, settings: Settings, alice: dict, bob: dict
) -> None:
    newest = _camera(client, alice)
    assert client.delete(f"/api/v1/cameras/{newest}", headers=alice).status_code == 204
    assert _camera(client, bob) > newest

    bob_id = _me(client, bob)
    with session_scope(settings.resolved_database_url) as session:
        session.execute(delete(User).where(User.id == bob_id))
    carol = signup_and_login(client, "carol@example.com")
    assert _me(client, carol) > bob_id


JPEG = b"\xff\xd8alice's back yard\xff\xd9"


def _write_media(settings: Settings, camera_id: int) -> list[Path]:
    """What ingest and the pipelines leave for a camera: HLS, a snapshot, a recording, and a
    clip, an event snapshot and a face thumbnail in the object store."""
    paths = MediaPaths(settings.media_dir)
    files = {
        paths.playlist(camera_id): b"#EXTM3U\n#EXTINF:1.0,\nseg_1.ts\n",
        paths.live_dir(camera_id) / "seg_1.ts": b"\x47" * 188,
        paths.snapshot(camera_id): JPEG,
        paths.record_file(camera_id, "20261125T120000Z.mp4"): b"mp4",
    }
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    store = object_store_from_settings(settings)
    store.put_bytes(f"clips/{camera_id}/2026-11-25/e-1.mp4", b"clip")
    store.put_bytes(f"snapshots/events/{camera_id}/e.jpg", JPEG)
    store.put_bytes(f"faces/{camera_id}/2026-11-25/f.jpg", JPEG)
    return list(files)


def _objects(settings: Settings, camera_id: int) -> list[str]:
    store = object_store_from_settings(settings)
    return [
        info.key
        for kind in ("clips", "snapshots/events", "faces")
        for info in store.list(camera_prefix(kind, camera_id))
    ]


def _purges(settings: Settings) -> int:
    with session_scope(settings.resolved_database_url) as session:
        return session.scalar(select(func.count()).select_from(CameraPurge)) or 0


def test_a_deleted_cameras_media_is_gone_and_never_reaches_the_next_owner(
    client: TestClient, settings: Settings, alice: dict, bob: dict
) -> None:
    camera_id = _camera(client, alice)
    files = _write_media(settings, camera_id)
    snapshot = f"/api/v1/cameras/{camera_id}/snapshot.jpg"
    assert client.get(snapshot, headers=alice).content == JPEG

    assert client.delete(f"/api/v1/cameras/{camera_id}", headers=alice).status_code == 204
    assert [f for f in files if f.exists()] == []
    assert _objects(settings, camera_id) == []
    assert _purges(settings) == 0

    bobs = _camera(client, bob)
    assert bobs != camera_id
    _write_media(settings, camera_id)  # a late write by ingest before it stopped the camera
    for headers in (alice, bob):
        for path in ("snapshot.jpg", "live/index.m3u8", "live/seg_1.ts"):
            response = client.get(f"/api/v1/cameras/{camera_id}/{path}", headers=headers)
            assert response.status_code == 404, (path, response.text)
    assert client.get(f"/api/v1/cameras/{bobs}/snapshot.jpg", headers=bob).status_code == 404


def test_stale_media_under_a_new_cameras_id_is_cleared(
    client: TestClient, settings: Settings, alice: dict, bob: dict
) -> None:
    """Files left by a camera deleted before ids were never reused (an upgraded SQLite
    install) must not show up for the camera that gets that id."""
    next_id = _camera(client, bob, "First") + 1  # ids go up by one with no other inserts
    _write_media(settings, next_id)
    assert _camera(client, bob) == next_id
    response = client.get(f"/api/v1/cameras/{next_id}/snapshot.jpg", headers=bob)
    assert response.status_code == 404


def test_a_purge_cut_short_by_a_crash_is_finished_by_the_next_retention_sweep(
    client: TestClient, settings: Settings, alice: dict
) -> None:
    camera_id = _camera(client, alice)
    files = _write_media(settings, camera_id)
    # The API's delete transaction committed, then the process died before the purge ran.
    with session_scope(settings.resolved_database_url) as session:
        session.execute(delete(Camera).where(Camera.id == camera_id))
        journal_purge(session, camera_id)
    assert all(f.exists() for f in files) and _purges(settings) == 1

    report = sweep(
        session_factory(settings.resolved_database_url),
        object_store_from_settings(settings),
        MediaPaths(settings.media_dir),
        settings.resolved_lake_dir,
        RetentionPolicy(),
    )
    assert report.purged_cameras == 1
    assert [f for f in files if f.exists()] == []
    assert _objects(settings, camera_id) == []
    assert _purges(settings) == 0
