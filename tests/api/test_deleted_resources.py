"""What a deleted camera or user leaves behind must never reach the next owner: ids are not
reused, and a deleted camera's media is gone. Real server, PostgreSQL and SQLite."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import delete

from tests.conftest import signup_and_login
from vigil.db.models import User
from vigil.db.session import session_scope
from vigil.settings import Settings

CAMERA = {"name": "Gate", "stream_url": "rtsp://cam.local/stream"}


def _camera(client: TestClient, headers: dict, name: str = "Gate") -> int:
    response = client.post("/api/v1/cameras", json={**CAMERA, "name": name}, headers=headers)
    assert response.status_code == 201, response.text
    camera_id: int = response.json()["id"]
    return camera_id


def _me(client: TestClient, headers: dict) -> int:
    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200, response.text
    user_id: int = response.json()["id"]
    return user_id


def test_ids_of_deleted_cameras_and_users_are_never_handed_out_again(
    client: TestClient, settings: Settings, alice: dict, bob: dict
) -> None:
    newest = _camera(client, alice)
    assert client.delete(f"/api/v1/cameras/{newest}", headers=alice).status_code == 204
    assert _camera(client, bob) > newest

    bob_id = _me(client, bob)
    with session_scope(settings.resolved_database_url) as session:
        session.execute(delete(User).where(User.id == bob_id))
    carol = signup_and_login(client, "carol@example.com")
    assert _me(client, carol) > bob_id
