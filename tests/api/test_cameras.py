"""Camera CRUD, stream URL validation, credential masking and ownership."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from vigil.logs import configure_logging

SECRET = "S3cr3t-camera-pass"
URL = f"rtsp://admin:{SECRET}@192.168.1.20:554/Streaming/Channels/101"


def _create(client: TestClient, headers: dict, **fields) -> dict:
    body = {"name": "Front door", "stream_url": URL, **fields}
    response = client.post("/api/v1/cameras", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_crud_round_trip(client: TestClient, alice: dict) -> None:
    camera = _create(client, alice, detect_stream_url="rtsp://10.0.0.5/sub", detect_fps=3)
    assert camera["status"] == "unknown"
    assert camera["enabled"] is True and camera["detect_fps"] == 3
    assert camera["live_url"] == f"/api/v1/cameras/{camera['id']}/live/index.m3u8"

    fetched = client.get(f"/api/v1/cameras/{camera['id']}", headers=alice).json()
    assert fetched == camera

    patched = client.patch(
        f"/api/v1/cameras/{camera['id']}",
        json={"name": "Back door", "enabled": False, "detect_stream_url": None},
        headers=alice,
    )
    assert patched.status_code == 200
    assert patched.json()["name"] == "Back door"
    assert patched.json()["enabled"] is False
    assert patched.json()["detect_stream_url"] is None
    assert patched.json()["updated_at"] >= camera["updated_at"]

    assert client.delete(f"/api/v1/cameras/{camera['id']}", headers=alice).status_code == 204
    assert client.get(f"/api/v1/cameras/{camera['id']}", headers=alice).status_code == 404


def test_list_is_paginated_and_ordered(client: TestClient, alice: dict) -> None:
    ids = [_create(client, alice, name=f"cam {i}")["id"] for i in range(5)]
    page1 = client.get("/api/v1/cameras?limit=2", headers=alice).json()
    page3 = client.get("/api/v1/cameras?limit=2&offset=4", headers=alice).json()
    assert page1["total"] == 5 and page1["limit"] == 2
    assert [c["id"] for c in page1["items"]] == ids[:2]
    assert [c["id"] for c in page3["items"]] == ids[4:]
    for bad in ("limit=0", "limit=201", "offset=-1", "limit=abc"):
        assert client.get(f"/api/v1/cameras?{bad}", headers=alice).status_code == 422


def test_duplicate_name_is_conflict(client: TestClient, alice: dict) -> None:
    _create(client, alice)
    other = _create(client, alice, name="Garage")
    response = client.post(
        "/api/v1/cameras", json={"name": "Front door", "stream_url": URL}, headers=alice
    )
    assert response.status_code == 409
    rename = client.patch(
        f"/api/v1/cameras/{other['id']}", json={"name": "Front door"}, headers=alice
    )
    assert rename.status_code == 409


BAD_URLS = [
    ("http://cam.local/stream", "scheme"),
    ("https://cam.local/stream", "scheme"),
    ("rtmp://cam.local/live", "scheme"),
    ("file:///etc/passwd", "scheme"),
    ("cam.local:554/stream", "scheme"),
    ("rtsp://", "host"),
    ("rtsp:///stream", "host"),
    ("rtsp://:554/stream", "host"),
    ("rtsp://user:pass@/stream", "host"),
    ("rtsp://cam.local:0/stream", "port"),
    ("rtsp://cam.local:65536/stream", "port"),
    ("rtsp://cam.local:-1/stream", "port"),
    ("rtsp://cam.local:abc/stream", "port"),
    ("rtsp://cam.local:99999999999/stream", "port"),
    ("rtsp://cam .local/stream", "whitespace"),
    ("rtsp://cam.local/my stream", "whitespace"),
    ("rtsp://cam.local/stream\n", "whitespace"),
    ("rtsp://cam.local/stream\r\nX-Injected: 1", "whitespace"),
    ("rtsp://cam.local/\x00stream", "whitespace"),
    ("rtsp://cam.local/\tstream", "whitespace"),
    (" rtsp://cam.local/stream", "whitespace"),
    ("rtsp://cam.local/" + "a" * 2100, "2048"),
    ("rtsp://-bad-.local/stream", "host"),
    ("rtsp://cam..local/stream", "host"),
    ("rtsp://cam.local/stream#frag", "fragment"),
    ("rtsp://[::1/stream", "malformed"),
    ("", "non-empty"),
]


@pytest.mark.parametrize(("url", "reason"), BAD_URLS)
def test_bad_stream_urls_are_refused_naming_the_field(
    client: TestClient, alice: dict, url: str, reason: str
) -> None:
    for field in ("stream_url", "detect_stream_url"):
        body = {"name": "x", "stream_url": "rtsp://ok.local/s", field: url}
        response = client.post("/api/v1/cameras", json=body, headers=alice)
        assert response.status_code == 422, (field, url, response.text)
        errors = response.json()["detail"]
        assert any(field in err["loc"] for err in errors), errors
        assert reason in " ".join(err["msg"] for err in errors if field in err["loc"]), errors


@pytest.mark.parametrize(
    "url",
    [
        "rtsp://cam.local/stream",
        "rtsps://cam.local:322/stream",
        "rtsp://192.168.0.10:554/ch01",
        "rtsp://[fe80::1]:554/live",
        "rtsp://user:p%40ss@cam.local/",
        "RTSP://CAM.local/stream",
        "rtsp://cam_1.local/h264?channel=1&subtype=0",
    ],
)
def test_good_stream_urls_are_accepted(client: TestClient, alice: dict, url: str) -> None:
    _create(client, alice, name=url[-30:], stream_url=url)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "", "stream_url": URL},
        {"name": "a" * 101, "stream_url": URL},
        {"name": "bad\nname", "stream_url": URL},
        {"name": "ok", "stream_url": URL, "detect_fps": 0},
        {"name": "ok", "stream_url": URL, "detect_fps": 31},
        {"name": "ok", "stream_url": URL, "detect_width": 10},
        {"name": "ok", "stream_url": URL, "record_retention_days": 0},
        {"name": "ok", "stream_url": URL, "motion_masks": [[[0, 0], [1, 1]]]},
        {"name": "ok", "stream_url": URL, "motion_masks": [[[0, 0], [2, 0], [1, 1]]]},
        {"name": "ok", "stream_url": URL, "owner_id": 1},
        {"name": "ok"},
        {"name": "ok", "stream_url": 42},
    ],
)
def test_bad_camera_fields_are_refused(client: TestClient, alice: dict, body: dict) -> None:
    response = client.post("/api/v1/cameras", json=body, headers=alice)
    assert response.status_code == 422, response.text


def test_patch_refuses_null_for_required_fields(client: TestClient, alice: dict) -> None:
    camera = _create(client, alice)
    for field in ("name", "stream_url", "enabled", "detect_fps"):
        response = client.patch(
            f"/api/v1/cameras/{camera['id']}", json={field: None}, headers=alice
        )
        assert response.status_code == 422, field
        assert field in response.json()["detail"][0]["loc"]


def test_credentials_are_masked_in_every_response_and_log(
    client: TestClient, alice: dict, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging("DEBUG", json=True)
    camera = _create(client, alice, detect_stream_url=f"rtsp://viewer:{SECRET}@10.0.0.2/sub")
    responses = [
        client.get(f"/api/v1/cameras/{camera['id']}", headers=alice),
        client.get("/api/v1/cameras", headers=alice),
        client.patch(f"/api/v1/cameras/{camera['id']}", json={"enabled": False}, headers=alice),
        client.patch(f"/api/v1/cameras/{camera['id']}", json={"stream_url": URL}, headers=alice),
        client.get("/openapi.json"),
    ]
    logging.getLogger().handlers.clear()
    logs = capsys.readouterr().err
    assert camera["stream_url"] == "rtsp://admin:***@192.168.1.20:554/Streaming/Channels/101"
    assert camera["detect_stream_url"] == "rtsp://viewer:***@10.0.0.2/sub"
    for response in responses:
        assert response.status_code == 200
        assert SECRET not in response.text
    assert '"camera_created"' in logs
    assert SECRET not in logs


def test_another_users_camera_is_404_on_every_verb(
    client: TestClient, alice: dict, bob: dict
) -> None:
    camera = _create(client, alice)
    path = f"/api/v1/cameras/{camera['id']}"
    assert client.get(path, headers=bob).status_code == 404
    assert client.patch(path, json={"name": "mine"}, headers=bob).status_code == 404
    assert client.delete(path, headers=bob).status_code == 404
    assert client.get(f"{path}/health", headers=bob).status_code == 404
    assert client.get("/api/v1/cameras", headers=bob).json()["total"] == 0
    # Alice's camera is untouched, and a missing id looks the same as someone else's.
    assert client.get(path, headers=alice).json()["name"] == "Front door"
    assert (
        client.get("/api/v1/cameras/999999", headers=bob).json()
        == client.get(path, headers=bob).json()
    )


def test_unauthenticated_requests_are_401(client: TestClient) -> None:
    for method, path in [
        ("get", "/api/v1/cameras"),
        ("post", "/api/v1/cameras"),
        ("get", "/api/v1/cameras/1"),
        ("patch", "/api/v1/cameras/1"),
        ("delete", "/api/v1/cameras/1"),
    ]:
        assert getattr(client, method)(path).status_code == 401


@pytest.mark.parametrize("camera_id", ["0", "-1", "abc", "99999999999999999999", "1.5"])
def test_bad_camera_ids_are_422(client: TestClient, alice: dict, camera_id: str) -> None:
    assert client.get(f"/api/v1/cameras/{camera_id}", headers=alice).status_code == 422
