"""Rolling, atomic, idempotent Parquet writer for one record type.

Rows are buffered per hive partition (camera_id, date, hour) and written as one file per
partition when the buffer is `roll_seconds` old or holds `roll_rows` rows. A file is written to
a temporary name and renamed into place, so readers (DuckDB) never see a half-written file.
The buffer is part of the dataflow's recovery snapshot; a file name derives from its first
row, and rows already present in any file of the partition whose time range overlaps theirs
are dropped before writing, so replaying a snapshot after a crash neither duplicates nor loses
committed rows, even when the replay rolls its files at other rows than the first run did.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from prometheus_client import Counter

from vigil.lake.layout import TEMP_SUFFIX, part_name, partition_dir
from vigil.logs import get_logger
from vigil.records.schemas import RecordType, partition_of

log = get_logger(__name__)

ROWS_WRITTEN = Counter("vigil_lake_rows_written", "Rows written to the lake", ["table"])
FILES_WRITTEN = Counter("vigil_lake_files_written", "Parquet files written", ["table"])
ROWS_DEDUPLICATED = Counter(
    "vigil_lake_rows_deduplicated", "Rows dropped as already written (recovery)", ["table"]
)

Partition = tuple[int, str, int]


@dataclass
class _Buffer:
    rows: list[dict[str, Any]] = field(default_factory=list)
    opened_at: float = 0.0


class LakeWriter:
    def __init__(
        self,
        root: Path,
        record: RecordType,
        *,
        roll_seconds: float = 30.0,
        roll_rows: int = 5000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.root = Path(root)
        self.record = record
        self.roll_seconds = roll_seconds
        self.roll_rows = roll_rows
        self.clock = clock
        self._buffers: dict[Partition, _Buffer] = {}
        self._ranges: dict[Path, tuple[int, tuple[Any, Any]]] = {}  # file -> (mtime, ts range)

    # --- buffering -----------------------------------------------------------------------------
    def add(self, rows: Iterable[dict[str, Any]]) -> list[Path]:
        """Buffer rows; returns the files written by any roll this caused."""
        now = self.clock()
        for row in rows:
            buffer = self._buffers.get(partition := partition_of(row))
            if buffer is None:
                buffer = self._buffers[partition] = _Buffer(opened_at=now)
            buffer.rows.append(row)
        return self.roll(now)

    def roll(self, now: float | None = None) -> list[Path]:
        """Write every partition whose buffer is old or big enough."""
        now = self.clock() if now is None else now
        due = [
            partition
            for partition, buffer in self._buffers.items()
            if len(buffer.rows) >= self.roll_rows or now - buffer.opened_at >= self.roll_seconds
        ]
        return [path for partition in due if (path := self._write(partition)) is not None]

    def flush(self) -> list[Path]:
        """Write everything buffered (shutdown, end of a batch)."""
        return [path for p in list(self._buffers) if (path := self._write(p)) is not None]

    @property
    def buffered_rows(self) -> int:
        return sum(len(b.rows) for b in self._buffers.values())

    # --- recovery ------------------------------------------------------------------------------
    def snapshot(self) -> list[dict[str, Any]]:
        return [row for buffer in self._buffers.values() for row in buffer.rows]

    def restore(self, rows: list[dict[str, Any]]) -> None:
        self._buffers.clear()
        self.add(rows)

    # --- writing -------------------------------------------------------------------------------
    def _write(self, partition: Partition) -> Path | None:
        buffer = self._buffers.pop(partition)
        try:
            return self._write_rows(partition, buffer.rows)
        except BaseException:
            self._buffers[partition] = buffer  # keep the rows for the next attempt
            raise

    def _write_rows(self, partition: Partition, rows: list[dict[str, Any]]) -> Path | None:
        rows = sorted(rows, key=lambda r: r["ts"])
        directory = partition_dir(self.root, self.record.name, *partition)
        rows = self._drop_already_written(directory, rows)
        if not rows:
            return None
        path = directory / part_name(rows[0], self.record.key_fields)
        directory.mkdir(parents=True, exist_ok=True)
        temp = directory / f".{path.name}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}"
        try:
            pq.write_table(self.record.table(rows), temp, compression="zstd")
            os.replace(temp, path)  # atomic on POSIX: readers see the old state or the new
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        ROWS_WRITTEN.labels(self.record.name).inc(len(rows))
        FILES_WRITTEN.labels(self.record.name).inc()
        return path

    def _drop_already_written(
        self, directory: Path, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """`rows` (sorted by ts) minus those some file of the partition already holds. Only
        files whose ts range overlaps the rows' are read; in normal operation new rows are
        newer than every file, so this reads footers and nothing else."""
        if not directory.is_dir():
            return rows
        keys = self.record.key_fields
        first, last = rows[0]["ts"], rows[-1]["ts"]
        seen: set[tuple[Any, ...]] = set()
        for path in directory.glob("*.parquet"):
            low, high = self._ts_range(path)
            if low is None or high is None or (high >= first and low <= last):
                written = pq.read_table(path, columns=list(keys)).to_pylist()
                seen.update(tuple(r[k] for k in keys) for r in written)
        if not seen:
            return rows
        fresh = [r for r in rows if tuple(r[k] for k in keys) not in seen]
        if dropped := len(rows) - len(fresh):
            ROWS_DEDUPLICATED.labels(self.record.name).inc(dropped)
            log.info("lake_rows_deduplicated", table=self.record.name, rows=dropped)
        return fresh

    def _ts_range(self, path: Path) -> tuple[Any, Any]:
        mtime = path.stat().st_mtime_ns
        cached = self._ranges.get(path)
        if cached is None or cached[0] != mtime:
            cached = self._ranges[path] = (mtime, _ts_range(path))
        return cached[1]


def _ts_range(path: Path) -> tuple[Any, Any]:
    """(min, max) of the file's `ts` column from its footer statistics; (None, None) if the
    file has no statistics (then it is read in full)."""
    metadata = pq.read_metadata(path)
    names = [metadata.schema.column(i).name for i in range(metadata.num_columns)]
    if "ts" not in names or metadata.num_row_groups == 0:
        return None, None
    column = names.index("ts")
    lows, highs = [], []
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(column).statistics
        if stats is None or not stats.has_min_max:
            return None, None
        lows.append(stats.min)
        highs.append(stats.max)
    return min(lows), max(highs)
