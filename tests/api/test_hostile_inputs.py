"""Inputs that used to answer 500 get a clear 422, against the real server on both databases
(issue 8): non-finite numbers, lone surrogates, dates at the calendar's edges, non-canonical
ids, null in a zone PATCH; and a 422 never returns what was sent."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.fixtures.live_api import LiveAPI

WALKWAY = [[0.0, 0.55], [1.0, 0.55], [1.0, 0.8], [0.0, 0.8]]
NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"]
SURROGATES = ['"\\ud800"', '"a\\udfffb"', '"\\ud800\\u0041"']
EARLY = "0001-01-01T00:00:00+05:00"  # before year 1 in UTC
LATE = "9999-12-31T23:59:59-05:00"  # after year 9999 in UTC


def _raw_json(template: dict[str, Any], field_path: tuple[Any, ...], token: str) -> bytes:
    """`template` as JSON with the value at `field_path` replaced by the raw JSON `token`
    (json.dumps cannot write NaN-as-token nor lone surrogates as escapes reliably)."""
    marker = "@@TOKEN@@"
    body = json.loads(json.dumps(template))
    target = body
    for key in field_path[:-1]:
        target = target[key]
    target[field_path[-1]] = marker
    return json.dumps(body).replace(f'"{marker}"', token).encode()


def _camera(client: httpx.Client, headers: dict[str, str], name: str = "Gate") -> int:
    response = client.post(
        "/api/v1/cameras", json={"name": name, "stream_url": "rtsp://cam.local/s"}, headers=headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _zone(client: httpx.Client, headers: dict[str, str], camera_id: int) -> int:
    response = client.post(
        f"/api/v1/cameras/{camera_id}/zones",
        json={"name": "Walkway", "polygon": WALKWAY},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _assert_clean_422(response: httpx.Response, *secrets: str) -> None:
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, list) and detail
    for error in detail:
        assert set(error) == {"loc", "msg", "type"}  # no input, ctx or url
    for secret in secrets:
        assert secret not in response.text


CAMERA = {"name": "Cam", "stream_url": "rtsp://cam.local/s", "motion_masks": [WALKWAY]}
ZONE = {"name": "Zone", "polygon": WALKWAY, "min_dwell_seconds": 2}
NUMBER_FIELDS = [
    ("camera", "post", ("detect_fps",)),
    ("camera", "post", ("detect_width",)),
    ("camera", "post", ("motion_masks", 0, 1, 0)),
    ("camera", "post", ("name",)),
    ("camera", "patch", ("detect_fps",)),
    ("camera", "patch", ("record_retention_days",)),
    ("zone", "post", ("polygon", 2, 1)),
    ("zone", "post", ("min_dwell_seconds",)),
    ("zone", "patch", ("polygon", 0, 0)),
    ("zone", "patch", ("min_dwell_seconds",)),
    ("signup", "post", ("password",)),
    ("login", "post", ("email",)),
]


def _target(
    client: httpx.Client, headers: dict[str, str], kind: str, method: str
) -> tuple[str, dict[str, Any]]:
    if kind in ("signup", "login"):
        return f"/api/v1/auth/{kind}", {"email": "x@example.com", "password": "correct horse 42"}
    camera_id = _camera(client, headers)
    if kind == "camera":
        return (
            ("/api/v1/cameras", CAMERA)
            if method == "post"
            else (
                f"/api/v1/cameras/{camera_id}",
                CAMERA,
            )
        )
    base = f"/api/v1/cameras/{camera_id}/zones"
    return (
        (base, ZONE) if method == "post" else (f"{base}/{_zone(client, headers, camera_id)}", ZONE)
    )


@pytest.mark.parametrize(("kind", "method", "field_path"), NUMBER_FIELDS)
def test_non_finite_numbers_and_lone_surrogates_are_422(
    live_api: LiveAPI, kind: str, method: str, field_path: tuple[Any, ...]
) -> None:
    headers = live_api.login("hostile@example.com")
    with live_api.client() as client:
        path, template = _target(client, headers, kind, method)
        for token in NON_FINITE + SURROGATES:
            body = _raw_json(template, field_path, token)
            response = client.request(
                method, path, content=body, headers={**headers, "Content-Type": "application/json"}
            )
            _assert_clean_422(response)


@pytest.mark.parametrize("body", [b'{"name": "\xed\xa0\x80"}', b'{"n\\ud800": 1}'])
def test_raw_surrogate_bytes_and_surrogate_keys_are_422(live_api: LiveAPI, body: bytes) -> None:
    headers = live_api.login("raw@example.com")
    response = httpx.post(
        f"{live_api.url}/api/v1/cameras",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    _assert_clean_422(response)


def test_a_login_form_with_a_surrogate_is_a_4xx(live_api: LiveAPI) -> None:
    response = httpx.post(
        f"{live_api.url}/api/v1/auth/login",
        content=b"username=a%ED%A0%80@example.com&password=x%ED%A0%80",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code in (401, 422), response.text


def _cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/events", {"since": EARLY}),
        ("/api/v1/events", {"until": LATE}),
        ("/api/v1/events", {"since": EARLY, "until": LATE}),
        ("/api/v1/events", {"since": "2026-01-01T00:00:00"}),  # no time zone
        ("/api/v1/events", {"cursor": _cursor([EARLY, "0" * 36])}),
        ("/api/v1/events", {"cursor": _cursor([LATE, "0" * 36])}),
        ("/api/v1/events", {"cursor": _cursor(["2026-01-01T00:00:00+00:00", "\ud800" * 36])}),
        ("/api/v1/events", {"cursor": _cursor(["2026-01-01T00:00:00+00:00", "x' OR 1=1"])}),
        ("/api/v1/events", {"cursor": "\ud800"}),
        ("/api/v1/stats/hourly", {"since": EARLY}),
        ("/api/v1/stats/hourly", {"until": LATE}),
        ("/api/v1/stats/hourly", {"since": EARLY, "until": LATE}),
    ],
)
def test_calendar_edges_and_bad_cursors_are_422(
    live_api: LiveAPI, path: str, params: dict[str, str]
) -> None:
    headers = live_api.login("calendar@example.com")
    with live_api.client() as client:
        _camera(client, headers)
        query = "&".join(
            f"{k}={quote(v, safe='', errors='surrogatepass')}" for k, v in params.items()
        )
        response = client.get(f"{path}?{query}", headers=headers)
    _assert_clean_422(response)


def test_the_calendar_in_utc_is_still_accepted(live_api: LiveAPI) -> None:
    headers = live_api.login("utc@example.com")
    params = {"since": "0001-01-01T00:00:00+00:00", "until": "9999-12-31T23:59:59+00:00"}
    response = httpx.get(f"{live_api.url}/api/v1/events", params=params, headers=headers)
    assert response.status_code == 200
    assert response.json() == {"items": [], "next_cursor": None}


def _spellings(n: int) -> list[str]:
    """Other ways to write the id `n` that int() or a lax parser would take."""
    digits = str(n)
    arabic = "".join(chr(0x0660 + int(d)) for d in digits)
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in digits)
    return [
        f"{digits}.0",
        f"%20{digits}",
        f"{digits}%20",
        quote(arabic),
        quote(fullwidth),
        f"0{digits}",
        f"%2B{digits}",
        f"{digits}e0",
        f"{digits}_0"[: len(digits) + 2],
    ]


def test_ids_are_plain_ascii_digits(live_api: LiveAPI) -> None:
    headers = live_api.login("ids@example.com")
    with live_api.client() as client:
        camera_id = _camera(client, headers)
        zone_id = _zone(client, headers, camera_id)
        paths = []
        for spelled in _spellings(camera_id):
            paths += [
                f"/api/v1/cameras/{spelled}",
                f"/api/v1/cameras/{spelled}/zones",
                f"/api/v1/cameras/{spelled}/snapshot.jpg",
                f"/api/v1/events?camera_id={spelled}",
                f"/api/v1/stats/hourly?camera_id={spelled}",
            ]
        paths += [f"/api/v1/cameras/{camera_id}/zones/{z}" for z in _spellings(zone_id)]
        for path in paths:
            response = client.get(path, headers=headers)
            _assert_clean_422(response)
        # The canonical spelling still works.
        assert client.get(f"/api/v1/cameras/{camera_id}", headers=headers).status_code == 200
        path = f"/api/v1/cameras/{camera_id}/zones/{zone_id}"
        assert client.get(path, headers=headers).status_code == 200


@pytest.mark.parametrize("field", ["name", "polygon", "intrusion_enabled", "min_dwell_seconds"])
def test_zone_patch_with_null_is_422_like_cameras(live_api: LiveAPI, field: str) -> None:
    headers = live_api.login("null@example.com")
    with live_api.client() as client:
        camera_id = _camera(client, headers)
        zone_id = _zone(client, headers, camera_id)
        path = f"/api/v1/cameras/{camera_id}/zones/{zone_id}"
        response = client.patch(path, json={field: None}, headers=headers)
        _assert_clean_422(response)
        assert field in response.json()["detail"][0]["loc"]
        assert client.get(path, headers=headers).json()["name"] == "Walkway"


def test_422s_never_echo_what_was_sent(live_api: LiveAPI) -> None:
    headers = live_api.login("echo@example.com")
    secret = "hunter2-Sekret"
    with live_api.client() as client:
        cases = [
            ("/api/v1/cameras", {"name": "c", "stream_url": f"http://admin:{secret}@cam/s"}),
            ("/api/v1/cameras", {"name": "c", "stream_url": f"rtsp://admin:{secret}@cam/s#f"}),
            ("/api/v1/cameras", {"name": "c", "stream_url": f"rtsp://cam/s?password={secret} x"}),
            ("/api/v1/cameras", {"name": secret * 10, "stream_url": "rtsp://cam/s"}),
            ("/api/v1/auth/signup", {"email": f"{secret}@", "password": secret}),
            ("/api/v1/auth/login", {"email": "", "password": secret}),
        ]
        for path, body in cases:
            response = client.post(path, json=body, headers=headers)
            _assert_clean_422(response, secret)
        big = "q" * 60_000  # under the body limit, so it is parsed and refused
        response = client.post(
            "/api/v1/cameras", json={"name": big, "stream_url": "rtsp://cam/s"}, headers=headers
        )
        _assert_clean_422(response, "q" * 100)
    assert secret not in live_api.logs()


def test_query_string_credentials_are_masked_in_responses_and_logs(live_api: LiveAPI) -> None:
    headers = live_api.login("query@example.com")
    secret = "Qs3cret-pw"
    url = f"rtsp://cam.local:554/live?user=admin&password={secret}&channel=1"
    with live_api.client() as client:
        created = client.post(
            "/api/v1/cameras", json={"name": "Query", "stream_url": url}, headers=headers
        )
        assert created.status_code == 201
        camera = created.json()
        assert camera["stream_url"] == "rtsp://cam.local:554/live?user=admin&password=***&channel=1"
        responses = [
            client.get(f"/api/v1/cameras/{camera['id']}", headers=headers),
            client.get("/api/v1/cameras", headers=headers),
            client.patch(
                f"/api/v1/cameras/{camera['id']}", json={"detect_stream_url": url}, headers=headers
            ),
        ]
    for response in responses:
        assert response.status_code == 200
        assert secret not in response.text
    assert secret not in live_api.logs()
