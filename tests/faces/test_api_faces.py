"""Faces API: identities with filters and cursor pagination, detail, thumbnails, label, merge,
split, delete; another user's identities are 404 and bad input a clear 4xx. Both databases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from tests.faces.world import T0, store_faces, visit_rows
from vigil.faces.store import LiveFaces
from vigil.settings import Settings
from vigil.storage.factory import object_store_from_settings

API = "/api/v1"


@dataclass
class Scene:
    desk: int
    door: int
    a: int  # orl_s01 at the desk, then the door
    b: int  # orl_s02 at the desk
    a_detections: list[str]
    b_detections: list[str]


def camera(client: TestClient, headers: dict, name: str, recognition: bool = True) -> int:
    response = client.post(
        f"{API}/cameras",
        json={"name": name, "stream_url": "rtsp://cam.local/s", "face_recognition": recognition},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def seen(client: TestClient, settings: Settings, headers: dict) -> Scene:
    desk, door = camera(client, headers, "Desk"), camera(client, headers, "Door")
    url, store, live = (
        settings.resolved_database_url,
        object_store_from_settings(settings),
        LiveFaces(),
    )
    a = store_faces(url, store, live, visit_rows(desk, "orl_s01", T0, 3, track_id=1))
    b = store_faces(
        url, store, live, visit_rows(desk, "orl_s02", T0 + timedelta(minutes=5), 3, track_id=2)
    )
    a += store_faces(
        url, store, live, visit_rows(door, "orl_s01", T0 + timedelta(hours=1), 3, first_photo=3)
    )
    faces = client.get(f"{API}/faces", headers=headers).json()["items"]
    by_id = {f["id"]: f for f in faces}
    assert len(by_id) == 2
    ids = sorted(by_id, key=lambda i: by_id[i]["last_seen"])
    return Scene(desk, door, a=ids[1], b=ids[0], a_detections=a, b_detections=b)


def test_identities_list_detail_and_thumbnails(
    client: TestClient, alice: dict, settings: Settings
) -> None:
    scene = seen(client, settings, alice)
    page = client.get(f"{API}/faces", headers=alice).json()
    assert [f["id"] for f in page["items"]] == [scene.a, scene.b]  # most recently seen first
    a = page["items"][0]
    assert a["label"] is None and a["named"] is False
    assert a["detection_count"] == 6 and a["cameras"] == [scene.desk, scene.door]
    assert a["first_seen"].startswith("2026-11-25T12:00:00")
    thumb = client.get(a["thumbnail_url"], headers=alice)
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"

    detail = client.get(f"{API}/faces/{scene.a}", params={"limit": 4}, headers=alice).json()
    assert [d["id"] for d in detail["detections"]] == list(reversed(scene.a_detections))[:4]
    rest = client.get(
        f"{API}/faces/{scene.a}",
        params={"limit": 4, "cursor": detail["next_cursor"]},
        headers=alice,
    ).json()
    assert [d["id"] for d in rest["detections"]] == list(reversed(scene.a_detections))[4:]
    assert rest["next_cursor"] is None
    one = client.get(detail["detections"][0]["thumbnail_url"], headers=alice)
    assert one.status_code == 200 and one.content[:2] == b"\xff\xd8"


def test_filters_and_cursor_pagination(client: TestClient, alice: dict, settings: Settings) -> None:
    scene = seen(client, settings, alice)

    def ids(**params: object) -> list[int]:
        response = client.get(f"{API}/faces", params=params, headers=alice)
        assert response.status_code == 200, response.text
        return [f["id"] for f in response.json()["items"]]

    assert ids(camera_id=scene.door) == [scene.a]
    assert ids(camera_id=scene.desk) == [scene.a, scene.b]
    assert ids(since=(T0 + timedelta(minutes=30)).isoformat()) == [scene.a]
    assert ids(until=(T0 + timedelta(minutes=1)).isoformat()) == [scene.a]
    client.patch(f"{API}/faces/{scene.b}", json={"label": "Bob"}, headers=alice)
    assert ids(named=True) == [scene.b] and ids(named=False) == [scene.a]
    assert ids(q="bo") == [scene.b]
    first = client.get(f"{API}/faces", params={"limit": 1}, headers=alice).json()
    second = client.get(
        f"{API}/faces", params={"limit": 1, "cursor": first["next_cursor"]}, headers=alice
    ).json()
    assert [f["id"] for f in first["items"] + second["items"]] == [scene.a, scene.b]
    assert second["next_cursor"] is None


def test_label_merge_split_delete(client: TestClient, alice: dict, settings: Settings) -> None:
    scene = seen(client, settings, alice)
    labelled = client.patch(f"{API}/faces/{scene.a}", json={"label": "  Ann  "}, headers=alice)
    assert labelled.status_code == 200 and labelled.json()["label"] == "Ann"

    merged = client.post(f"{API}/faces/{scene.b}/merge", json={"into": scene.a}, headers=alice)
    assert merged.status_code == 200, merged.text
    assert merged.json()["detection_count"] == 9 and merged.json()["label"] == "Ann"
    assert client.get(f"{API}/faces/{scene.b}", headers=alice).status_code == 404

    split = client.post(
        f"{API}/faces/{scene.a}/split", json={"detection_ids": scene.b_detections}, headers=alice
    )
    assert split.status_code == 201, split.text
    new = split.json()
    assert new["detection_count"] == 3 and new["label"] is None
    moved = client.get(f"{API}/faces/{new['id']}", headers=alice).json()["detections"]
    assert sorted(d["id"] for d in moved) == sorted(scene.b_detections)

    thumb = client.get(moved[0]["thumbnail_url"], headers=alice)
    assert thumb.status_code == 200
    assert client.delete(f"{API}/faces/{new['id']}", headers=alice).status_code == 204
    assert client.get(f"{API}/faces/{new['id']}", headers=alice).status_code == 404
    assert client.get(moved[0]["thumbnail_url"], headers=alice).status_code == 404
    store = object_store_from_settings(settings)
    assert not any(
        store.exists(f"faces/{scene.desk}/2026-11-25/{d}.jpg") for d in scene.b_detections
    )
    cleared = client.patch(f"{API}/faces/{scene.a}", json={"label": None}, headers=alice)
    assert cleared.json()["label"] is None and cleared.json()["named"] is False


def test_another_users_identities_are_not_found(
    client: TestClient, alice: dict, bob: dict, settings: Settings
) -> None:
    scene = seen(client, settings, alice)
    bobs = camera(client, bob, "Bob's desk")
    store_faces(
        settings.resolved_database_url,
        object_store_from_settings(settings),
        LiveFaces(),
        visit_rows(bobs, "orl_s03", T0, 2, track_id=1),
    )
    bob_face = client.get(f"{API}/faces", headers=bob).json()["items"][0]["id"]
    assert [f["id"] for f in client.get(f"{API}/faces", headers=bob).json()["items"]] == [bob_face]
    detection = client.get(f"{API}/faces/{scene.a}", headers=alice).json()["detections"][0]
    for method, path, body in [
        ("GET", f"/faces/{scene.a}", None),
        ("GET", f"/faces/{scene.a}/thumbnail.jpg", None),
        ("GET", f"/faces/detections/{detection['id']}/thumbnail.jpg", None),
        ("GET", f"/faces?camera_id={scene.desk}", None),
        ("GET", f"/faces/timeline?camera_id={scene.desk}", None),
        ("GET", f"/faces/timeline?face_id={scene.a}", None),
        ("PATCH", f"/faces/{scene.a}", {"label": "mine"}),
        ("POST", f"/faces/{scene.a}/merge", {"into": bob_face}),
        ("POST", f"/faces/{bob_face}/merge", {"into": scene.a}),
        ("POST", f"/faces/{scene.a}/split", {"detection_ids": [detection["id"]]}),
        ("DELETE", f"/faces/{scene.a}", None),
    ]:
        response = client.request(method, API + path, json=body, headers=bob)
        assert response.status_code == 404, (method, path, response.text)
    # Nothing changed for alice.
    face = client.get(f"{API}/faces/{scene.a}", headers=alice).json()
    assert face["label"] is None and face["detection_count"] == 6


@pytest.mark.parametrize(
    ("method", "path", "body", "code", "says"),
    [
        ("GET", "/faces/999999", None, 404, "identity not found"),
        ("PATCH", "/faces/999999", {"label": "x"}, 404, "identity not found"),
        ("PATCH", "/faces/{a}", {"label": "x" * 101}, 422, "at most 100"),
        ("PATCH", "/faces/{a}", {"name": "x"}, 422, "Extra inputs"),
        ("POST", "/faces/{a}/merge", {"into": "{a}"}, 422, "merged into itself"),
        ("POST", "/faces/{a}/merge", {"into": 999999}, 404, "identity not found"),
        ("POST", "/faces/{a}/merge", {}, 422, "Field required"),
        ("POST", "/faces/{a}/split", {"detection_ids": []}, 422, "at least 1"),
        ("POST", "/faces/{a}/split", {"detection_ids": ["not-an-id"]}, 422, "detection_ids"),
        (
            "POST",
            "/faces/{a}/split",
            {"detection_ids": ["00000000-0000-0000-0000-000000000000"]},
            422,
            "not detections of identity",
        ),
        ("POST", "/faces/{a}/split", {"detection_ids": "{b_detections}"}, 422, "leave at least"),
        ("DELETE", "/faces/0", None, 422, "positive whole number"),
        ("GET", "/faces?cursor=nonsense", None, 422, "invalid cursor"),
        ("GET", "/faces?since=2026-11-25T12:00:00", None, 422, "timezone"),
        ("GET", "/faces?camera_id=999999", None, 404, "camera not found"),
        (
            "GET",
            "/faces/timeline?since=2026-11-26T00:00:00Z&until=2026-11-25T00:00:00Z",
            None,
            422,
            "before until",
        ),
        (
            "GET",
            "/faces/timeline?since=2026-01-01T00:00:00Z&until=2026-11-25T00:00:00Z",
            None,
            422,
            "at most 31",
        ),
        ("GET", "/faces/timeline?face_id=999999", None, 404, "identity not found"),
        ("GET", "/faces/timeline?until=0001-01-01T00:00:00Z", None, 422, "too early"),
        (
            "GET",
            "/faces/detections/00000000-0000-0000-0000-000000000000/thumbnail.jpg",
            None,
            404,
            "not found",
        ),
    ],
)
def test_bad_input_is_a_clear_4xx(
    client: TestClient,
    alice: dict,
    settings: Settings,
    method: str,
    path: str,
    body: dict | None,
    code: int,
    says: str,
) -> None:
    scene = seen(client, settings, alice)
    path = path.replace("{a}", str(scene.a))
    if body is not None:
        body = {
            k: scene.a if v == "{a}" else scene.b_detections if v == "{b_detections}" else v
            for k, v in body.items()
        }
        if body.get("detection_ids") is scene.b_detections:
            # b alone: splitting off every detection of an identity leaves it empty
            path = path.replace(str(scene.a), str(scene.b))
    response = client.request(method, API + path, json=body, headers=alice)
    assert response.status_code == code, response.text
    assert says in response.text


def test_camera_face_recognition_switch(client: TestClient, alice: dict) -> None:
    created = client.post(
        f"{API}/cameras", json={"name": "Hall", "stream_url": "rtsp://cam.local/s"}, headers=alice
    )
    assert created.json()["face_recognition"] is False  # biometric data: opt in
    cid = created.json()["id"]
    on = client.patch(f"{API}/cameras/{cid}", json={"face_recognition": True}, headers=alice)
    assert on.status_code == 200 and on.json()["face_recognition"] is True
    bad = client.patch(f"{API}/cameras/{cid}", json={"face_recognition": None}, headers=alice)
    assert bad.status_code == 422
