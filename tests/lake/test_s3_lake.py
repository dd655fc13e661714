"""The lake on S3 (a real SeaweedFS on loopback): the dataflow's writer writes it, DuckDB reads
it through pyarrow datasets, compaction and the replay work there, and readers running while
files are written or merged only ever see whole files, each row once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.fs as pafs
import pytest
from sqlalchemy import select

from tests.dataflow.test_outputs import Clock, frame_row
from tests.fixtures.services import ACCESS_KEY, SECRET_KEY
from tests.pipelines import lakedata
from tests.pipelines.world import box, make_camera, make_zone
from vigil.db.models import Event
from vigil.db.session import session_factory, session_scope
from vigil.embedded import SeaweedFS, SeaweedPorts, free_port_block
from vigil.events.reconcile import replay_and_reconcile
from vigil.lake.compaction import compact_lake
from vigil.lake.partitions import hour_partitions
from vigil.lake.query import connect
from vigil.lake.store import LakeStore, lake_from_settings
from vigil.lake.writer import LakeWriter
from vigil.media.paths import MediaPaths
from vigil.records import DETECTIONS, FRAMES
from vigil.retention import RetentionPolicy, sweep
from vigil.rules import RulesConfig
from vigil.settings import Settings
from vigil.storage import LocalObjectStore
from vigil.streaming.lake_output import LakeOutput
from vigil.streaming.outputs import CameraOutput, Heartbeat

HOUR = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WALKS = [
    lakedata.Walk(1, HOUR + timedelta(minutes=5), 20, (0.0, 0.5), (0.5, 0.5)),
    lakedata.Walk(2, HOUR + timedelta(minutes=20), 20, (0.5, 0.5), (1.0, 0.5)),
    lakedata.Walk(3, HOUR + timedelta(minutes=70), 20, (0.0, 0.5), (0.5, 0.5)),
]


@pytest.fixture
def s3_lake(seaweedfs: SeaweedFS, s3_bucket: str) -> LakeStore:
    return LakeStore.s3(seaweedfs.s3_config, s3_bucket, "lake")


def _objects(lake: LakeStore) -> list[str]:
    selector = pafs.FileSelector(lake.root, recursive=True, allow_not_found=True)
    infos = lake.filesystem.get_file_info(selector)
    return sorted(i.path for i in infos if i.type == pafs.FileType.File)


def _query(lake: Path | LakeStore, sql: str) -> list[tuple[Any, ...]]:
    db = connect(lake)
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


ALL_FRAMES = "SELECT camera_id, date, hour, ts, frame_index, persons FROM frames ORDER BY ts"
ALL_DETECTIONS = "SELECT camera_id, hour, ts, index, track_id, bbox FROM detections ORDER BY ALL"


def test_the_settings_put_the_lake_in_the_bucket_when_the_store_is_s3(tmp_path: Path) -> None:
    s3 = Settings(data_dir=tmp_path, object_store="s3", s3_endpoint_url="http://127.0.0.1:1")
    lake = lake_from_settings(s3)
    assert (lake.local, lake.url) == (False, "s3://vigil/lake")
    assert lake_from_settings(s3.model_copy(update={"lake_store": "directory"})).local
    local = lake_from_settings(Settings(data_dir=tmp_path, object_store="local"))
    assert (local.local, local.root) == (True, str((tmp_path / "lake").resolve()))


def test_the_writer_writes_s3_and_duckdb_reads_it_like_a_local_lake(
    s3_lake: LakeStore, tmp_path: Path
) -> None:
    rows = list(lakedata.rows(7, HOUR + timedelta(minutes=50), 1200, 5, WALKS))
    assert lakedata.write(s3_lake, rows, roll_rows=1000) == 6000
    lakedata.write(tmp_path, rows, roll_rows=1000)

    objects = _objects(s3_lake)
    assert objects, "nothing written to the bucket"
    # Only published Parquet files: no temporary key is left behind.
    assert all(o.endswith(".parquet") and "/." not in o for o in objects)
    assert any("/frames/camera_id=7/date=2026-11-20/hour=13/" in o for o in objects)

    frames = _query(s3_lake, ALL_FRAMES)
    assert len(frames) == 6000
    assert frames == _query(tmp_path, ALL_FRAMES)
    assert _query(s3_lake, ALL_DETECTIONS) == _query(tmp_path, ALL_DETECTIONS)
    hours = "SELECT hour, count(*) FROM frames GROUP BY hour ORDER BY hour"
    assert _query(s3_lake, hours) == [(12, 3000), (13, 3000)]
    # A table nobody wrote yet is an empty view of the right shape.
    assert _query(s3_lake, "SELECT count(*) FROM faces") == [(0,)]


def test_rewriting_after_a_crash_adds_no_duplicate_on_s3(s3_lake: LakeStore) -> None:
    rows = [f for f, _ in lakedata.rows(7, HOUR, 60, 5, WALKS)]
    first = LakeWriter(s3_lake, FRAMES, roll_seconds=1e9, roll_rows=100)
    first.add(rows[:250])  # two files written, 50 rows still buffered (the snapshot)
    snapshot = first.snapshot()
    resumed = LakeWriter(s3_lake, FRAMES, roll_seconds=1e9, roll_rows=100)
    resumed.restore(rows[150:250])  # a replay from an older snapshot: 100 rows again
    resumed.add(snapshot + rows[250:])
    resumed.flush()
    assert _query(s3_lake, "SELECT count(*), count(DISTINCT ts) FROM frames") == [(300, 300)]


def test_compaction_on_s3_keeps_every_row_once(s3_lake: LakeStore) -> None:
    lakedata.write(s3_lake, lakedata.rows(7, HOUR, 7200, 5, WALKS), roll_rows=500)
    before = {q: _query(s3_lake, q) for q in (ALL_FRAMES, ALL_DETECTIONS)}
    files = {(p.table, p.hour): len(p.files()) for p in hour_partitions(s3_lake)}
    assert files[("frames", 12)] == 36

    report = compact_lake(s3_lake, now=HOUR + timedelta(hours=2, minutes=30), min_files=4)
    assert (report.partitions, report.files_before, report.files_after) == (1, 36, 1)
    assert report.rows == 3600 * 5 and report.duplicates_dropped == 0
    after = {(p.table, p.hour): len(p.files()) for p in hour_partitions(s3_lake)}
    assert after == files | {("frames", 12): 1}
    assert {q: _query(s3_lake, q) for q in before} == before
    # The merged small files are gone from the bucket, not only hidden.
    hour12 = [o for o in _objects(s3_lake) if "/frames/camera_id=7/date=2026-11-20/hour=12/" in o]
    assert len(hour12) == 1 and hour12[0].endswith(".compacted.parquet")

    # Compacting again changes nothing.
    again = compact_lake(s3_lake, now=HOUR + timedelta(hours=2, minutes=30), min_files=4)
    assert again.partitions == 0
    assert {q: _query(s3_lake, q) for q in before} == before


def test_the_replay_reads_the_lake_on_s3(
    database_url: str, s3_lake: LakeStore, tmp_path: Path
) -> None:
    camera = make_camera(database_url)
    make_zone(database_url, camera, "Left", box(0.1, 0.3, 0.3, 0.7))
    rows = list(lakedata.rows(camera, HOUR, 3600, 5, WALKS))
    lakedata.write(s3_lake, rows, roll_rows=2000)
    compact_lake(s3_lake, now=HOUR + timedelta(days=1), min_files=2)  # the replay reads both

    config = RulesConfig(motion_enabled=False)
    now = HOUR + timedelta(days=1)
    with session_scope(database_url) as session:
        report = replay_and_reconcile(
            session, s3_lake, camera, HOUR, HOUR + timedelta(hours=1), config=config, now=now
        )
        session.commit()
    assert len(report.inserted) == 1  # person 1 crosses the left zone; person 2 stays right of it
    with session_scope(database_url) as session:
        (event,) = session.scalars(select(Event).where(Event.camera_id == camera))
        assert event.start_ts.replace(tzinfo=UTC) >= HOUR + timedelta(minutes=5)
    with session_scope(database_url) as session:
        again = replay_and_reconcile(
            session, s3_lake, camera, HOUR, HOUR + timedelta(hours=1), config=config, now=now
        )
    assert (again.inserted, again.updated, again.deleted) == ([], [], [])


class _Reader(threading.Thread):
    """Lists the frames table and reads every listed file until told to stop; records what
    every complete pass saw."""

    def __init__(self, lake: LakeStore, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.lake, self.stop = lake, stop
        self.passes: list[tuple[int, int, list[int]]] = []  # rows, distinct ts, rows per file
        self.vanished = 0  # a listed file deleted before it was read (compaction)
        self.errors: list[BaseException] = []

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.one_pass()
            except OSError as exc:  # S3: RESOURCE_NOT_FOUND / NoSuchKey during GetObject
                if not isinstance(exc, FileNotFoundError) and "NOT_FOUND" not in str(exc):
                    self.errors.append(exc)
                    return
                self.vanished += 1
            except BaseException as exc:  # anything else is a half-written or broken file
                self.errors.append(exc)
                return

    def one_pass(self) -> None:
        files = self.lake.table_files("frames")
        tables = [self.lake.read_table(f, columns=["ts"]) for f in files]
        ts = [v for t in tables for v in t.column("ts").to_pylist()]
        self.passes.append((len(ts), len(set(ts)), [t.num_rows for t in tables]))


def test_readers_never_see_a_half_written_file_or_a_row_twice(s3_lake: LakeStore) -> None:
    frames = [f for f, _ in lakedata.rows(7, HOUR, 1200, 5, WALKS)]  # 6000 rows, 12:00-12:20
    stop = threading.Event()
    reader = _Reader(s3_lake, stop)
    writer = LakeWriter(s3_lake, FRAMES, roll_seconds=1e9, roll_rows=1000)
    reader.start()
    for start in range(0, len(frames), 1000):
        writer.add(frames[start : start + 1000])  # each call publishes one 1000-row file
        # Pace the writer by the reader: every intermediate state is read at least once.
        seen = len(reader.passes)
        while len(reader.passes) < seen + 2 and reader.is_alive():
            threading.Event().wait(0.01)
    compact_lake(s3_lake, now=HOUR + timedelta(days=1), min_files=2)
    stop.set()
    reader.join()
    reader.one_pass()  # a last pass after everything settled

    assert not reader.errors, reader.errors
    assert {rows for rows, _, _ in reader.passes} >= {1000, 2000, 3000, 4000, 5000, 6000}
    assert reader.passes[-1] == (6000, 6000, [6000])
    for rows, distinct, per_file in reader.passes:
        assert rows == distinct  # never a row twice (merged file and its sources together)
        # Whole files only: the writer's 1000-row files or the merged one.
        assert all(n == 1000 for n in per_file) or per_file == [6000], per_file


def test_the_writer_returns_the_keys_it_published(s3_lake: LakeStore) -> None:
    start = HOUR + timedelta(minutes=5)
    rows = [d for _, ds in lakedata.rows(3, start, 10, 5, WALKS) for d in ds]
    assert rows
    writer = LakeWriter(s3_lake, DETECTIONS, roll_seconds=1e9, roll_rows=10_000)
    writer.add(rows)
    (path,) = writer.flush()
    assert str(path).startswith(f"{s3_lake.root}/detections/camera_id=3/date=2026-11-20/hour=12/")
    assert _query(s3_lake, "SELECT count(*) FROM detections") == [(len(rows),)]


def test_the_dataflow_lake_output_waits_for_the_object_store(tmp_path: Path) -> None:
    """The dataflow's lake sink on S3: while the store is unreachable rows wait and the write
    is retried with backoff; once it is up, each row is written once."""
    port = free_port_block(SeaweedPorts.OFFSETS, low=10000, high=22000)
    weed = SeaweedFS(tmp_path / "weed", access_key=ACCESS_KEY, secret_key=SECRET_KEY, s3_port=port)
    lake = LakeStore.s3(weed.s3_config, weed.bucket, "lake")
    clock = Clock()
    output = LakeOutput(lake, "001", roll_seconds=0, roll_rows=1, clock=clock)
    output.write([CameraOutput(1, frames=[frame_row(1, i)]) for i in range(3)])  # not started
    assert output.backoff.failing and output.buffered_rows == 3
    weed.start()
    try:
        clock.now += 120  # past the backoff
        output.write([Heartbeat(1)])
        assert not output.backoff.failing and output.buffered_rows == 0
        assert _query(lake, "SELECT frame_index FROM frames ORDER BY 1") == [(0,), (1,), (2,)]
    finally:
        weed.stop()


def test_retention_removes_expired_lake_hours_from_s3(
    database_url: str, s3_lake: LakeStore, tmp_path: Path
) -> None:
    camera = make_camera(database_url)
    old = list(lakedata.rows(camera, HOUR + timedelta(minutes=4), 120, 5, WALKS))
    recent = list(lakedata.rows(camera, HOUR + timedelta(days=40), 120, 5, WALKS))
    lakedata.write(s3_lake, old + recent)
    assert {p.date for p in hour_partitions(s3_lake)} == {"2026-11-20", "2026-12-30"}

    report = sweep(
        session_factory(database_url),
        LocalObjectStore(tmp_path / "objects"),
        MediaPaths(tmp_path / "media"),
        s3_lake,
        RetentionPolicy(lake_days=30),
        now=HOUR + timedelta(days=41),
    )
    assert report.reasons == {"age": 2}  # the old hour's frames and detections partitions
    assert {p.date for p in hour_partitions(s3_lake)} == {"2026-12-30"}
    assert not any("date=2026-11-20" in key for key in _objects(s3_lake))
    assert _query(s3_lake, "SELECT count(*) FROM frames") == [(len(recent),)]
