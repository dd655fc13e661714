"""Bounded requests and well-behaved connections, against the real server (issue 8): oversized
bodies and headers are refused before they are read or parsed, never echoed, and leave the
server's memory where it was; an unreachable object store is a 503 with Retry-After; after any
error the connection is either closed (and says so) or reusable."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.orm import Session

from tests.fixtures.live_api import LiveAPI
from vigil.db.models import Camera, Clip, Event
from vigil.db.session import engine_for

BIG = 50 * 1024 * 1024
LIMIT = 64 * 1024  # the default VIGIL_API_MAX_BODY_BYTES


def _raw(
    api: LiveAPI, head: str, body: bytes = b"", *, end_headers: bool = True
) -> tuple[http.client.HTTPResponse, bytes]:
    """Send a hand-made request on a fresh socket and read the response. Only as much as the
    server reads before answering is sent: a server closing on unread data resets the
    connection, and the client may then lose the answer (any client, not only this one)."""
    parts = urlsplit(api.url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=60)
    try:
        sock.sendall(head.encode("latin-1") + (b"\r\n" if end_headers else b"") + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        return response, response.read()
    finally:
        sock.close()


def test_a_declared_50_mb_body_is_refused_before_it_is_sent(live_api: LiveAPI) -> None:
    # Only the headers go out: the 413 can only come from the declared length.
    response, body = _raw(
        live_api,
        "POST /api/v1/auth/signup HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        f"Content-Length: {BIG}\r\n",
    )
    assert response.status == 413
    assert response.getheader("connection") == "close"
    assert json.loads(body) == {"detail": f"request body larger than {LIMIT} bytes"}
    assert httpx.get(f"{live_api.url}/healthz").status_code == 200


def test_a_streamed_body_is_cut_off_at_the_limit(live_api: LiveAPI) -> None:
    chunk = b"x" * (LIMIT + 1)  # one chunk past the limit, no terminating chunk: the server
    response, body = _raw(  # must answer without waiting for the rest
        live_api,
        "POST /api/v1/auth/signup HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n",
        b"%x\r\n" % len(chunk) + chunk + b"\r\n",
    )
    assert response.status == 413
    assert response.getheader("connection") == "close"
    assert b"xxx" not in body


def test_a_body_under_the_limit_is_parsed_and_not_echoed(live_api: LiveAPI) -> None:
    filler = "y" * (LIMIT - 1000)
    response = httpx.post(
        f"{live_api.url}/api/v1/auth/signup", json={"email": "a@example.com", "password": filler}
    )
    assert response.status_code == 422
    assert filler[:100] not in response.text
    assert len(response.content) < 1000


def test_oversized_headers_are_refused_by_the_server(live_api: LiveAPI) -> None:
    token = "a" * (20 * 1024)  # past the 16 KiB default, and the header block never ends
    response, _body = _raw(
        live_api,
        f"GET /api/v1/auth/me HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer {token}",
        end_headers=False,
    )
    assert response.status == 400
    assert httpx.get(f"{live_api.url}/healthz").status_code == 200


def _big_requests(api: LiveAPI) -> None:
    """The attack as sent: whole 50 MB bodies (declared and chunked) and a 4 MB header. The
    server answers and closes early, so the client may see its upload reset instead."""
    payload = b"[" + b"1," * (BIG // 2) + b"1]"

    def chunks() -> Iterator[bytes]:
        for _ in range(BIG // (1024 * 1024)):
            yield b"z" * (1024 * 1024)

    attempts: list[tuple[str, str, object, dict[str, str]]] = [
        ("POST", "/api/v1/auth/signup", payload, {"Content-Type": "application/json"}),
        ("POST", "/api/v1/auth/signup", payload, {"Content-Type": "application/json"}),
        ("POST", "/api/v1/cameras", chunks(), {"Content-Type": "application/json"}),
        ("GET", "/healthz", None, {"X-Filler": "f" * (4 * 1024 * 1024)}),
    ]
    for method, path, content, headers in attempts:
        with api.client() as client, contextlib.suppress(httpx.TransportError):
            response = client.request(method, path, content=content, headers=headers)  # type: ignore[arg-type]
            assert response.status_code in (400, 413)
            assert len(response.content) < 1000
    assert httpx.get(f"{api.url}/healthz").status_code == 200


def test_memory_stays_flat_after_big_requests(live_api: LiveAPI) -> None:
    _big_requests(live_api)  # warm-up: code paths and allocator pools in place
    before = live_api.rss()
    for _ in range(3):
        _big_requests(live_api)
    after = live_api.rss()
    grown = after - before
    print(f"server RSS {before / 1e6:.0f} MB -> {after / 1e6:.0f} MB after 12 big requests")
    # 450 MB of bodies were offered; buffering even one would grow the server by 50 MB.
    assert grown < 20 * 1024 * 1024, f"RSS grew by {grown / 1e6:.1f} MB"


def _event_with_clip(api: LiveAPI, email: str) -> tuple[dict[str, str], str, str]:
    """A user whose camera has an event with a snapshot and a clip: the headers, the event's
    id and the clip's id."""
    headers = api.login(email)
    with httpx.Client(base_url=api.url) as client:
        camera_id = client.post(
            "/api/v1/cameras",
            json={"name": "Gate", "stream_url": "rtsp://cam.local/s"},
            headers=headers,
        ).json()["id"]
    now = datetime.now(UTC)
    event_id, clip_id = str(uuid.uuid4()), str(uuid.uuid4())
    event = Event(
        id=event_id,
        camera_id=camera_id,
        type="intrusion",
        status="closed",
        start_ts=now,
        end_ts=now,
        snapshot_key=f"snapshots/{camera_id}/e.jpg",
    )
    clip = Clip(
        id=clip_id,
        event_id=event_id,
        camera_id=camera_id,
        start_ts=now,
        end_ts=now,
        object_key=f"clips/{camera_id}/c.mp4",
    )
    with Session(engine_for(api.database_url)) as session, session.begin():
        assert session.get(Camera, camera_id) is not None
        session.add(event)
        session.flush()
        session.add(clip)
    return headers, event_id, clip_id


