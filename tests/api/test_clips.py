"""Clips and event snapshots: streamed from the object store with HTTP range support, to the
owner only. Local store on both databases; a real S3 endpoint (SeaweedFS) once."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from pydantic import SecretStr

from api.app import create_app
from tests.conftest import signup_and_login
from vigil.db.models import Clip, Event
from vigil.db.session import session_scope
from vigil.embedded.seaweedfs import SeaweedFS
from vigil.settings import Settings
from vigil.storage.objectstore import ObjectStore
from vigil.storage.s3 import S3ObjectStore

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
CONTENT = os.urandom(2 * 1024 * 1024 + 12345)  # crosses the 1 MiB streaming chunk twice


def _seed_clip(settings: Settings, client: TestClient, headers: dict, store: ObjectStore) -> dict:
    camera = client.post(
        "/api/v1/cameras",
        json={"name": "Gate", "stream_url": "rtsp://cam.local/s"},
        headers=headers,
    ).json()
    event_id, clip_id = str(uuid.uuid4()), str(uuid.uuid4())
    clip_key = f"clips/{camera['id']}/{event_id}.mp4"
    snapshot_key = f"snapshots/events/{camera['id']}/{event_id}.jpg"
    store.put_bytes(clip_key, CONTENT, content_type="video/mp4")
    store.put_bytes(snapshot_key, b"\xff\xd8fake-jpeg\xff\xd9", content_type="image/jpeg")
    with session_scope(settings.resolved_database_url) as session:
        session.add(
            Event(
                id=event_id,
                camera_id=camera["id"],
                type="intrusion",
                status="closed",
                start_ts=T0,
                end_ts=T0 + timedelta(seconds=20),
                snapshot_key=snapshot_key,
            )
        )
        session.flush()
        session.add(
            Clip(
                id=clip_id,
                event_id=event_id,
                camera_id=camera["id"],
                start_ts=T0 - timedelta(seconds=5),
                end_ts=T0 + timedelta(seconds=25),
                object_key=clip_key,
                size_bytes=len(CONTENT),
            )
        )
    return {"event": f"/api/v1/events/{event_id}", "clip": f"/api/v1/clips/{clip_id}"}


def _check_ranges(client: TestClient, url: str, headers: dict) -> None:
    full = client.get(url, headers=headers)
    assert full.status_code == 200
    assert full.content == CONTENT
    assert full.headers["accept-ranges"] == "bytes"
    assert full.headers["content-type"] == "video/mp4"

    size = len(CONTENT)
    cases = {
        "bytes=0-99": (0, 99),
        "bytes=1048570-1048600": (1048570, 1048600),
        f"bytes={size - 10}-": (size - 10, size - 1),
        "bytes=-500": (size - 500, size - 1),
        f"bytes=100-{size + 1000}": (100, size - 1),
    }
    for header, (start, end) in cases.items():
        part = client.get(url, headers={**headers, "Range": header})
        assert part.status_code == 206, header
        assert part.headers["content-range"] == f"bytes {start}-{end}/{size}"
        assert part.content == CONTENT[start : end + 1]
        assert int(part.headers["content-length"]) == end - start + 1

    for header in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}", "bytes=-0", "bytes=9-3"):
        refused = client.get(url, headers={**headers, "Range": header})
        assert refused.status_code == 416, header
        assert refused.headers["content-range"] == f"bytes */{size}"
    # Several ranges or a malformed header: the whole clip, as RFC 9110 allows.
    for header in ("bytes=0-1,5-6", "items=0-10", "bytes=abc"):
        assert client.get(url, headers={**headers, "Range": header}).status_code == 200


def test_clips_are_served_with_ranges(client: TestClient, alice: dict, settings: Settings) -> None:
    urls = _seed_clip(settings, client, alice, client.app.state.object_store())  # type: ignore[attr-defined]
    event = client.get(urls["event"], headers=alice).json()
    assert event["clip_url"] == f"{urls['event']}/clip"
    _check_ranges(client, urls["clip"], alice)
    _check_ranges(client, event["clip_url"], alice)
    snapshot = client.get(event["snapshot_url"], headers=alice)
    assert snapshot.status_code == 200
    assert snapshot.headers["content-type"] == "image/jpeg"


def test_another_users_clips_are_404(
    client: TestClient, alice: dict, bob: dict, settings: Settings
) -> None:
    urls = _seed_clip(settings, client, alice, client.app.state.object_store())  # type: ignore[attr-defined]
    for url in (urls["clip"], f"{urls['event']}/clip", f"{urls['event']}/snapshot.jpg"):
        assert client.get(url, headers=bob).status_code == 404, url
        assert client.get(url, headers={**bob, "Range": "bytes=0-9"}).status_code == 404
        assert client.get(url).status_code == 401
    assert client.get(f"/api/v1/clips/{uuid.uuid4()}", headers=alice).status_code == 404
    assert client.get("/api/v1/clips/not-a-uuid", headers=alice).status_code == 422


def test_a_missing_object_is_404_not_500(
    client: TestClient, alice: dict, settings: Settings
) -> None:
    store = client.app.state.object_store()  # type: ignore[attr-defined]
    urls = _seed_clip(settings, client, alice, store)
    store.delete_many(info.key for info in list(store.list("clips/")))
    assert client.get(urls["clip"], headers=alice).status_code == 404
    assert client.get(f"{urls['event']}/clip", headers=alice).status_code == 404


def test_clips_on_a_real_s3_endpoint(
    sqlite_settings: Settings, seaweedfs: SeaweedFS, s3_bucket: str
) -> None:
    """The API configured for S3 (as in production) reads clips from SeaweedFS, which checks
    credentials and signatures, and serves them with ranges."""
    settings = sqlite_settings.model_copy(
        update={
            "object_store": "s3",
            "s3_endpoint_url": seaweedfs.endpoint_url,
            "s3_bucket": s3_bucket,
            "s3_access_key": SecretStr(seaweedfs.access_key),
            "s3_secret_key": SecretStr(seaweedfs.secret_key),
        }
    )
    with TestClient(create_app(settings)) as client:
        alice = signup_and_login(client, "alice@example.com")
        store = client.app.state.object_store()  # type: ignore[attr-defined]
        assert isinstance(store, S3ObjectStore)
        urls = _seed_clip(settings, client, alice, store)
        _check_ranges(client, urls["clip"], alice)
