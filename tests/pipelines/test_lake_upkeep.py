"""Lake compaction and hourly stats over real Parquet files read back by DuckDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from tests.pipelines import lakedata
from tests.pipelines.world import box, make_camera, make_zone
from vigil.db.session import session_scope
from vigil.events.reconcile import replay_and_reconcile
from vigil.lake.compaction import STAGING, compact_lake
from vigil.lake.partitions import hour_partitions
from vigil.lake.query import connect
from vigil.rules import RulesConfig
from vigil.stats import compute_hourly_stats, register_hourly_stats_view, write_hourly_stats

HOUR = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WALKS = [
    lakedata.Walk(1, HOUR + timedelta(minutes=5), 20, (0.0, 0.5), (0.5, 0.5)),
    lakedata.Walk(2, HOUR + timedelta(minutes=5, seconds=3), 20, (0.0, 0.6), (0.5, 0.6)),
    lakedata.Walk(3, HOUR + timedelta(minutes=70), 20, (0.0, 0.5), (0.5, 0.5)),
]


def _table(lake: Path, table: str) -> list[dict]:
    db = connect(lake)
    try:
        return (
            db.sql(f"SELECT * FROM {table} ORDER BY ts, frame_index").to_arrow_table().to_pylist()
        )
    finally:
        db.close()


def test_compaction_merges_closed_hours_and_keeps_every_row(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    lakedata.write(lake, lakedata.rows(7, HOUR, 7200, 5, WALKS), roll_rows=500)
    (lake / STAGING / "left-by-a-crash").mkdir(parents=True)
    before = {t: _table(lake, t) for t in ("frames", "detections")}
    files = {(p.table, p.hour): len(p.files()) for p in hour_partitions(lake)}
    assert files == {
        ("frames", 12): 36,
        ("frames", 13): 36,
        ("detections", 12): 1,
        ("detections", 13): 1,
    }

    # 13:00-14:00 ended less than the grace ago at 14:30: only 12:00 is compacted, and only
    # where it holds enough files.
    report = compact_lake(lake, now=HOUR + timedelta(hours=2, minutes=30), min_files=4)
    assert (report.partitions, report.files_before, report.files_after) == (1, 36, 1)
    after = {(p.table, p.hour): len(p.files()) for p in hour_partitions(lake)}
    assert after == files | {("frames", 12): 1}
    assert {t: _table(lake, t) for t in before} == before  # every row, same values
    assert report.rows == 3600 * 5 and report.duplicates_dropped == 0
    assert not (lake / STAGING).exists()

    merged = next(p for p in hour_partitions(lake) if p.table == "frames" and p.hour == 12)
    assert pq.read_schema(merged.files()[0]).field("ts").type.tz == "UTC"
    assert compact_lake(lake, now=HOUR + timedelta(hours=2, minutes=30)).partitions == 0


def test_replay_is_the_same_before_and_after_compaction(database_url: str, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    camera = make_camera(database_url)
    make_zone(database_url, camera, "Walk", box(0.1, 0.3, 0.3, 0.7))
    lakedata.write(lake, lakedata.rows(camera, HOUR, 7200, 5, WALKS), roll_rows=500)
    config = RulesConfig(motion_enabled=False)
    now = HOUR + timedelta(days=1)
    with session_scope(database_url) as session:
        first = replay_and_reconcile(
            session, lake, camera, HOUR, HOUR + timedelta(hours=1), config=config, now=now
        )
    assert first.counts()["inserted"] == 1
    compact_lake(lake, now=now)
    with session_scope(database_url) as session:
        second = replay_and_reconcile(
            session, lake, camera, HOUR, HOUR + timedelta(hours=1), config=config, now=now
        )
    assert second.counts()["unchanged"] == 1 and second.changed == 0


def test_hourly_stats_count_events_and_detections(database_url: str, tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    camera = make_camera(database_url)
    make_zone(database_url, camera, "Walk", box(0.1, 0.3, 0.3, 0.7))
    lakedata.write(lake, lakedata.rows(camera, HOUR, 7200, 5, WALKS))
    now = HOUR + timedelta(days=1)
    with session_scope(database_url) as session:
        for hour in (HOUR, HOUR + timedelta(hours=1)):
            replay_and_reconcile(
                session,
                lake,
                camera,
                hour,
                hour + timedelta(hours=1),
                config=RulesConfig(motion_enabled=False),
                now=now,
            )
            write_hourly_stats(lake, compute_hourly_stats(session, lake, camera, hour, now))
        # Rewriting an hour replaces its row.
        write_hourly_stats(lake, compute_hourly_stats(session, lake, camera, HOUR, now))

    db = connect(lake)
    register_hourly_stats_view(db, lake)
    rows = db.sql("SELECT * FROM hourly_stats ORDER BY hour_start").to_arrow_table().to_pylist()
    assert [r["hour_start"] for r in rows] == [HOUR, HOUR + timedelta(hours=1)]
    first, second = rows
    assert first["frames"] == 3600 * 5 and first["tracks"] == 2 and first["max_persons"] == 2
    assert first["detections"] == 2 * 20 * 5
    assert (first["events"], first["intrusion_events"], first["motion_events"]) == (1, 1, 0)
    assert (second["tracks"], second["events"]) == (1, 1)

    empty = connect(tmp_path / "no-lake")
    register_hourly_stats_view(empty, tmp_path / "no-lake")
    assert empty.execute("SELECT count(*) FROM hourly_stats").fetchall() == [(0,)]
