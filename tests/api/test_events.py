"""Events API: filters, cursor pagination newest first, and ownership."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from vigil.db.models import Clip, Event
from vigil.db.session import session_scope
from vigil.settings import Settings

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _camera(client: TestClient, headers: dict, name: str) -> int:
    response = client.post(
        "/api/v1/cameras", json={"name": name, "stream_url": "rtsp://cam.local/s"}, headers=headers
    )
    return int(response.json()["id"])


def _insert_events(settings: Settings, camera_id: int, count: int) -> list[str]:
    ids = []
    with session_scope(settings.resolved_database_url) as session:
        for i in range(count):
            event = Event(
                id=str(uuid.uuid4()),
                camera_id=camera_id,
                type="intrusion" if i % 2 == 0 else "motion",
                status="closed",
                start_ts=T0 + timedelta(minutes=i),
                end_ts=T0 + timedelta(minutes=i, seconds=30),
                confidence=i / count,
                track_ids=[i],
                frames=10,
            )
            session.add(event)
            ids.append(event.id)
            if i % 3 == 0:
                session.flush()
                session.add(
                    Clip(
                        id=str(uuid.uuid4()),
                        event_id=event.id,
                        camera_id=camera_id,
                        start_ts=event.start_ts,
                        end_ts=event.end_ts or event.start_ts,
                        object_key=f"clips/{camera_id}/{event.id}.mp4",
                    )
                )
    return ids


def test_cursor_pagination_newest_first(
    client: TestClient, alice: dict, settings: Settings
) -> None:
    camera_id = _camera(client, alice, "Plaza")
    ids = _insert_events(settings, camera_id, 7)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/events", params=params, headers=alice).json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))


def test_filters(client: TestClient, alice: dict, settings: Settings) -> None:
    plaza = _camera(client, alice, "Plaza")
    gate = _camera(client, alice, "Gate")
    _insert_events(settings, plaza, 6)
    _insert_events(settings, gate, 2)

    def ids(**params: object) -> int:
        response = client.get("/api/v1/events", params=params, headers=alice)
        assert response.status_code == 200, response.text
        return len(response.json()["items"])

    assert ids() == 8
    assert ids(camera_id=gate) == 2
    assert ids(type="motion", camera_id=plaza) == 3
    assert ids(since=(T0 + timedelta(minutes=4)).isoformat()) == 2
    assert ids(until=(T0 + timedelta(minutes=1)).isoformat()) == 2
    assert ids(min_confidence=0.5, camera_id=plaza) == 3
    assert ids(has_clip=True, camera_id=plaza) == 2
    assert ids(has_clip=False, camera_id=plaza) == 4
    one = client.get("/api/v1/events", params={"has_clip": True}, headers=alice).json()["items"][0]
    assert one["clip_url"] == f"/api/v1/events/{one['id']}/clip"
    assert client.get(f"/api/v1/events/{one['id']}", headers=alice).json() == one


@pytest.mark.parametrize(
    "params",
    [
        {"type": "fire"},
        {"min_confidence": 2},
        {"limit": 0},
        {"cursor": "not-a-cursor"},
        {"cursor": "WyJ4IiwgMV0"},
        {"since": "yesterday"},
        {"since": "2026-11-25T12:00:00"},
        {"camera_id": 0},
    ],
)
def test_bad_filters_are_422(client: TestClient, alice: dict, params: dict) -> None:
    response = client.get("/api/v1/events", params=params, headers=alice)
    assert response.status_code == 422, response.text
    assert response.json()["detail"]


def test_another_users_events_are_invisible(
    client: TestClient, alice: dict, bob: dict, settings: Settings
) -> None:
    camera_id = _camera(client, alice, "Plaza")
    (event_id,) = _insert_events(settings, camera_id, 1)
    assert client.get("/api/v1/events", headers=bob).json()["items"] == []
    assert (
        client.get("/api/v1/events", params={"camera_id": camera_id}, headers=bob).json()["items"]
        == []
    )
    assert client.get(f"/api/v1/events/{event_id}", headers=bob).status_code == 404
    assert client.get(f"/api/v1/events/{uuid.uuid4()}", headers=alice).status_code == 404
    assert client.get(f"/api/v1/events/{event_id}", headers=alice).status_code == 200


def test_face_events_are_listed_filtered_and_pictured(
    client: TestClient, alice: dict, bob: dict, settings: Settings
) -> None:
    """A face event written by live assignment (real SFace embeddings) reads like any other."""
    from tests.faces.world import visit_rows
    from vigil.db.models import Camera
    from vigil.faces.store import LiveFaces
    from vigil.storage.factory import object_store_from_settings

    camera_id = _camera(client, alice, "Front door")
    _insert_events(settings, camera_id, 2)
    url, store = settings.resolved_database_url, object_store_from_settings(settings)
    rows = visit_rows(camera_id, "orl_s01", T0, 3, track_id=7)
    for row in rows:
        store.put_bytes(row["thumbnail_key"], row.pop("_jpeg"), content_type="image/jpeg")
    with session_scope(url) as session:
        session.get_one(Camera, camera_id).face_recognition = True
    with session_scope(url) as session:
        LiveFaces().insert(session, rows)
    listed = client.get("/api/v1/events", params={"type": "face"}, headers=alice)
    assert listed.status_code == 200, listed.text
    (face,) = listed.json()["items"]
    assert (face["type"], face["status"], face["track_ids"]) == ("face", "closed", [7])
    assert len(client.get("/api/v1/events", headers=alice).json()["items"]) == 3
    picture = client.get(face["snapshot_url"], headers=alice)
    assert picture.status_code == 200 and picture.content.startswith(b"\xff\xd8")
    assert client.get(f"/api/v1/events/{face['id']}", headers=bob).status_code == 404
    assert client.get(face["snapshot_url"], headers=bob).status_code == 404
