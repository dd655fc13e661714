"""The sinks' plain logic: an unwritable lake or object store is retried, never dropped;
the database refuses work for a deleted camera and that is counted; replays are idempotent."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.dataflow.conftest import T0, add_camera, lake_rows
from vigil.broker import Topics
from vigil.db.models import Camera, FaceDetection
from vigil.db.models import Event as EventRow
from vigil.db.session import session_scope
from vigil.embedded import free_port
from vigil.records.convert import event_row
from vigil.rules.types import Event, EventChange, event_id_for
from vigil.storage import LocalObjectStore
from vigil.streaming.catalog import CatalogError, ReplayCatalog
from vigil.streaming.kafka_output import KafkaOutput
from vigil.streaming.lake_output import LakeOutput
from vigil.streaming.outputs import Blob, CameraOutput, EventWrite, Heartbeat
from vigil.streaming.retry import Backoff
from vigil.streaming.store_output import StoreOutput


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def frame_row(camera_id: int, i: int) -> dict:
    return {
        "camera_id": camera_id,
        "ts": T0 + timedelta(seconds=i / 5),
        "frame_index": i,
        "width": 640,
        "height": 480,
        "analysed": True,
        "skipped_by_gate": False,
        "motion_area": 0.1,
        "motion_calibrating": False,
        "scene_change": False,
        "motion_boxes": [[0.1, 0.1, 0.3, 0.3]],
        "track_ids": [1],
        "persons": 1,
        "inference_ms": 90.0,
        "total_ms": 120.0,
    }


def event(camera_id: int, i: int) -> Event:
    start = T0 + timedelta(seconds=i)
    return Event(
        event_id=event_id_for(str(camera_id), "motion", None, start, None),
        type="motion",
        camera_id=str(camera_id),
        zone_id=None,
        start=start,
        end=None,
        last_seen=start,
        confidence=0.5,
        peak_ts=start,
        peak_frame_id=i,
        peak_score=0.1,
        peak_track_id=None,
        peak_bbox=None,
        first_track_id=None,
        track_ids=(),
        frames_in_zone=1,
    )


def face(camera_id: int, i: int) -> dict:
    return {
        "face_detection_id": f"00000000-0000-5000-8000-{i:012d}",
        "camera_id": camera_id,
        "ts": T0 + timedelta(seconds=i),
        "frame_index": i,
        "track_id": 3,
        "bbox": [0.1, 0.1, 0.2, 0.2],
        "score": 0.9,
        "blur": 120.0,
        "quality": 0.8,
        "embedding": [0.0] * 127 + [1.0],
        "thumbnail_key": f"faces/{camera_id}/2026-11-23/{i}.jpg",
    }


def test_lake_outage_is_retried_with_backoff_and_loses_nothing(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    root.mkdir()
    (root / "frames").write_text("a file where the frames table's directory must go")
    clock = Clock()
    lake = LakeOutput(root, "001", roll_seconds=0, roll_rows=1, clock=clock)
    lake.write([CameraOutput(1, frames=[frame_row(1, i)]) for i in range(3)])
    assert lake.backoff.failing and lake.buffered_rows == 3
    lake.write([CameraOutput(1, frames=[frame_row(1, 3)])])  # within the backoff: queued only
    assert lake.backoff.failures == 1 and lake.buffered_rows == 4
    assert lake.snapshot()["frames"]  # a crash now would replay them from the snapshot

    (root / "frames").unlink()  # the disk is back
    clock.now += 120
    lake.write([Heartbeat(1)])
    assert not lake.backoff.failing and lake.buffered_rows == 0
    rows = lake_rows(root, "SELECT frame_index FROM frames ORDER BY 1")
    assert rows == [(0,), (1,), (2,), (3,)]


def test_lake_snapshot_replayed_after_a_crash_writes_each_row_once(tmp_path: Path) -> None:
    lake = LakeOutput(tmp_path, "001", roll_seconds=3600, roll_rows=100_000)
    lake.write([CameraOutput(1, frames=[frame_row(1, i)]) for i in range(5)])
    snapshot = lake.snapshot()
    lake.write([CameraOutput(1, frames=[frame_row(1, i)]) for i in range(5, 8)])
    lake.close()  # rows 0..7 written; then the process dies before the next snapshot
    resumed = LakeOutput(tmp_path, "001", roll_seconds=3600, roll_rows=100_000, resume=snapshot)
    resumed.write([CameraOutput(1, frames=[frame_row(1, i)]) for i in range(5, 10)])
    resumed.close()
    rows = lake_rows(tmp_path, "SELECT frame_index, count(*) FROM frames GROUP BY 1 ORDER BY 1")
    assert rows == [(i, 1) for i in range(10)]


def test_store_waits_for_the_object_store_then_writes_everything_once(
    tmp_path: Path, database: str
) -> None:
    camera = add_camera(database, "rtsp://127.0.0.1:1/x", face_recognition=True)
    objects = tmp_path / "objects"
    objects.mkdir()
    (objects / "snapshots").write_text("blocks the snapshots/ prefix")
    clock = Clock()
    store = StoreOutput(
        database, lambda: LocalObjectStore(objects), "001", clock=clock, max_pending=100
    )
    key = f"snapshots/events/{camera}/a.jpg"
    work = CameraOutput(
        camera,
        faces=[face(camera, 1)],
        event_writes=[EventWrite(event(camera, 1), key, "fp")],
        blobs=[Blob(key, b"\xff\xd8jpeg")],
    )
    store.write([work])
    assert store.backoff.failing and len(store.pending) == 1
    with session_scope(database) as session:  # no row before its JPEG is stored
        assert session.scalar(select(func.count()).select_from(EventRow)) == 0

    (objects / "snapshots").unlink()
    clock.now += 120
    store.write([work])  # the same output again (a recovery replay): still written once
    assert not store.pending
    assert (objects / key).read_bytes() == b"\xff\xd8jpeg"
    with session_scope(database) as session:
        row = session.scalars(select(EventRow).where(EventRow.type != "face")).one()
        assert (row.snapshot_key, row.source, row.rules_fingerprint) == (key, "live", "fp")
        assert session.scalars(select(EventRow.type).where(EventRow.id != row.id)).all() == [
            "face"  # the new identity's
        ]
        detection = session.scalars(select(FaceDetection)).one()
        assert detection.embedding is not None and len(detection.embedding) == 128 * 4


def test_store_drops_work_of_a_deleted_camera_and_keeps_the_rest(
    tmp_path: Path, database: str
) -> None:
    kept, deleted = (add_camera(database, "rtsp://127.0.0.1:1/x") for _ in range(2))
    with session_scope(database) as session:
        session.delete(session.get(Camera, deleted))
    store = StoreOutput(database, lambda: LocalObjectStore(tmp_path / "objects"), "001")
    store.write(
        [
            CameraOutput(deleted, event_writes=[EventWrite(event(deleted, 1), None)]),
            CameraOutput(kept, event_writes=[EventWrite(event(kept, 2), None)]),
        ]
    )
    assert not store.pending
    with session_scope(database) as session:
        assert [r.camera_id for r in session.scalars(select(EventRow))] == [kept]


def test_replay_files_are_checked_with_clear_messages(tmp_path: Path, footage: Path) -> None:
    def catalog(content: object) -> ReplayCatalog:
        path = tmp_path / "cameras.json"
        path.write_text(content if isinstance(content, str) else json.dumps(content))
        return ReplayCatalog(path)

    good = {"camera_id": 1, "file": str(footage), "start": "2026-11-23T12:00:00Z"}
    assert catalog({"cameras": [good]}).cameras()[1].replay is not None
    with pytest.raises(CatalogError, match="not JSON"):
        catalog("{")
    with pytest.raises(CatalogError, match=r"cameras.0.fps"):
        catalog({"cameras": [{**good, "fps": 0}]})
    with pytest.raises(CatalogError, match="not found"):
        catalog({"cameras": [{**good, "file": "missing.mp4"}]})
    with pytest.raises(CatalogError, match="repeats a camera_id"):
        catalog({"cameras": [good, good]})
    with pytest.raises(CatalogError, match="timezone"):
        catalog({"cameras": [{**good, "start": "2026-11-23T12:00:00"}]})
    shutil.rmtree(tmp_path)
    with pytest.raises(CatalogError, match="cannot read"):
        ReplayCatalog(tmp_path / "cameras.json")


def test_backoff_grows_and_resets() -> None:
    clock = Clock()
    backoff = Backoff(initial=1.0, maximum=8.0, clock=clock)
    delays = [backoff.failed() for _ in range(6)]
    assert all(0.5 <= d <= 8.0 for d in delays) and max(delays) > 2.0
    assert not backoff.ready()
    clock.now += 8.0
    assert backoff.ready()
    assert backoff.succeeded() and not backoff.failing


def test_records_beyond_the_producer_buffer_are_counted_as_lost() -> None:
    output = KafkaOutput(
        f"127.0.0.1:{free_port()}",  # nothing listens: every record waits in the buffer
        Topics("lost."),
        worker=0,
        message_timeout_ms=2000,
        buffer_max_messages=5,
    )
    output.write([CameraOutput(1, frames=[frame_row(1, i)]) for i in range(12)])
    stats = output.producer.stats
    assert (stats.sent, stats.lost) == (5, 7)
    assert output.close(timeout=5) == 0  # the 5 buffered ones time out: reported as failed
    assert output.producer.stats.failed == 5


def test_the_kafka_sink_leaves_opening_records_to_the_store_sinks_outbox() -> None:
    """An 'open' goes out only once its row is committed (vigil.streaming.outbox); the
    event's other changes go out with the rest of the step's rows."""
    output = KafkaOutput(
        f"127.0.0.1:{free_port()}",  # nothing listens: sent records wait in the buffer
        Topics("opens."),
        worker=0,
        message_timeout_ms=2000,
    )
    motion = event(1, 1)
    changes = [event_row(EventChange(kind, T0, motion)) for kind in ("open", "update", "close")]
    output.write([CameraOutput(1, events=changes)])
    assert output.producer.stats.sent == 2
    output.close(timeout=5)
