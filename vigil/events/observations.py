"""A camera's rule observations read back from the Parquet lake, hour partition by hour.

Only the hour partitions that overlap the requested span are opened (the paths come from
vigil.lake.layout, no glob over the whole lake), and rows go through the same conversion the
live path uses (vigil.records.convert.rule_observations), so live and replay see the same input.
Slices are read lazily: the replay stops pulling once every event of its window is closed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import duckdb

from vigil.lake.partitions import HOUR, hours_between
from vigil.lake.store import LakeRoot, as_store
from vigil.records.convert import rule_observations
from vigil.records.schemas import RECORD_TYPES
from vigil.rules.types import Observation, as_utc

Row = dict[str, Any]
# Both sorted by ts, as rule_observations needs; ties in a fixed order for determinism.
_ORDER = {"frames": "ts, frame_index", "detections": "ts, frame_index, index"}
# Only the columns the rules read (vigil.records.convert.rule_observations).
_COLUMNS = {
    "frames": "camera_id, ts, frame_index, motion_area, motion_boxes, track_ids",
    "detections": "camera_id, ts, frame_index, index, track_id, score, bbox",
}
#: Read in slices: a replay that only needs the start of the next hour (its lookahead) stops
#: after one slice instead of converting the whole hour.
SLICE = timedelta(minutes=10)


@dataclass
class LakeReader:
    """Reads one camera's rows; counts what it read (for reports and benchmarks)."""

    lake_root: LakeRoot  # a local directory or a LakeStore (S3)
    camera_id: int
    frames_read: int = 0
    detections_read: int = 0
    first_ts: datetime | None = None
    last_ts: datetime | None = None

    def __post_init__(self) -> None:
        self._store = as_store(self.lake_root)
        self._files: dict[tuple[str, datetime], list[str]] = {}
        self._db = duckdb.connect()
        self._db.execute("SET TimeZone = 'UTC'")

    def close(self) -> None:
        self._db.close()

    def _hour_files(self, table: str, hour: datetime) -> list[str]:
        if (table, hour) not in self._files:
            day = f"{hour:%Y-%m-%d}"
            directory = self._store.partition_dir(table, self.camera_id, day, hour.hour)
            self._files[table, hour] = [i.path for i in self._store.files(directory)]
        return self._files[table, hour]

    def _hour_rows(self, table: str, hour: datetime, start: datetime, end: datetime) -> list[Row]:
        files = self._hour_files(table, hour)
        if not files:
            return []
        source = "read_parquet($files, union_by_name = true, hive_partitioning = false)"
        params: dict[str, Any] = {"start": start, "end": end}
        if self._store.local:
            params["files"] = files
        else:  # DuckDB reads S3 through a pyarrow dataset (no httpfs extension)
            dataset = self._store.dataset(files, schema=RECORD_TYPES[table].schema)
            self._db.register("_source", dataset)
            source = "_source"
        where = "WHERE ts >= $start AND ts < $end"
        query = f"SELECT {_COLUMNS[table]} FROM {source} {where} ORDER BY {_ORDER[table]}"  # noqa: S608
        rows: list[Row] = self._db.sql(query, params=params).to_arrow_table().to_pylist()
        return rows

    def observations(self, start: datetime, end: datetime) -> Iterator[Observation]:
        """The rules' batch input over [start, end), hour partition by hour partition, each in
        ten-minute slices."""
        start, end = as_utc(start, "start"), as_utc(end, "end")
        for hour in hours_between(start, end):
            if not self._hour_files("frames", hour):
                continue
            lo = max(start, hour)
            while lo < min(end, hour + HOUR):
                hi = min(end, hour + HOUR, lo + SLICE)
                yield from self._slice(hour, lo, hi)
                lo = hi

    def _slice(self, hour: datetime, lo: datetime, hi: datetime) -> Iterator[Observation]:
        frames = self._hour_rows("frames", hour, lo, hi)
        if frames:
            detections = self._hour_rows("detections", hour, lo, hi)
            self.frames_read += len(frames)
            self.detections_read += len(detections)
            self.first_ts = self.first_ts or frames[0]["ts"].astimezone(UTC)
            self.last_ts = frames[-1]["ts"].astimezone(UTC)
            yield from rule_observations(frames, detections)
