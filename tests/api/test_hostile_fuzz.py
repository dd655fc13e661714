"""Hypothesis fuzzing with the values that broke the API before (issue 8): NaN, infinities,
numbers that overflow a double, lone surrogates, dates at the calendar's edges, huge integers,
odd Unicode. Every field of every request body (POST, PATCH) and every query parameter of
every operation gets them, on SQLite and PostgreSQL; the answer is never a 5xx.

The operations come from the OpenAPI document, so a new route is fuzzed (or this test fails
until it has a valid example body below).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import signup_and_login

EXAMPLES = int(os.environ.get("VIGIL_FUZZ_HOSTILE_EXAMPLES", "60"))
WALKWAY = [[0.0, 0.55], [1.0, 0.55], [1.0, 0.8], [0.0, 0.8]]
VALID_BODIES: dict[str, dict[str, Any]] = {
    "POST /api/v1/auth/signup": {"email": "new@example.com", "password": "correct horse 42"},
    "POST /api/v1/auth/login": {"email": "fuzz@example.com", "password": "correct horse 42"},
    "POST /api/v1/cameras": {
        "name": "Fuzzed",
        "stream_url": "rtsp://cam.local/s",
        "detect_stream_url": "rtsp://cam.local/sub",
        "detect_fps": 5,
        "detect_width": 640,
        "motion_masks": [WALKWAY],
        "record_retention_days": 7,
    },
    "PATCH /api/v1/cameras/{camera_id}": {"name": "Renamed", "detect_fps": 2},
    "POST /api/v1/cameras/{camera_id}/zones": {
        "name": "Fuzzed zone",
        "polygon": WALKWAY,
        "min_dwell_seconds": 1.5,
    },
    "PATCH /api/v1/cameras/{camera_id}/zones/{zone_id}": {"polygon": WALKWAY},
    "PUT /api/v1/cameras/{camera_id}/alerts": {
        "kinds": {"intrusion": {"enabled": True, "cooldown_seconds": 120}},
        "recipients": ["ana@example.com"],
        "quiet_hours": [{"start": "09:00", "end": "17:30"}],
        "time_zone": "Europe/Lisbon",
        "min_confidence": 0.6,
        "webhook_url": "https://ntfy.example.com/vigil",
    },
    "POST /api/v1/users": {"email": "made@example.com", "password": "correct horse 42"},
    "PATCH /api/v1/faces/{face_id}": {"label": "Ana"},
    "POST /api/v1/faces/{face_id}/merge": {"into": 2},
    "POST /api/v1/faces/{face_id}/split": {
        "detection_ids": ["00000000-0000-0000-0000-000000000000"]
    },
}

CALENDAR_EDGES = [
    "0001-01-01T00:00:00+05:00",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59-05:00",
    "9999-12-31T23:59:59.999999+00:00",
    "0000-00-00T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-01-01T24:00:00Z",
    "2026-01-01T00:00:00+24:00",
    "2026-01-01T00:00:00",
    "1970-01-01T00:00:00Z",
]
SPECIAL_NUMBERS = [math.nan, math.inf, -math.inf, 1e308, -1e308, 5e-324, -0.0]
HUGE_INTS = [2**31, -(2**31) - 1, 2**63, -(2**63) - 1, 10**400]
SURROGATE_TEXT = st.text(
    alphabet=st.sampled_from(["\ud800", "\udfff", "a", "\x00", "\u0661", "\u202e", "\ufeff"]),
    min_size=1,
    max_size=8,
)
SCALARS = st.one_of(
    st.sampled_from(SPECIAL_NUMBERS),
    st.sampled_from(HUGE_INTS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    SURROGATE_TEXT,
    st.sampled_from(CALENDAR_EDGES),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
)
# Structures too: points, polygons and lists of polygons with hostile members.
HOSTILE = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(SURROGATE_TEXT, inner, max_size=3),
    max_leaves=12,
)
QUERY_VALUES = st.one_of(
    st.sampled_from(CALENDAR_EDGES),
    st.sampled_from(["nan", "NaN", "inf", "-Infinity", "1e400", "1.0", " 1", "+1", "\u0661"]),
    st.sampled_from([str(n) for n in HUGE_INTS]),
    SURROGATE_TEXT,
    st.text(max_size=30),
)


def _encode(body: Any) -> bytes:
    # allow_nan writes NaN/Infinity tokens, ensure_ascii writes surrogates as \\u escapes:
    # exactly what an attacker would send.
    return json.dumps(body, allow_nan=True, ensure_ascii=True).encode()


def _with_hostile(valid: dict[str, Any], field: str, value: Any, nested: bool) -> dict[str, Any]:
    body = json.loads(json.dumps(valid))
    current = body.get(field)
    if nested and isinstance(current, list) and current:
        # Deep inside: a coordinate of a polygon point, or a whole point.
        target = current
        while isinstance(target[0], list) and target[0] and isinstance(target[0][0], list):
            target = target[0]
        if isinstance(target[0], list):
            target[0][0] = value
        else:
            target[0] = value
    else:
        body[field] = value
    return body


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    schema = client.get("/openapi.json").json()
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "patch", "put", "delete"}
    ]


def _fill(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    return path


@pytest.fixture
def fuzz_target(client: TestClient) -> tuple[dict[str, str], dict[str, str]]:
    """A user with a camera and a zone: the headers, and the real ids for path parameters."""
    headers = signup_and_login(client, "fuzz@example.com")
    camera = client.post(
        "/api/v1/cameras",
        json={"name": "Target", "stream_url": "rtsp://admin:secret-pw@cam.local/s"},
        headers=headers,
    ).json()
    zone = client.post(
        f"/api/v1/cameras/{camera['id']}/zones",
        json={"name": "Target zone", "polygon": WALKWAY},
        headers=headers,
    ).json()
    ids = {
        "camera_id": str(camera["id"]),
        "zone_id": str(zone["id"]),
        "event_id": "00000000-0000-0000-0000-000000000000",
        "clip_id": "00000000-0000-0000-0000-000000000000",
        "segment": "segment_00001.ts",
        "face_id": "1",  # none yet: hostile bodies must be refused before the lookup anyway
        "detection_id": "00000000-0000-0000-0000-000000000000",
    }
    return headers, ids


FUZZ_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _fuzz_body(
    client: TestClient, headers: dict[str, str], method: str, url: str, valid: dict[str, Any]
) -> None:
    fields = sorted({*valid, "name", "password", "email", "detect_stream_url"})

    @given(field=st.sampled_from(fields), value=HOSTILE, nested=st.booleans())
    @FUZZ_SETTINGS
    def exercise(field: str, value: Any, nested: bool) -> None:
        body = _encode(_with_hostile(valid, field, value, nested))
        response = client.request(
            method, url, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code < 500, (method, url, body[:200], response.text)
        assert "secret-pw" not in response.text

    exercise()


def _fuzz_query(
    client: TestClient, headers: dict[str, str], method: str, url: str, names: list[str]
) -> None:
    @given(params=st.dictionaries(st.sampled_from(names), QUERY_VALUES, min_size=1))
    @FUZZ_SETTINGS
    def exercise(params: dict[str, str]) -> None:
        query = "&".join(
            f"{quote(k)}={quote(v, safe='', errors='surrogatepass')}" for k, v in params.items()
        )
        response = client.request(method, f"{url}?{query}", headers=headers)
        assert response.status_code < 500, (method, url, query, response.text)

    exercise()


def test_every_body_field_survives_hostile_values(
    client: TestClient, fuzz_target: tuple[dict[str, str], dict[str, str]]
) -> None:
    headers, ids = fuzz_target
    with_bodies = [
        (method, path) for method, path, op in _operations(client) if "requestBody" in op
    ]
    assert {f"{m} {p}" for m, p in with_bodies} == set(VALID_BODIES)
    for method, path in with_bodies:
        _fuzz_body(client, headers, method, _fill(path, ids), VALID_BODIES[f"{method} {path}"])


def test_every_query_parameter_survives_hostile_values(
    client: TestClient, fuzz_target: tuple[dict[str, str], dict[str, str]]
) -> None:
    headers, ids = fuzz_target
    with_query = [
        (method, path, [p["name"] for p in op.get("parameters", []) if p["in"] == "query"])
        for method, path, op in _operations(client)
    ]
    with_query = [(m, p, names) for m, p, names in with_query if names]
    assert len(with_query) >= 4  # cameras, camera health, events, stats at least
    for method, path, names in with_query:
        _fuzz_query(client, headers, method, _fill(path, ids), names)
