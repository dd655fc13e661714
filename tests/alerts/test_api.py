"""The alerts API: settings per camera, test messages, the delivery log; owner only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.alerts.servers import Mailbox
from tests.conftest import make_settings, signup_and_login


def _camera(client: TestClient, headers: dict, name: str = "Porch") -> int:
    response = client.post(
        "/api/v1/cameras", json={"name": name, "stream_url": "rtsp://cam.local/s"}, headers=headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _zone(client: TestClient, headers: dict, camera: int, name: str = "Walkway") -> int:
    response = client.post(
        f"/api/v1/cameras/{camera}/zones",
        json={"name": name, "polygon": [[0, 0], [1, 0], [1, 1]]},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
def mail_client(
    database_url: str, tmp_path: Path, smtp: tuple[Mailbox, int]
) -> Iterator[TestClient]:
    from api.app import create_app

    settings = make_settings(
        database_url,
        tmp_path / "data",
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_starttls=False,
        smtp_from="vigil@alerts.example.com",
    )
    with TestClient(create_app(settings)) as client:
        yield client


def test_defaults_then_saved_settings_persist(client: TestClient, alice: dict) -> None:
    camera = _camera(client, alice)
    url = f"/api/v1/cameras/{camera}/alerts"
    defaults = client.get(url, headers=alice).json()
    assert {k: v["enabled"] for k, v in defaults["kinds"].items()} == {
        "intrusion": True,
        "motion": False,
        "face": False,
    }
    assert defaults["effective_recipients"] == ["alice@example.com"]
    assert defaults["recipients"] == []
    assert defaults["time_zone"] == "UTC"
    assert defaults["smtp_configured"] is False
    zone = _zone(client, alice, camera)
    body = {
        "kinds": {
            "intrusion": {"enabled": True, "cooldown_seconds": 60},
            "motion": {"enabled": True, "cooldown_seconds": 600},
            "face": {"enabled": False},
        },
        "recipients": ["ops@example.com", "guard@example.org"],
        "quiet_hours": [{"start": "22:30", "end": "06:00"}],
        "min_confidence": 0.7,
        "zone_ids": [zone],
        "webhook_url": "https://hooks.example.com/vigil",
        "time_zone": "Europe/Berlin",
    }
    saved = client.put(url, json=body, headers=alice)
    assert saved.status_code == 200, saved.text
    got = client.get(url, headers=alice).json()
    assert got == saved.json()
    assert got["kinds"]["motion"] == {"enabled": True, "cooldown_seconds": 600}
    assert got["recipients"] == got["effective_recipients"] == body["recipients"]
    assert got["quiet_hours"] == body["quiet_hours"]
    assert (got["min_confidence"], got["zone_ids"]) == (0.7, [zone])
    assert got["webhook_url"] == "https://hooks.example.com/vigil"
    assert len(got["webhook_secret"]) >= 32  # generated for the new webhook
    assert got["time_zone"] == "Europe/Berlin"
    assert client.get("/api/v1/auth/me", headers=alice).json()["time_zone"] == "Europe/Berlin"
    # the secret stays when the settings are saved again without one
    again = client.put(url, json=body | {"min_confidence": None}, headers=alice).json()
    assert again["webhook_secret"] == got["webhook_secret"]
    assert again["min_confidence"] is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"recipients": ["not-an-address"]}, "recipients"),
        ({"recipients": ["a@example.com", "A@example.com"]}, ""),
        ({"recipients": [f"u{i}@example.com" for i in range(21)]}, "recipients"),
        ({"quiet_hours": [{"start": "25:00", "end": "06:00"}]}, "quiet_hours"),
        ({"quiet_hours": [{"start": "06:00", "end": "06:00"}]}, "quiet_hours"),
        ({"min_confidence": 1.5}, "min_confidence"),
        ({"kinds": {"intrusion": {"enabled": True, "cooldown_seconds": -1}}}, "kinds"),
        ({"kinds": {"fire": {"enabled": True}}}, "kinds"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"webhook_url": "ftp://example.com/x"}, "webhook_url"),
        ({"webhook_secret": "short"}, "webhook_secret"),
        ({"zone_ids": [999999]}, "zone_ids"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_settings_are_422(client: TestClient, alice: dict, change: dict, field: str) -> None:
    camera = _camera(client, alice)
    response = client.put(f"/api/v1/cameras/{camera}/alerts", json=change, headers=alice)
    assert response.status_code == 422, response.text
    detail = response.json()["detail"]
    locs = [item["loc"] for item in detail]
    assert any(field in loc or (not field and loc == ["body"]) for loc in locs), locs


def test_a_zone_of_another_camera_is_refused(client: TestClient, alice: dict) -> None:
    porch, gate = _camera(client, alice, "Porch"), _camera(client, alice, "Gate")
    gate_zone = _zone(client, alice, gate)
    response = client.put(
        f"/api/v1/cameras/{porch}/alerts", json={"zone_ids": [gate_zone]}, headers=alice
    )
    assert response.status_code == 422
    assert "not zones of this camera" in response.json()["detail"][0]["msg"]


def test_every_endpoint_is_owner_only(client: TestClient, alice: dict, bob: dict) -> None:
    camera = _camera(client, alice)
    client.post(f"/api/v1/cameras/{camera}/alerts/test", headers=alice)  # one delivery row
    calls: list[tuple[str, str, dict | None]] = [
        ("GET", f"/api/v1/cameras/{camera}/alerts", None),
        ("PUT", f"/api/v1/cameras/{camera}/alerts", {}),
        ("POST", f"/api/v1/cameras/{camera}/alerts/test", None),
    ]
    for method, url, body in calls:
        assert client.request(method, url, json=body).status_code == 401
        assert client.request(method, url, json=body, headers=bob).status_code == 404
        assert client.request(method, url, json=body, headers=alice).status_code == 200
    assert client.get("/api/v1/alerts/deliveries").status_code == 401
    assert client.get("/api/v1/alerts/deliveries", headers=bob).json()["items"] == []
    filtered = client.get(
        "/api/v1/alerts/deliveries", params={"camera_id": camera}, headers=bob
    ).json()
    assert filtered["items"] == []
    assert len(client.get("/api/v1/alerts/deliveries", headers=alice).json()["items"]) == 2


def test_test_message_without_smtp_is_skipped(client: TestClient, alice: dict) -> None:
    camera = _camera(client, alice)
    response = client.post(f"/api/v1/cameras/{camera}/alerts/test", headers=alice)
    assert response.status_code == 200
    (delivery,) = response.json()["deliveries"]
    assert delivery["status"] == "skipped"
    assert delivery["error"] == "no SMTP server configured"
    assert delivery["recipient"] == "alice@example.com"
    assert delivery["kind"] == "test"


def test_test_message_is_sent_and_logged(
    mail_client: TestClient, smtp: tuple[Mailbox, int]
) -> None:
    mailbox, _ = smtp
    alice = signup_and_login(mail_client, "alice@example.com")
    camera = _camera(mail_client, alice, "Porch")
    mail_client.put(
        f"/api/v1/cameras/{camera}/alerts",
        json={"recipients": ["ops@example.com"]},
        headers=alice,
    )
    response = mail_client.post(f"/api/v1/cameras/{camera}/alerts/test", headers=alice)
    (delivery,) = response.json()["deliveries"]
    assert (delivery["status"], delivery["attempts"]) == ("sent", 1)
    (message,) = mailbox.messages()
    assert message["To"] == "ops@example.com"
    assert message["Subject"].startswith("[Vigil] Test alert from Porch, ")
    log = mail_client.get("/api/v1/alerts/deliveries", headers=alice).json()
    assert [d["id"] for d in log["items"]] == [delivery["id"]]


def test_refused_test_message_fails_with_the_reason(
    mail_client: TestClient, smtp: tuple[Mailbox, int]
) -> None:
    smtp[0].refuse.append("550 no such user here")
    alice = signup_and_login(mail_client, "alice@example.com")
    camera = _camera(mail_client, alice)
    (delivery,) = mail_client.post(f"/api/v1/cameras/{camera}/alerts/test", headers=alice).json()[
        "deliveries"
    ]
    assert delivery["status"] == "failed"
    assert delivery["error"] == "SMTP 550 no such user here"


def test_deliveries_filters_and_cursor(client: TestClient, alice: dict) -> None:
    porch, gate = _camera(client, alice, "Porch"), _camera(client, alice, "Gate")
    ids = []
    for camera in (porch, gate, porch, porch, gate):
        response = client.post(f"/api/v1/cameras/{camera}/alerts/test", headers=alice)
        ids.append(response.json()["deliveries"][0]["id"])
    seen: list[int] = []
    cursor = None
    while True:
        params: dict = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/alerts/deliveries", params=params, headers=alice).json()
        seen += [d["id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == list(reversed(ids))
    porch_only = client.get(
        "/api/v1/alerts/deliveries", params={"camera_id": porch}, headers=alice
    ).json()["items"]
    assert {d["camera_id"] for d in porch_only} == {porch}
    assert len(porch_only) == 3
    for params, count in (
        ({"status": "skipped"}, 5),
        ({"status": "sent"}, 0),
        ({"channel": "webhook"}, 0),
        ({"since": "2000-01-01T00:00:00Z"}, 5),
        ({"until": "2000-01-01T00:00:00Z"}, 0),
    ):
        items = client.get("/api/v1/alerts/deliveries", params=params, headers=alice).json()
        assert len(items["items"]) == count, params


@pytest.mark.parametrize(
    "params",
    [
        {"status": "lost"},
        {"channel": "pigeon"},
        {"since": "2026-01-01T00:00:00"},
        {"cursor": "abc"},
        {"cursor": "0"},
        {"limit": 0},
        {"camera_id": 0},
    ],
)
def test_bad_delivery_queries_are_422(client: TestClient, alice: dict, params: dict) -> None:
    response = client.get("/api/v1/alerts/deliveries", params=params, headers=alice)
    assert response.status_code == 422, response.text
