"""Events and detections per camera per hour: one row per (camera, hour), one Parquet file per
row at `<lake>/hourly_stats/camera_id=<id>/date=<YYYY-MM-DD>/hour=<H>/stats.parquet`.

Rewriting an hour replaces its file atomically, so the asset is idempotent. Events are counted
from the database (the reconciled truth), detections from the lake. Read them with DuckDB:
`register_hourly_stats_view(connection, lake_root)` then `SELECT * FROM hourly_stats`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.db.models import Event
from vigil.lake.partitions import HOUR, hour_floor
from vigil.lake.store import LakeRoot, as_store
from vigil.records.schemas import RECORD_TYPES

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


def hourly_stats_path(lake_root: LakeRoot, camera_id: int, hour: datetime) -> str:
    hour = hour_floor(hour)
    store = as_store(lake_root)
    directory = store.partition_dir(TABLE, camera_id, f"{hour:%Y-%m-%d}", hour.hour)
    return f"{directory}/stats.parquet"


def _lake_counts(lake_root: LakeRoot, camera_id: int, hour: datetime) -> dict[str, int]:
    store = as_store(lake_root)
    day = f"{hour:%Y-%m-%d}"
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
            directory = store.partition_dir(table, camera_id, day, hour.hour)
            files = [i.path for i in store.files(directory)]
            if not files:
                continue
            db.register("source", store.dataset(files, RECORD_TYPES[table].schema))
            row = db.execute(f"{head} FROM source").fetchall()[0]
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
    session: Session, lake_root: LakeRoot, camera_id: int, hour: datetime, now: datetime
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
        "events": by_type.get("intrusion", 0) + by_type.get("motion", 0),  # not face events
        "intrusion_events": by_type.get("intrusion", 0),
        "motion_events": by_type.get("motion", 0),
        "computed_at": now,
    }


def write_hourly_stats(lake_root: LakeRoot, row: dict[str, Any]) -> str:
    path = hourly_stats_path(lake_root, int(row["camera_id"]), row["hour_start"])
    table = pa.Table.from_pylist([row], schema=HOURLY_STATS_SCHEMA)
    as_store(lake_root).write_table(table, path)  # replaces the hour's file atomically
    return path


def register_hourly_stats_view(connection: duckdb.DuckDBPyConnection, lake_root: LakeRoot) -> None:
    """A `hourly_stats` view (empty with the right columns until the first hour is written)."""
    store = as_store(lake_root)
    files = store.table_files(TABLE)
    if files:
        connection.register("_hourly_stats_files", store.dataset(files, HOURLY_STATS_SCHEMA))
        source = "_hourly_stats_files"
    else:
        connection.register("_hourly_stats_empty", HOURLY_STATS_SCHEMA.empty_table())
        source = "_hourly_stats_empty"
    connection.execute(f"CREATE OR REPLACE VIEW hourly_stats AS SELECT * FROM {source}")  # noqa: S608 (a constant)