def test_an_unreachable_object_store_is_503_and_the_connection_stays_usable(
    live_api: LiveAPI,
) -> None:
    headers, event_id, clip_id = _event_with_clip(live_api, "media@example.com")
    with live_api.client() as client:
        for path in (
            f"/api/v1/events/{event_id}/clip",
            f"/api/v1/events/{event_id}/snapshot.jpg",
            f"/api/v1/clips/{clip_id}",
        ):
            response = client.get(path, headers={**headers, "Range": "bytes=0-99"})
            assert response.status_code == 503, response.text
            assert int(response.headers["retry-after"]) > 0
            assert response.json() == {"detail": "media storage unavailable, retry later"}
            _assert_same_connection_serves_next(client, response)


def _client_port(response: httpx.Response) -> int:
    port = response.extensions["network_stream"].get_extra_info("client_addr")[1]
    return int(port)


def _assert_same_connection_serves_next(client: httpx.Client, failed: httpx.Response) -> None:
    """The error left the kept-alive connection usable: the next request goes out on the very
    same socket and is answered."""
    assert failed.headers.get("connection") != "close"
    following = client.get("/healthz")
    assert following.status_code == 200
    assert _client_port(following) == _client_port(failed)


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/api/v1/cameras/999999", None, 404),
        ("get", "/api/v1/cameras/1.0", None, 422),
        ("post", "/api/v1/cameras", b'{"name": NaN}', 422),
        ("post", "/api/v1/cameras", b'{"name": "x", "stream_url": "http://a:b@c/d"}', 422),
        ("patch", "/api/v1/cameras/999999", b'{"name": "x"}', 404),
        ("get", "/api/v1/events?since=0001-01-01T00:00:00%2B05:00", None, 422),
    ],
)
def test_after_an_error_the_kept_alive_connection_serves_the_next_request(
    live_api: LiveAPI, method: str, path: str, body: bytes | None, status: int
) -> None:
    headers = live_api.login("keepalive@example.com")
    with live_api.client() as client:
        warm = client.get("/healthz")
        response = client.request(
            method, path, content=body, headers={**headers, "Content-Type": "application/json"}
        )
        assert response.status_code == status, response.text
        assert _client_port(response) == _client_port(warm)
        _assert_same_connection_serves_next(client, response)


def test_after_a_413_the_connection_is_closed_and_the_client_reconnects(
    live_api: LiveAPI,
) -> None:
    with live_api.client() as client:
        response = client.post("/api/v1/auth/signup", content=b"[" + b"0," * LIMIT + b"0]")
        assert response.status_code == 413
        assert response.headers["connection"] == "close"
        assert client.get("/healthz").status_code == 200
