from __future__ import annotations

from fastapi.testclient import TestClient

from api.app import create_app
from vigil.settings import Settings


def test_health_ready_metrics_and_request_id(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "ok"
    traced = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert traced.headers["x-request-id"] == "abc-123"
    assert len(client.get("/healthz").headers["x-request-id"]) == 32
    client.get("/api/v1/cameras")
    metrics = client.get("/metrics").text
    assert "http_requests_total" in metrics
    assert 'handler="/api/v1/cameras"' in metrics


def test_readyz_reports_an_unreachable_database(tmp_path) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        data_dir=tmp_path,
        database_url="postgresql+psycopg2://nobody@127.0.0.1:1/none",
        jwt_secret="y" * 40,  # type: ignore[arg-type]
    )
    with TestClient(create_app(settings)) as client:
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["status"] == "unavailable"
        assert client.get("/healthz").status_code == 200
        login = client.post("/api/v1/auth/login", json={"email": "a@b.co", "password": "x" * 12})
        assert login.status_code == 503


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/auth/login" in spec["paths"]
    assert "/api/v1/cameras/{camera_id}" in spec["paths"]
    assert client.get("/docs").status_code == 200
