"""Events and detections per camera per hour: one row per (camera, hour), one Parquet file per
row at `<lake>/hourly_stats/camera_id=<id>/date=<YYYY-MM-DD>/hour=<H>/stats.parquet`.

Rewriting an hour replaces its file atomically, so the asset is idempotent. Events are counted
from the database (the reconciled truth), detections from the lake. Read them with DuckDB:
`register_hourly_stats_view(connection, lake_root)` then `SELECT * FROM hourly_stats`.
"""

from __future__ import annotations

import glob
import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.db.models import Event
from vigil.lake.layout import TEMP_SUFFIX, partition_dir
from vigil.lake.partitions import HOUR, hour_files, hour_floor

TABLE = "hourly_stats"
TS = pa.timestamp("us", tz="UTC")
HOURLY_STATS_SCHEMA = pa.schema(
    [
        pa.field("camera_id", pa.int64(), nullable=False),
        pa.field("hour_start", TS, nullable=False),
        pa.field("frames", pa.int64(), nullable=False),  # analysed frames (detect stream)
        pa.field("detector_frames", pa.int64(), nullable=False),  # the person detector ran
        pa.field("detections", pa.int64(), nullable=False),  # person boxes, tracked or not
        pa.field("tracks", pa.int64(), nullable=False),  # distinct person tracks
        pa.field("max_persons", pa.int64(), nullable=False),  # most persons in one frame
        pa.field("faces", pa.int64(), nullable=False),
        pa.field("events", pa.int64(), nullable=False),  # events starting in the hour
        pa.field("intrusion_events", pa.int64(), nullable=False),
        pa.field("motion_events", pa.int64(), nullable=False),
        pa.field("computed_at", TS, nullable=False),
    ]
)


def hourly_stats_path(lake_root: Path, camera_id: int, hour: datetime) -> Path:
    hour = hour_floor(hour)
    directory = partition_dir(lake_root, TABLE, camera_id, f"{hour:%Y-%m-%d}", hour.hour)
    return directory / "stats.parquet"


def _lake_counts(lake_root: Path, camera_id: int, hour: datetime) -> dict[str, int]:
    counts = {"frames": 0, "detector_frames": 0, "max_persons": 0}
    counts |= {"detections": 0, "tracks": 0, "faces": 0}
    db = duckdb.connect()
    try:
        queries = {
            "frames": "SELECT count(*), count(*) FILTER (WHERE analysed), "
            "coalesce(max(persons), 0)",
            "detections": "SELECT count(*), count(DISTINCT track_id)",
            "faces": "SELECT count(*)",
        }
        for table, head in queries.items():
            files = [str(f) for f in hour_files(lake_root, table, camera_id, hour)]
            if not files:
                continue
            source = "read_parquet($files, union_by_name = true, hive_partitioning = false)"
            row = db.execute(f"{head} FROM {source}", {"files": files}).fetchall()[0]
            if table == "frames":
                counts["frames"], counts["detector_frames"], counts["max_persons"] = map(int, row)
            elif table == "detections":
                counts["detections"], counts["tracks"] = int(row[0]), int(row[1])
            else:
                counts["faces"] = int(row[0])
    finally:
        db.close()
    return counts


def compute_hourly_stats(
    session: Session, lake_root: Path, camera_id: int, hour: datetime, now: datetime
) -> dict[str, Any]:
    hour = hour_floor(hour)
    counts = session.execute(
        select(Event.type, func.count())
        .where(Event.camera_id == camera_id, Event.start_ts >= hour, Event.start_ts < hour + HOUR)
        .group_by(Event.type)
    )
    by_type: dict[str, int] = {kind: int(n) for kind, n in counts}
    return {
        "camera_id": camera_id,
        "hour_start": hour,
        **_lake_counts(lake_root, camera_id, hour),
        "events": sum(by_type.values()),
        "intrusion_events": by_type.get("intrusion", 0),
        "motion_events": by_type.get("motion", 0),
        "computed_at": now,
    }


def write_hourly_stats(lake_root: Path, row: dict[str, Any]) -> Path:
    path = hourly_stats_path(lake_root, int(row["camera_id"]), row["hour_start"])
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}"
    try:
        pq.write_table(pa.Table.from_pylist([row], schema=HOURLY_STATS_SCHEMA), temp)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def register_hourly_stats_view(connection: duckdb.DuckDBPyConnection, lake_root: Path) -> None:
    """A `hourly_stats` view (empty with the right columns until the first hour is written)."""
    pattern = str(Path(lake_root) / TABLE / "**" / "*.parquet")
    if glob.glob(pattern, recursive=True):
        escaped = pattern.replace("'", "''")
        connection.execute(
            "CREATE OR REPLACE VIEW hourly_stats AS SELECT * EXCLUDE (date, hour) FROM "  # noqa: S608 (path from settings)
            f"read_parquet('{escaped}', hive_partitioning = true, union_by_name = true)"
        )
    else:
        connection.register("_hourly_stats_empty", HOURLY_STATS_SCHEMA.empty_table())
        connection.execute(
            "CREATE OR REPLACE VIEW hourly_stats AS SELECT * FROM _hourly_stats_empty"
        )
