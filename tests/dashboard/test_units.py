"""The dashboard's pure parts: parsing, drawing, counting, formatting, HTML, the command line."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from PIL import Image

from dashboard.client import ApiError
from dashboard.formatting import ago, duration, md, status_badge
from dashboard.forms import camera_payload
from dashboard.media import LiveTile, event_media_html, live_grid_html, with_token
from dashboard.models import Camera, Event, HourlyStat
from dashboard.stats import hourly_from_events, to_frame
from dashboard.zone_preview import DRAFT, PointsError, format_points, parse_points, render_preview
from vigil.cli.dashboard import streamlit_command

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def _event(minutes: int, kind: str = "intrusion", camera_id: int = 1, **extra: object) -> Event:
    fields = {
        "id": f"{minutes:08d}-0000-0000-0000-000000000000",
        "camera_id": camera_id,
        "type": kind,
        "status": "closed",
        "start": T0 + timedelta(minutes=minutes),
        "end": T0 + timedelta(minutes=minutes, seconds=20),
        "confidence": 0.9,
        "frames": 10,
    }
    return Event.model_validate(fields | extra)


def _camera(**extra: object) -> Camera:
    fields = {
        "id": 3, "name": "Gate", "stream_url": "rtsp://admin:***@10.0.0.2/s",
        "detect_stream_url": None, "enabled": True, "detect_fps": 5.0, "detect_width": 640,
        "face_mode": False, "record_retention_days": 7, "clip_retention_days": 30,
        "snapshot_retention_days": 7, "status": "online", "created_at": T0, "updated_at": T0,
        "live_url": "/api/v1/cameras/3/live/index.m3u8",
        "snapshot_url": "/api/v1/cameras/3/snapshot.jpg",
    }  # fmt: skip
    return Camera.model_validate(fields | extra)


def test_points_are_read_one_pair_per_line() -> None:
    assert parse_points("0.1, 0.2\n\n0.5 0.2\n0.5;0.9\n") == [(0.1, 0.2), (0.5, 0.2), (0.5, 0.9)]
    assert parse_points(format_points([(0.25, 0.5), (1.0, 0.0)])) == [(0.25, 0.5), (1.0, 0.0)]
    for text, message in (
        ("0.1, 0.2\n0.3", "line 2: write two numbers"),
        ("a, b", "line 1: 'a, b' is not two numbers"),
        ("0.1, 1.5", "line 1: x and y go from 0 to 1"),
    ):
        with pytest.raises(PointsError, match=message):
            parse_points(text)


def test_the_preview_draws_the_draft_over_the_snapshot() -> None:
    snapshot = io.BytesIO()
    Image.new("RGB", (320, 180), (0, 0, 0)).save(snapshot, format="JPEG")
    draft = [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)]
    image = render_preview(
        snapshot.getvalue(), [("Old", [(0.0, 0.0), (0.1, 0.0), (0.1, 0.1)])], draft
    )
    assert image.size == (960, 540)
    inside = image.getpixel((480, 300))
    assert isinstance(inside, tuple) and inside[0] > 50 and inside[2] < 30  # tinted yellow
    outline = image.getpixel((480, round(0.2 * 540)))
    assert outline == pytest.approx(DRAFT, abs=40)
    # No snapshot (or a broken one): a grey frame that says so, same coordinates.
    assert render_preview(None, [], draft).size == (960, 540)
    assert render_preview(b"not a jpeg", [], []).size == (960, 540)


def test_events_are_counted_per_camera_and_hour() -> None:
    events = [_event(5), _event(10, "motion"), _event(70), _event(75, camera_id=2)]
    stats = hourly_from_events(events)
    rows = [
        (s.camera_id, s.hour.hour, s.intrusion_events, s.motion_events, s.detections) for s in stats
    ]
    assert rows == [(1, 12, 1, 1, 20), (1, 13, 1, 0, 10), (2, 13, 1, 0, 10)]


def test_the_frame_has_every_hour_and_local_times() -> None:
    stat = HourlyStat(camera_id=1, hour=T0, detections=4, intrusion_events=1, motion_events=2)
    frame = to_frame(
        [stat], {1: "Gate", 2: "Yard"}, ZoneInfo("Europe/Paris"), T0, T0 + timedelta(hours=3)
    )
    assert len(frame) == 6  # 3 hours x 2 cameras, quiet hours as zeros
    assert frame["events"].sum() == 3 and frame["detections"].sum() == 4
    gate = frame[frame["camera"] == "Gate"].iloc[0]
    assert (gate["time"].hour, gate["hour_of_day"]) == (13, 13)  # 12:00 UTC is 13:00 in Paris
    assert to_frame([stat], {}, UTC, T0, T0 + timedelta(hours=1)).empty


def test_a_camera_edit_sends_only_changes_and_never_the_mask() -> None:
    camera = _camera()
    values = {
        "name": " Gate ", "stream_url": camera.stream_url, "detect_stream_url": "",
        "enabled": False, "detect_fps": 5.0, "detect_width": 640, "face_mode": False,
        "record_retention_days": 7, "clip_retention_days": 30, "snapshot_retention_days": 7,
    }  # fmt: skip
    assert camera_payload(values, camera) == {"enabled": False}
    with pytest.raises(ApiError) as masked:
        camera_payload(values | {"stream_url": "rtsp://admin:***@10.0.0.3/s"}, camera)
    assert "stream_url" in masked.value.fields
    new = camera_payload(values | {"stream_url": "rtsp://10.0.0.3/s"}, None)
    assert "detect_stream_url" not in new and new["name"] == "Gate"
    cleared = camera_payload(values, _camera(detect_stream_url="rtsp://10.0.0.2/sub"))
    assert cleared == {"detect_stream_url": None, "enabled": False}


def test_api_errors_name_their_field() -> None:
    body = {
        "detail": [
            {"loc": ["body", "stream_url"], "msg": "Value error, must include a host"},
            {"loc": ["body", "polygon", 2, 0], "msg": "Input should be a valid number"},
            {"loc": ["body"], "msg": "Field required"},
        ]
    }
    error = ApiError.from_response(httpx.Response(422, json=body))
    assert error.fields == {
        "stream_url": "must include a host",
        "polygon": "point 2: Input should be a valid number",
        "": "Field required",
    }
    throttled = httpx.Response(429, json={"detail": "slow down"}, headers={"Retry-After": "30"})
    assert ApiError.from_response(throttled).retry_after == 30
    assert ApiError.from_response(httpx.Response(502, text="<html>")).message == (
        "the API answered HTTP 502"
    )


def test_media_html_escapes_names_and_signs_urls() -> None:
    tile = LiveTile(1, '<img src=x onerror="alert(1)">', "online", "/live/1.m3u8", "/snap/1.jpg")
    html = live_grid_html([tile], 'to"ken</script>', columns=2)
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert '</script>"' not in html and 'to\\"ken<\\/script>' in html
    assert "repeat(2, minmax(0, 1fr))" in html
    with_clip = _event(0, clip_url="/api/v1/events/e/clip", snapshot_url="/api/v1/events/e/s.jpg")
    video = event_media_html(with_clip, "t k", "Intrusion <b>")
    assert 'src="/api/v1/events/e/clip?access_token=t%20k"' in video
    assert 'poster="/api/v1/events/e/s.jpg?access_token=t%20k"' in video
    assert "Intrusion &lt;b&gt;" in video
    assert "No picture" in event_media_html(_event(0), "t", "x")
    assert with_token("/a?b=1", "t") == "/a?b=1&access_token=t"


def test_formatting() -> None:
    assert ago(None, T0) == "never"
    assert ago(T0 - timedelta(seconds=2), T0) == "just now"
    assert ago(T0 - timedelta(seconds=42), T0) == "42 s ago"
    assert ago(T0 - timedelta(minutes=5, seconds=3), T0) == "5 min ago"
    assert ago(T0 - timedelta(days=2, hours=1), T0) == "2 days ago"
    assert duration(3725) == "1 h 02 min" and duration(65) == "1 min 05 s" and duration(4) == "4 s"
    assert status_badge("error") == ("error", "red")
    assert status_badge("online", enabled=False) == ("disabled", "gray")
    assert md("Porch *1* [x]:red") == "Porch \\*1\\* \\[x\\]\\:red"


def test_the_dashboard_command_is_headless_and_quiet() -> None:
    argv = streamlit_command("192.168.1.5", 8600, production=True)
    assert argv[1:4] == ["-m", "streamlit", "run"] and argv[4].endswith("dashboard/server.py")
    flags = dict(zip(argv[5::2], argv[6::2], strict=True))
    assert flags["--server.address"] == "192.168.1.5" and flags["--server.port"] == "8600"
    assert flags["--server.headless"] == "true"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert flags["--client.showErrorDetails"] == "none"
