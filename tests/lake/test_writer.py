"""The Parquet lake writer: partitions, rolling, atomic files, idempotent recovery."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from vigil.lake.query import connect
from vigil.lake.writer import LakeWriter
from vigil.records import DETECTIONS, FRAMES

T0 = datetime(2026, 11, 25, 9, 59, 58, tzinfo=UTC)


class FakeClock:
    """Monotonic time the test controls (the writer's only notion of time)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def detection(camera_id: int, i: int, ts: datetime | None = None) -> dict:
    return {
        "camera_id": camera_id,
        "ts": ts or T0 + timedelta(milliseconds=200 * i),
        "frame_index": i,
        "index": 0,
        "label": "person",
        "class_name": "Normal",
        "track_id": 7,
        "score": 0.9,
        "bbox": [0.1, 0.2, 0.3, 0.4],
        "stationary": False,
        "detected": True,
    }


def test_rows_land_in_hive_partitions_queryable_with_duckdb(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path, DETECTIONS, roll_seconds=60, roll_rows=1000)
    writer.add(detection(camera, i) for camera in (1, 2) for i in range(20))
    files = writer.flush()
    # 10 s at 5 fps crosses 10:00 UTC: two hours per camera.
    assert len(files) == 4
    relative = {str(f.relative_to(tmp_path).parent) for f in files}
    assert "detections/camera_id=1/date=2026-11-25/hour=9" in relative
    assert "detections/camera_id=2/date=2026-11-25/hour=10" in relative
    rows = (
        connect(tmp_path)
        .execute("SELECT camera_id, hour, count(*) FROM detections GROUP BY ALL ORDER BY ALL")
        .fetchall()
    )
    assert rows == [(1, 9, 10), (1, 10, 10), (2, 9, 10), (2, 10, 10)]


def test_empty_tables_are_queryable(tmp_path: Path) -> None:
    connection = connect(tmp_path)
    assert connection.execute("SELECT count(*) FROM faces").fetchone() == (0,)
    columns = [c[0] for c in connection.execute("DESCRIBE frames").fetchall()]
    assert columns[:3] == ["camera_id", "ts", "frame_index"]
    assert columns[-2:] == ["date", "hour"]


def test_rolls_by_row_count_and_by_age(tmp_path: Path) -> None:
    clock = FakeClock()
    writer = LakeWriter(tmp_path, DETECTIONS, roll_seconds=30, roll_rows=5, clock=clock)
    start = T0 + timedelta(seconds=10)  # all in hour 10
    assert writer.add(detection(1, i, start + timedelta(seconds=i)) for i in range(4)) == []
    assert len(writer.add([detection(1, 4, start + timedelta(seconds=4))])) == 1  # 5 rows
    assert writer.add([detection(1, 5, start + timedelta(seconds=5))]) == []
    clock.now = 29.9
    assert writer.roll() == []
    clock.now = 30.0
    assert len(writer.roll()) == 1
    assert writer.buffered_rows == 0


def test_bad_rows_are_refused_and_nothing_is_written(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path, DETECTIONS)
    bad = detection(1, 0)
    bad["score"] = "high"
    writer.add([bad])
    with pytest.raises(Exception, match=r"score|float"):
        writer.flush()
    assert list(tmp_path.rglob("*.parquet")) == []
    assert list(tmp_path.rglob("*.tmp")) == []
    with pytest.raises(ValueError, match="lacks"):
        DETECTIONS.validate({"camera_id": 1})


def test_recovery_replay_neither_duplicates_nor_loses_rows(tmp_path: Path) -> None:
    """The dataflow snapshots the buffer, writes a file, crashes, and resumes from the snapshot
    with newer rows added: every row ends up exactly once."""
    writer = LakeWriter(tmp_path, DETECTIONS, roll_seconds=60, roll_rows=10_000)
    start = T0 + timedelta(seconds=10)
    rows = [detection(1, i, start + timedelta(seconds=i * 0.2)) for i in range(30)]
    writer.add(rows[:10])
    snapshot = writer.snapshot()
    writer.add(rows[10:20])
    writer.flush()  # file written with rows 0..19, then the process dies

    resumed = LakeWriter(tmp_path, DETECTIONS, roll_seconds=60, roll_rows=10_000)
    resumed.restore(snapshot)  # rows 0..9 again
    resumed.add(rows[20:30])
    resumed.flush()

    frame_indexes = duckdb.execute(
        f"SELECT frame_index FROM read_parquet('{tmp_path}/detections/**/*.parquet') ORDER BY 1"
    ).fetchall()
    assert [f for (f,) in frame_indexes] == list(range(30))


def test_readers_never_see_half_written_files(tmp_path: Path) -> None:
    writer = LakeWriter(tmp_path, FRAMES, roll_seconds=0, roll_rows=1)
    errors: list[Exception] = []
    counts: list[int] = []
    done = threading.Event()

    def read_continuously() -> None:
        while not done.is_set():
            try:
                row = connect(tmp_path).execute("SELECT count(*) FROM frames").fetchone()
                assert row is not None
                counts.append(row[0])
            except Exception as exc:
                errors.append(exc)

    reader = threading.Thread(target=read_continuously)
    reader.start()
    start = T0 + timedelta(seconds=5)
    for i in range(150):
        writer.add(
            [
                {
                    "camera_id": 3,
                    "ts": start + timedelta(milliseconds=200 * i),
                    "frame_index": i,
                    "width": 640,
                    "height": 480,
                    "analysed": True,
                    "skipped_by_gate": False,
                    "motion_area": 0.05,
                    "motion_calibrating": False,
                    "scene_change": False,
                    "motion_boxes": [[0.1, 0.1, 0.2, 0.2]] * 50,
                    "track_ids": list(range(20)),
                    "persons": 2,
                    "inference_ms": 80.0,
                    "total_ms": 95.0,
                }
            ]
        )
    done.set()
    reader.join()
    assert errors == []
    assert counts == sorted(counts)  # monotonic: files only ever appear whole
    assert counts[-1] <= 150
    files = list(tmp_path.rglob("*.parquet"))
    assert len(files) == 150
    assert sum(pq.read_metadata(f).num_rows for f in files) == 150


def test_replay_that_rolls_at_other_rows_still_writes_each_row_once(tmp_path: Path) -> None:
    """After a crash the replay's files need not start at the same rows as the first run's:
    rows already in any overlapping file of the partition are dropped."""
    start = T0 + timedelta(seconds=10)
    rows = [detection(1, i, start + timedelta(seconds=i * 0.2)) for i in range(40)]
    first = LakeWriter(tmp_path, DETECTIONS, roll_seconds=60, roll_rows=10_000)
    first.add(rows[:5])
    snapshot = first.snapshot()
    first.add(rows[5:12])
    first.flush()  # file of rows 0..11
    first.add(rows[12:25])
    first.flush()  # file of rows 12..24, then the process dies

    resumed = LakeWriter(tmp_path, DETECTIONS, roll_seconds=60, roll_rows=10_000)
    resumed.restore(snapshot)
    resumed.add(rows[5:9])
    resumed.flush()  # rolls earlier than the first run: rows 0..8 are all written already
    resumed.add(rows[9:40])
    resumed.flush()  # rows 9..39: 9..11 and 12..24 sit in two files named after other rows

    frame_indexes = duckdb.execute(
        f"SELECT frame_index FROM read_parquet('{tmp_path}/detections/**/*.parquet') ORDER BY 1"
    ).fetchall()
    assert [f for (f,) in frame_indexes] == list(range(40))


def test_a_partition_directory_that_cannot_be_made_keeps_the_rows(tmp_path: Path) -> None:
    (tmp_path / "detections").write_text("a file where the table's directory must go")
    writer = LakeWriter(tmp_path, DETECTIONS, roll_seconds=60, roll_rows=10_000)
    writer.add(detection(1, i) for i in range(3))
    with pytest.raises(NotADirectoryError):
        writer.flush()
    assert writer.buffered_rows == 3
    (tmp_path / "detections").unlink()
    assert len(writer.flush()) == 1 and writer.buffered_rows == 0
