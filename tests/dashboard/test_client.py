"""dashboard.client against the real API process, and the dashboard's media passthrough against
the real dashboard process (both from the session's stack; no browser)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from dashboard.client import ApiError, EventFilter, VigilClient
from dashboard.passthrough import MediaPassthrough
from tests.dashboard.conftest import PASSWORD, Stack, new_email
from tests.dashboard.footage import Footage
from vigil.embedded.process import free_port
from vigil.stats import write_hourly_stats


@pytest.fixture
def api(stack: Stack) -> VigilClient:
    anonymous = VigilClient.connect(stack.api_url)
    email = new_email("client")
    anonymous.signup(email, PASSWORD)
    return anonymous.with_token(anonymous.login(email, PASSWORD).access_token)


def test_auth_errors_read_well(stack: Stack) -> None:
    client = VigilClient.connect(stack.api_url)
    with pytest.raises(ApiError) as weak:
        client.signup(new_email("weak"), "short")
    assert weak.value.status == 422
    assert weak.value.fields == {"password": "password must be at least 10 characters long"}
    with pytest.raises(ApiError) as wrong:
        client.login(new_email("nobody"), "whatever it is")
    assert (wrong.value.status, wrong.value.message) == (401, "incorrect email or password")
    with pytest.raises(ApiError) as anonymous:
        client.me()
    assert anonymous.value.status == 401


def test_cameras_round_trip_and_field_errors(api: VigilClient) -> None:
    assert api.all_cameras() == []
    with pytest.raises(ApiError) as refused:
        api.create_camera({"name": "Bad", "stream_url": "http://10.0.0.2/live"})
    assert refused.value.fields == {"stream_url": "must use the rtsp:// or rtsps:// scheme"}

    created = [
        api.create_camera({"name": f"Cam {i}", "stream_url": f"rtsp://u:pw{i}@10.0.0.{i}/s"})
        for i in range(3)
    ]
    assert created[0].stream_url == "rtsp://u:***@10.0.0.0/s"
    first_page = api.cameras(limit=2)
    assert (first_page.total, len(first_page.items)) == (3, 2)
    assert [c.name for c in api.all_cameras()] == ["Cam 0", "Cam 1", "Cam 2"]

    with pytest.raises(ApiError) as taken:
        api.create_camera({"name": "Cam 1", "stream_url": "rtsp://10.0.0.9/s"})
    assert (taken.value.status, taken.value.message) == (409, "a camera with this name exists")
    renamed = api.update_camera(created[0].id, {"name": "Porch", "enabled": False})
    assert (renamed.name, renamed.enabled) == ("Porch", False)
    assert api.camera_health(created[0].id).total == 0
    assert api.camera_snapshot(created[0].id) is None  # no picture yet: None, not an error
    api.delete_camera(created[0].id)
    with pytest.raises(ApiError) as gone:
        api.camera(created[0].id)
    assert gone.value.status == 404


def test_zones_and_polygon_errors(api: VigilClient) -> None:
    camera = api.create_camera({"name": "Yard", "stream_url": "rtsp://10.0.0.5/s"})
    square = [[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]]
    zone = api.create_zone(camera.id, {"name": "Lawn", "polygon": square})
    assert api.zones(camera.id) == [zone]
    bow_tie = [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]
    with pytest.raises(ApiError) as crossed:
        api.update_zone(camera.id, zone.id, {"polygon": bow_tie})
    assert "crosses the edge" in crossed.value.fields["polygon"]
    assert api.update_zone(camera.id, zone.id, {"min_dwell_seconds": 3}).min_dwell_seconds == 3
    api.delete_zone(camera.id, zone.id)
    assert api.zones(camera.id) == []


def test_events_pages_follow_the_cursor(api: VigilClient, stack: Stack, footage: Footage) -> None:
    camera = api.create_camera({"name": "Hall", "stream_url": "rtsp://10.0.0.6/s"})
    start = datetime.now(UTC) - timedelta(hours=1)
    ids = [
        footage.add_event(
            stack.database_url, stack.data_dir, camera.id, start=start - timedelta(minutes=i)
        )
        for i in range(5)
    ]
    only_hall = EventFilter(camera_id=camera.id)
    page = api.events(only_hall, limit=2)
    assert [e.id for e in page.items] == ids[:2] and page.next_cursor
    assert [e.id for e in api.iter_events(only_hall, cap=100)] == ids
    assert [e.id for e in api.iter_events(only_hall, cap=3)] == ids[:3]
    assert api.events(EventFilter(camera_id=camera.id, type="motion")).items == []
    event = api.event(ids[0])
    assert event.clip_url == f"/api/v1/events/{ids[0]}/clip"


def test_hourly_stats_come_from_the_lake(api: VigilClient, stack: Stack) -> None:
    camera = api.create_camera({"name": "Till", "stream_url": "rtsp://10.0.0.7/s"})
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    row = {
        "camera_id": camera.id, "hour_start": hour, "frames": 10, "detector_frames": 5,
        "detections": 12, "tracks": 2, "max_persons": 1, "faces": 0, "events": 1,
        "intrusion_events": 1, "motion_events": 0, "computed_at": datetime.now(UTC),
    }  # fmt: skip
    write_hourly_stats(stack.data_dir / "lake", row)
    stats = api.hourly_stats(hour - timedelta(hours=1), hour + timedelta(hours=1))
    assert stats is not None
    assert [(s.camera_id, s.hour, s.detections) for s in stats] == [(camera.id, hour, 12)]


def test_hourly_stats_absent_from_an_older_api() -> None:
    # The one branch a running API cannot show any more: an API without the endpoint.
    def older_api(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"detail": "Not Found"})

    http = httpx.Client(base_url="http://api", transport=httpx.MockTransport(older_api))
    now = datetime.now(UTC)
    assert VigilClient(http, "token").hourly_stats(now - timedelta(hours=1), now) is None


def test_an_unreachable_api_is_a_clear_error() -> None:
    client = VigilClient.connect(f"http://127.0.0.1:{free_port()}")
    with pytest.raises(ApiError) as unreachable:
        client.login("ana@example.com", PASSWORD)
    assert unreachable.value.status == 0
    assert "cannot reach the Vigil API at http://127.0.0.1:" in unreachable.value.message


def test_passthrough_streams_ranges_and_nothing_else(
    api: VigilClient, stack: Stack, footage: Footage
) -> None:
    camera = api.create_camera({"name": "Shed", "stream_url": "rtsp://10.0.0.8/s"})
    event_id = footage.add_event(stack.database_url, stack.data_dir, camera.id)
    footage.publish_live(stack.media_dir, camera.id)
    auth = {"Authorization": f"Bearer {api.token}"}
    clip = footage.clip.read_bytes()
    url = f"{stack.dashboard_url}/api/v1/events/{event_id}/clip"

    part = httpx.get(url, headers={**auth, "Range": "bytes=100-199"})
    assert part.status_code == 206
    assert part.headers["content-range"] == f"bytes 100-199/{len(clip)}"
    assert part.content == clip[100:200]
    assert httpx.get(url, params={"access_token": api.token}).content == clip

    # The playlist as hls.js gets it (header) and as Safari would (query: segment URIs signed).
    playlist = f"{stack.dashboard_url}/api/v1/cameras/{camera.id}/live/index.m3u8"
    assert "seg_0.ts\n" in httpx.get(playlist, headers=auth).text
    signed = httpx.get(playlist, params={"access_token": api.token}).text
    assert f"seg_0.ts?access_token={api.token}" in signed

    # Only media GETs go through: not the rest of the API, not other verbs.
    assert httpx.get(f"{stack.dashboard_url}/api/v1/cameras", headers=auth).status_code == 404
    assert httpx.delete(url, headers=auth).status_code == 405


def test_passthrough_without_an_api_says_so() -> None:
    passthrough = MediaPassthrough(f"http://127.0.0.1:{free_port()}")
    app = Starlette(routes=passthrough.routes())

    async def fetch() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as client:
            response = await client.get("/api/v1/cameras/1/snapshot.jpg")
        await passthrough.aclose()
        return response

    # In a thread of its own: Playwright's sync API may already run an event loop in this one.
    with ThreadPoolExecutor(1) as pool:
        response = pool.submit(asyncio.run, fetch()).result()
    assert response.status_code == 502
    assert response.json() == {"detail": "the Vigil API is not reachable"}
