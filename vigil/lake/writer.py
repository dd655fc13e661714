"""Rolling, atomic, idempotent Parquet writer for one record type.

Rows are buffered per hive partition (camera_id, date, hour) and written as one file per
partition when the buffer is `roll_seconds` old or holds `roll_rows` rows. The lake is a local
directory or an S3 prefix (vigil.lake.store); either way a file appears whole or not at all, so
readers (DuckDB) never see a half-written file.
The buffer is part of the dataflow's recovery snapshot; a file name derives from its first
row, and rows already present in any file of the partition whose time range overlaps theirs
are dropped before writing, so replaying a snapshot after a crash neither duplicates nor loses
committed rows, even when the replay rolls its files at other rows than the first run did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePath, PurePosixPath
from typing import Any

from prometheus_client import Counter

from vigil.lake.layout import part_name
from vigil.lake.store import LakeRoot, LakeStore, as_store
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
        root: LakeRoot,
        record: RecordType,
        *,
        roll_seconds: float = 30.0,
        roll_rows: int = 5000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store: LakeStore = as_store(root)
        self.record = record
        self.roll_seconds = roll_seconds
        self.roll_rows = roll_rows
        self.clock = clock
        self._buffers: dict[Partition, _Buffer] = {}
        self._ranges: dict[str, tuple[int, tuple[Any, Any]]] = {}  # file -> (mtime, ts range)

    # --- buffering -----------------------------------------------------------------------------
    def add(self, rows: Iterable[dict[str, Any]]) -> list[PurePath]:
        """Buffer rows; returns the files written by any roll this caused."""
        now = self.clock()
        for row in rows:
            buffer = self._buffers.get(partition := partition_of(row))
            if buffer is None:
                buffer = self._buffers[partition] = _Buffer(opened_at=now)
            buffer.rows.append(row)
        return self.roll(now)

    def roll(self, now: float | None = None) -> list[PurePath]:
        """Write every partition whose buffer is old or big enough."""
        now = self.clock() if now is None else now
        due = [
            partition
            for partition, buffer in self._buffers.items()
            if len(buffer.rows) >= self.roll_rows or now - buffer.opened_at >= self.roll_seconds
        ]
        return [path for partition in due if (path := self._write(partition)) is not None]

    def flush(self) -> list[PurePath]:
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
    def _write(self, partition: Partition) -> PurePath | None:
        buffer = self._buffers.pop(partition)
        try:
            return self._write_rows(partition, buffer.rows)
        except BaseException:
            self._buffers[partition] = buffer  # keep the rows for the next attempt
            raise

    def _write_rows(self, partition: Partition, rows: list[dict[str, Any]]) -> PurePath | None:
        rows = sorted(rows, key=lambda r: r["ts"])
        directory = self.store.partition_dir(self.record.name, *partition)
        rows = self._drop_already_written(directory, rows)
        if not rows:
            return None
        path = f"{directory}/{part_name(rows[0], self.record.key_fields)}"
        self.store.write_table(self.record.table(rows), path, compression="zstd")
        ROWS_WRITTEN.labels(self.record.name).inc(len(rows))
        FILES_WRITTEN.labels(self.record.name).inc()
        return Path(path) if self.store.local else PurePosixPath(path)

    def _drop_already_written(
        self, directory: str, rows: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """`rows` (sorted by ts) minus those some file of the partition already holds. Only
        files whose ts range overlaps the rows' are read; in normal operation new rows are
        newer than every file, so this reads footers and nothing else."""
        files = self.store.files(directory)
        if not files:
            return rows
        keys = self.record.key_fields
        first, last = rows[0]["ts"], rows[-1]["ts"]
        seen: set[tuple[Any, ...]] = set()
        for info in files:
            low, high = self._ts_range(info.path, info.mtime_ns or 0)
            if low is None or high is None or (high >= first and low <= last):
                written = self.store.read_table(info.path, columns=list(keys)).to_pylist()
                seen.update(tuple(r[k] for k in keys) for r in written)
        if not seen:
            return rows
        fresh = [r for r in rows if tuple(r[k] for k in keys) not in seen]
        if dropped := len(rows) - len(fresh):
            ROWS_DEDUPLICATED.labels(self.record.name).inc(dropped)
            log.info("lake_rows_deduplicated", table=self.record.name, rows=dropped)
        return fresh

    def _ts_range(self, path: str, mtime: int) -> tuple[Any, Any]:
        cached = self._ranges.get(path)
        if cached is None or cached[0] != mtime:
            cached = self._ranges[path] = (mtime, _ts_range(self.store, path))
        return cached[1]


def _ts_range(store: LakeStore, path: str) -> tuple[Any, Any]:
    """(min, max) of the file's `ts` column from its footer statistics; (None, None) if the
    file has no statistics (then it is read in full)."""
    metadata = store.read_metadata(path)
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
