"""Zones: CRUD per camera, polygon validation, and ownership."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

WALKWAY = [[0.0, 0.55], [1.0, 0.55], [1.0, 0.8], [0.0, 0.8]]


def _camera(client: TestClient, headers: dict) -> int:
    response = client.post(
        "/api/v1/cameras",
        json={"name": "Plaza", "stream_url": "rtsp://cam.local/s"},
        headers=headers,
    )
    return int(response.json()["id"])


def test_zone_crud(client: TestClient, alice: dict) -> None:
    camera_id = _camera(client, alice)
    base = f"/api/v1/cameras/{camera_id}/zones"
    created = client.post(
        base, json={"name": "Walkway", "polygon": WALKWAY, "min_dwell_seconds": 2}, headers=alice
    )
    assert created.status_code == 201, created.text
    zone = created.json()
    assert zone["polygon"] == [list(p) for p in WALKWAY]
    assert zone["intrusion_enabled"] is True and zone["min_dwell_seconds"] == 2

    assert client.get(base, headers=alice).json() == [zone]
    patched = client.patch(
        f"{base}/{zone['id']}", json={"intrusion_enabled": False}, headers=alice
    ).json()
    assert patched["intrusion_enabled"] is False
    assert patched["polygon"] == zone["polygon"]
    assert client.delete(f"{base}/{zone['id']}", headers=alice).status_code == 204
    assert client.get(f"{base}/{zone['id']}", headers=alice).status_code == 404
    # Deleting the camera deletes its zones.
    client.post(base, json={"name": "Again", "polygon": WALKWAY}, headers=alice)
    assert client.delete(f"/api/v1/cameras/{camera_id}", headers=alice).status_code == 204
    assert client.get(base, headers=alice).status_code == 404


@pytest.mark.parametrize(
    ("polygon", "fragment"),
    [
        ([[0, 0], [1, 1]], "at least 3"),
        ([[0, 0], [1.5, 0], [1, 1]], "outside"),
        ([[0, 0], [-0.1, 0], [1, 1]], "outside"),
        ([[0, 0], [1, 1], [1, 0], [0, 1]], "cross"),
        ([[0, 0], [0, 0], [1, 1]], "repeats"),
        ([[0, 0], [0.5, 0.5], [1, 1]], ""),
        ([[0, 0], [0.001, 0], [0.001, 0.001]], "below the minimum"),
        ([[i / 100, (i % 2) / 100] for i in range(70)], "maximum"),
        ("not a polygon", ""),
        ([[0, 0, 0], [1, 0, 0], [1, 1, 0]], ""),
        ([], "at least 3"),
    ],
)
def test_bad_polygons_are_refused(
    client: TestClient, alice: dict, polygon: object, fragment: str
) -> None:
    camera_id = _camera(client, alice)
    response = client.post(
        f"/api/v1/cameras/{camera_id}/zones",
        json={"name": "z", "polygon": polygon},
        headers=alice,
    )
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert detail[0]["loc"][:2] == ["body", "polygon"]
    assert fragment in " ".join(d["msg"] for d in detail)


@pytest.mark.parametrize(
    "body",
    [
        {"name": "z", "polygon": WALKWAY, "min_dwell_seconds": -1},
        {"name": "z", "polygon": WALKWAY, "min_dwell_seconds": 3601},
        {"name": "", "polygon": WALKWAY},
        {"name": "z"},
        {"name": "z", "polygon": WALKWAY, "camera_id": 5},
    ],
)
def test_bad_zone_fields_are_refused(client: TestClient, alice: dict, body: dict) -> None:
    camera_id = _camera(client, alice)
    response = client.post(f"/api/v1/cameras/{camera_id}/zones", json=body, headers=alice)
    assert response.status_code == 422


def test_another_users_zones_are_404_on_every_verb(
    client: TestClient, alice: dict, bob: dict
) -> None:
    camera_id = _camera(client, alice)
    base = f"/api/v1/cameras/{camera_id}/zones"
    zone = client.post(base, json={"name": "Walkway", "polygon": WALKWAY}, headers=alice).json()
    assert client.get(base, headers=bob).status_code == 404
    assert client.post(base, json={"name": "x", "polygon": WALKWAY}, headers=bob).status_code == 404
    for method in ("get", "delete"):
        assert getattr(client, method)(f"{base}/{zone['id']}", headers=bob).status_code == 404
    assert client.patch(f"{base}/{zone['id']}", json={"name": "y"}, headers=bob).status_code == 404
    # A zone id of another camera is not reachable through one's own camera either.
    bob_camera = _camera(client, bob)
    assert (
        client.get(f"/api/v1/cameras/{bob_camera}/zones/{zone['id']}", headers=bob).status_code
        == 404
    )
    assert client.get(f"{base}/{zone['id']}", headers=alice).status_code == 200


def test_motion_masks_use_the_same_polygon_rules(client: TestClient, alice: dict) -> None:
    response = client.post(
        "/api/v1/cameras",
        json={
            "name": "Masked",
            "stream_url": "rtsp://cam.local/s",
            "motion_masks": [[[0, 0], [1, 1], [1, 0], [0, 1]]],
        },
        headers=alice,
    )
    assert response.status_code == 422
    assert "motion mask 0" in response.json()["detail"][0]["msg"]
