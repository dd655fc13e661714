"""GET /api/v1/system: services' health and per camera figures, read from the services' real
/metrics and /healthz endpoints (the same HealthServer, metrics and storage meter the ingest and
dataflow services run), each user seeing only their own cameras."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import make_settings
from vigil.embedded import SeaweedFS, free_port
from vigil.healthserver import HealthServer
from vigil.lake.layout import partition_dir
from vigil.media.paths import MediaPaths
from vigil.retention.usage import measure, publish
from vigil.settings import Settings
from vigil.storage import keys
from vigil.storage.factory import object_store_from_settings
from vigil.streaming.health import HealthBoard
from vigil.streaming.metrics import CameraMeter

DAY = datetime(2026, 11, 25, 8, tzinfo=UTC)


@pytest.fixture
def board() -> HealthBoard:
    board = HealthBoard()
    board.state = "running"
    return board


@pytest.fixture
def services(board: HealthBoard) -> Iterator[dict[str, str]]:
    """A dataflow's and an ingest service's health and metrics endpoints, on free ports."""
    dataflow = HealthServer(board.check, free_port()).start()
    ingest = HealthServer(lambda: (True, {"cameras": {}}), free_port()).start()
    yield {
        "dataflow_url": f"http://127.0.0.1:{dataflow.port}",
        "ingest_url": f"http://127.0.0.1:{ingest.port}",
    }
    dataflow.stop()
    ingest.stop()


@pytest.fixture
def settings(database_url: str, tmp_path: Path, services: dict[str, str]) -> Settings:
    # Free ports where nothing answers: Dagster and the dashboard are not running here.
    return make_settings(
        database_url,
        tmp_path / "data",
        storage_cap_bytes=10**9,
        dagster_port=free_port(),
        dagster_daemon_health_port=free_port(),
        dashboard_port=free_port(),
        kafka_embedded_port=free_port(),
        **services,
    )


def _camera(client: TestClient, headers: dict, name: str) -> int:
    body = {"name": name, "stream_url": "rtsp://cam.local/s"}
    return int(client.post("/api/v1/cameras", json=body, headers=headers).json()["id"])


def _store_bytes(settings: Settings, camera: int, recording: int, obj: int, lake: int) -> None:
    day_dir = MediaPaths(settings.media_dir).record_day_dir(camera, DAY.date())
    day_dir.mkdir(parents=True, exist_ok=True)
    (day_dir / f"{DAY:%Y%m%dT%H%M%SZ}.mp4").write_bytes(b"r" * recording)
    store = object_store_from_settings(settings)
    store.put_bytes(keys.event_snapshot_key(camera, "e1"), b"o" * obj)
    part = partition_dir(settings.resolved_lake_dir, "frames", camera, f"{DAY:%Y-%m-%d}", 8)
    part.mkdir(parents=True)
    (part / "part-1.parquet").write_bytes(b"l" * lake)


@pytest.fixture
def meters() -> Iterator[list[CameraMeter]]:
    made: list[CameraMeter] = []
    yield made
    for meter in made:
        meter.forget()


def test_system_shows_own_cameras_figures_and_services(
    client: TestClient, alice: dict, bob: dict, settings: Settings, meters: list[CameraMeter]
) -> None:
    plaza, gate = _camera(client, alice, "Plaza"), _camera(client, alice, "Gate")
    bobs = _camera(client, bob, "Bob's")
    for camera, analysed in ((plaza, 4), (bobs, 2)):
        meter = CameraMeter(camera)
        meters.append(meter)
        for ms in [80.0, 120.0][: analysed // 2] * 2:
            meter.analysed(True, ms)
        meter.reader(frames_in=20, dropped=3, queued=2)  # also sets the fps gauges
    _store_bytes(settings, plaza, 1000, 200, 30)
    _store_bytes(settings, bobs, 5000, 600, 70)
    publish(
        measure(
            MediaPaths(settings.media_dir),
            object_store_from_settings(settings),
            settings.resolved_lake_dir,
        )
    )

    body = client.get("/api/v1/system", headers=alice).json()
    assert [c["camera_id"] for c in body["cameras"]] == [plaza, gate]
    first = body["cameras"][0]
    assert first["name"] == "Plaza" and first["frames_dropped"] == 3 and first["queue_depth"] == 2
    assert first["fps_in"] > 0 and first["fps_analysed"] > 0
    assert first["inference_ms"] == pytest.approx(100.0)
    assert (first["recording_bytes"], first["object_bytes"], first["lake_bytes"]) == (1000, 200, 30)
    second = body["cameras"][1]  # not analysed or stored yet: no figure rather than a zero
    assert second["fps_in"] is None and second["recording_bytes"] is None
    storage = body["storage"]
    assert storage["total_bytes"] == 1230  # Alice's cameras only
    assert (storage["cap_bytes"], storage["lake_retention_days"]) == (10**9, 30)
    assert storage["measured_at"] is not None

    services = {s["name"]: s for s in body["services"]}
    assert services["api"]["healthy"] and services["dataflow"]["healthy"]
    assert services["ingest"]["healthy"]
    assert not services["dagster"]["healthy"] and "unreachable" in services["dagster"]["detail"]
    assert not services["broker"]["healthy"]  # nothing listens on its port here
    assert "object store" not in services  # a local directory: nothing to probe

    theirs = client.get("/api/v1/system", headers=bob).json()
    assert [c["camera_id"] for c in theirs["cameras"]] == [bobs]
    assert theirs["cameras"][0]["inference_ms"] == pytest.approx(80.0)
    assert theirs["storage"]["total_bytes"] == 5670


def test_a_failed_dataflow_is_reported_unhealthy(
    client: TestClient, alice: dict, board: HealthBoard
) -> None:
    board.state, board.failure = "failed", "worker crashed"
    services = {
        s["name"]: s for s in client.get("/api/v1/system", headers=alice).json()["services"]
    }
    assert services["dataflow"] == {
        "name": "dataflow",
        "url": services["dataflow"]["url"],
        "healthy": False,
        "detail": "HTTP 503",
    }


def test_no_cameras_and_no_services_is_still_an_answer(
    client: TestClient, alice: dict, settings: Settings
) -> None:
    settings.dataflow_url = settings.ingest_url = f"http://127.0.0.1:{free_port()}"
    body = client.get("/api/v1/system", headers=alice).json()
    assert body["cameras"] == []
    assert body["storage"]["total_bytes"] == 0 and body["storage"]["measured_at"] is None
    assert not {s["name"]: s for s in body["services"]}["ingest"]["healthy"]


def test_system_needs_a_login(client: TestClient) -> None:
    assert client.get("/api/v1/system").status_code == 401
    bad = client.get("/api/v1/system", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_the_broker_and_the_object_store_are_probed(
    client: TestClient, alice: dict, settings: Settings, seaweedfs: SeaweedFS, tansu: str
) -> None:
    settings.object_store, settings.s3_endpoint_url = "s3", seaweedfs.endpoint_url
    settings.kafka_bootstrap = tansu
    body = client.get("/api/v1/system", headers=alice).json()
    services = {s["name"]: s for s in body["services"]}
    assert services["broker"] == {
        "name": "broker",
        "url": f"tcp://{tansu}",
        "healthy": True,
        "detail": None,
    }
    assert services["object store"]["healthy"]
    assert services["object store"]["url"] == seaweedfs.endpoint_url
