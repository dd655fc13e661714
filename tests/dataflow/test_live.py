"""End to end on real pedestrian footage through the RTSP simulator: `vigil dataflow` finds and
tracks people, sees motion where they walk and none on a still scene, raises live events, and
the lake (read with DuckDB while it is written) and the Kafka topics hold the same records."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from tests.dataflow.conftest import DataflowProcess, add_camera, lake_rows
from tests.fixtures.waiting import wait_for
from vigil.broker import JsonConsumer, Topics
from vigil.db.models import Event, Zone
from vigil.db.session import session_scope
from vigil.lake.query import connect
from vigil.simulator import RtspSimulator

pytestmark = pytest.mark.slow


def overlaps(a: list[float], b: list[float]) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def consume(bootstrap: str, topic: str, expected: int, timeout: float = 60.0) -> list[Any]:
    """Records of `topic` from the beginning, until `expected` arrived or `timeout` passed."""
    values: list[Any] = []
    deadline = time.monotonic() + timeout
    with JsonConsumer(bootstrap, f"test-{uuid.uuid4().hex[:8]}", [topic]) as consumer:
        while len(values) < expected and time.monotonic() < deadline:
            values += [record.value for record in consumer.consume(500, 1.0)]
    return values


class ConcurrentReader(threading.Thread):
    """Counts lake rows with DuckDB in a loop while the dataflow writes."""

    def __init__(self, lake: Path) -> None:
        super().__init__(daemon=True)
        self.lake = lake
        self.counts: list[int] = []
        self.errors: list[Exception] = []
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            try:
                if self.lake.exists():
                    row = connect(self.lake).execute("SELECT count(*) FROM detections").fetchone()
                    self.counts.append(row[0] if row else 0)
            except Exception as exc:
                self.errors.append(exc)
            self.done.wait(0.1)


def test_people_motion_and_events_land_in_lake_kafka_and_database(
    database: str,
    plaza_camera: RtspSimulator,
    still_camera: RtspSimulator,
    dataflow_env: Callable[..., dict[str, str]],
    dataflows: Callable[..., DataflowProcess],
) -> None:
    plaza = add_camera(database, plaza_camera.url(), detect_fps=5, detect_width=640)
    still = add_camera(database, still_camera.url(), detect_fps=5, detect_width=640)
    with session_scope(database) as session:
        walkway = [[0.0, 0.5], [1.0, 0.5], [1.0, 1.0], [0.0, 1.0]]
        session.add(Zone(camera_id=plaza, name="walkway", polygon=walkway, min_dwell_seconds=0))
    env = dataflow_env()
    data = Path(env["VIGIL_DATA_DIR"])
    lake = data / "lake"
    health = f"http://127.0.0.1:{env['VIGIL_DATAFLOW_HEALTH_PORT']}"
    reader = ConcurrentReader(lake)
    reader.start()
    run = dataflows(env).start()

    def analysed(camera: int) -> int:
        sql = f"SELECT count(*) FROM frames WHERE camera_id = {camera}"
        return lake_rows(lake, sql)[0][0] if lake.exists() else 0

    assert wait_for(lambda: analysed(plaza) >= 25 and analysed(still) >= 12, 240), run.log()
    status = httpx.get(f"{health}/healthz", timeout=5)
    assert status.status_code == 200
    assert status.json()["cameras"][str(plaza)]["status"] == "online"
    metrics = httpx.get(f"{health}/metrics", timeout=5).text
    for name in ("frames_in_total", "frames_analysed_total", "frames_dropped_total"):
        assert f'vigil_dataflow_{name}{{camera_id="{plaza}"}}' in metrics
    for name in ("fps_in", "fps_analysed", "queue_depth", "inference_ms_count"):
        assert f'vigil_dataflow_{name}{{camera_id="{plaza}"}}' in metrics
    for stage in ("motion", "detection", "tracking", "faces"):  # where the CPU goes
        assert f'stage_seconds_total{{camera_id="{plaza}",stage="{stage}"}}' in metrics
    assert run.stop() == 0, run.log()[-3000:]  # a clean stop writes what is buffered
    reader.done.set()
    reader.join()
    assert reader.errors == [] and reader.counts == sorted(reader.counts)

    # People, tracked over many frames.
    spans = lake_rows(
        lake,
        f"SELECT track_id, count(DISTINCT frame_index) FROM detections "
        f"WHERE camera_id = {plaza} AND track_id IS NOT NULL GROUP BY 1",
    )
    assert len(spans) >= 3 and max(n for _, n in spans) >= 8

    # Motion where people walk, none on the still scene.
    frames = {
        (cam, ts): boxes
        for cam, ts, boxes in lake_rows(
            lake, "SELECT camera_id, ts, motion_boxes FROM frames WHERE NOT motion_calibrating"
        )
    }
    assert sum(1 for (cam, _), boxes in frames.items() if cam == plaza and boxes) >= 10
    assert [boxes for (cam, _), boxes in frames.items() if cam == still and boxes] == []
    people = lake_rows(
        lake,
        f"SELECT ts, bbox FROM detections WHERE camera_id = {plaza} "
        "AND detected AND track_id IS NOT NULL",
    )
    moving = [frames.get((plaza, ts)) for ts, _ in people]
    hits = [
        any(overlaps(box, m) for m in boxes)
        for (_, box), boxes in zip(people, moving, strict=True)
        if boxes
    ]
    assert hits and sum(hits) / len(hits) >= 0.7

    # Kafka holds what the lake holds.
    topics = Topics(env["VIGIL_KAFKA_TOPIC_PREFIX"])
    lake_detections = {
        (cam, ts.isoformat(), index)
        for cam, ts, index in lake_rows(lake, "SELECT camera_id, ts, index FROM detections")
    }
    records = consume(env["VIGIL_KAFKA_BOOTSTRAP"], topics.detections, len(lake_detections))
    assert all(r["schema_version"] == 1 for r in records)
    kafka_detections = {
        (r["camera_id"], datetime.fromisoformat(r["ts"]).isoformat(), r["index"]) for r in records
    }
    assert kafka_detections == lake_detections
    lake_frames = lake_rows(lake, "SELECT count(*) FROM frames")[0][0]
    motion = consume(env["VIGIL_KAFKA_BOOTSTRAP"], topics.motion, lake_frames)
    assert len({(r["camera_id"], r["ts"]) for r in motion}) == lake_frames

    # Live events: in the database (with a snapshot), the events topic and the lake.
    with session_scope(database) as session:
        events = session.scalars(select(Event).where(Event.camera_id == plaza)).all()
        assert not session.scalars(select(Event).where(Event.camera_id == still)).all()
    assert {e.type for e in events} == {"intrusion", "motion"}
    assert all(e.source == "live" for e in events)
    shots = [e.snapshot_key for e in events if e.snapshot_key]
    assert shots and all((data / "objects" / key).is_file() for key in shots)
    changes = consume(env["VIGIL_KAFKA_BOOTSTRAP"], topics.events, 1)
    assert {c["event_id"] for c in changes} <= {e.id for e in events}
    lake_events = {row[0] for row in lake_rows(lake, "SELECT DISTINCT event_id FROM events")}
    assert lake_events == {e.id for e in events}
