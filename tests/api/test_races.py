"""Check-then-insert races, fired as real parallel requests at the real server on both
databases (issue 8): camera names stay unique per owner and the zone limit holds, because the
database enforces them rather than a check before the insert. Bursts larger than the database
pool must not starve each other either (they used to end in pool-timeout 500s)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx

from api.routers.zones import MAX_ZONES_PER_CAMERA
from tests.fixtures.live_api import LiveAPI

WALKWAY = [[0.0, 0.55], [1.0, 0.55], [1.0, 0.8], [0.0, 0.8]]


def _fire(
    api: LiveAPI, count: int, request: Callable[[httpx.Client, int], httpx.Response]
) -> list[int]:
    """`count` requests released together from as many threads, each on its own connection."""
    start = threading.Barrier(count)

    def one(index: int) -> int:
        with api.client() as client:
            client.get("/healthz")  # connect first, so the barrier releases requests, not dials
            start.wait()
            return request(client, index).status_code

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))


def test_parallel_creates_of_one_camera_name_make_one_camera(live_api: LiveAPI) -> None:
    headers = live_api.login("race@example.com")
    other = live_api.login("other@example.com")
    body = {"name": "Front door", "stream_url": "rtsp://cam.local/s"}
    statuses = _fire(
        live_api, 12, lambda c, _i: c.post("/api/v1/cameras", json=body, headers=headers)
    )
    assert Counter(statuses) == {201: 1, 409: 11}
    cameras = httpx.get(f"{live_api.url}/api/v1/cameras", headers=headers).json()
    assert [c["name"] for c in cameras["items"]] == ["Front door"]
    # Per owner: another user may use the same name.
    assert httpx.post(f"{live_api.url}/api/v1/cameras", json=body, headers=other).status_code == 201


def test_parallel_renames_to_one_name_leave_it_unique(live_api: LiveAPI) -> None:
    headers = live_api.login("rename@example.com")
    ids = []
    with live_api.client() as client:
        for index in range(8):
            body = {"name": f"cam {index}", "stream_url": "rtsp://cam.local/s"}
            ids.append(client.post("/api/v1/cameras", json=body, headers=headers).json()["id"])
    statuses = _fire(
        live_api,
        8,
        lambda c, i: c.patch(f"/api/v1/cameras/{ids[i]}", json={"name": "Yard"}, headers=headers),
    )
    assert Counter(statuses) == {200: 1, 409: 7}
    names = [
        c["name"]
        for c in httpx.get(f"{live_api.url}/api/v1/cameras", headers=headers).json()["items"]
    ]
    assert names.count("Yard") == 1


def test_parallel_zone_creates_stop_at_the_limit(live_api: LiveAPI) -> None:
    headers = live_api.login("zones@example.com")
    with live_api.client() as client:
        camera = client.post(
            "/api/v1/cameras",
            json={"name": "Plaza", "stream_url": "rtsp://cam.local/s"},
            headers=headers,
        ).json()
    base = f"/api/v1/cameras/{camera['id']}/zones"
    extra = 16
    statuses = _fire(
        live_api,
        MAX_ZONES_PER_CAMERA + extra,
        lambda c, i: c.post(base, json={"name": f"z{i}", "polygon": WALKWAY}, headers=headers),
    )
    assert Counter(statuses) == {201: MAX_ZONES_PER_CAMERA, 409: extra}
    zones = httpx.get(f"{live_api.url}{base}", headers=headers).json()
    assert len(zones) == MAX_ZONES_PER_CAMERA
