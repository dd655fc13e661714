"""The lake's hour partitions: `<table>/camera_id=<n>/date=<YYYY-MM-DD>/hour=<h>`, listed and
read by the replay, hourly stats, compaction and retention alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePath, PurePosixPath

import pyarrow.fs as pafs

from vigil.lake.store import LakeRoot, LakeStore, as_store
from vigil.records.schemas import RECORD_TYPES

HOUR = timedelta(hours=1)


def _utc(ts: datetime) -> datetime:
    if ts.utcoffset() is None:
        raise ValueError(f"ts must be timezone-aware (UTC), got naive {ts.isoformat()}")
    return ts.astimezone(UTC)


def hour_floor(ts: datetime) -> datetime:
    return _utc(ts).replace(minute=0, second=0, microsecond=0)


def hours_between(start: datetime, end: datetime) -> Iterator[datetime]:
    """The UTC hour starts of every hour that overlaps [start, end)."""
    hour = hour_floor(start)
    while hour < _utc(end):
        yield hour
        hour += HOUR


@dataclass(frozen=True)
class HourPartition:
    table: str
    camera_id: int
    date: str
    hour: int
    path: PurePath  # a Path in a local lake, the key prefix on S3
    store: LakeStore = field(compare=False, repr=False)

    @property
    def start(self) -> datetime:
        day = datetime.strptime(self.date, "%Y-%m-%d").replace(tzinfo=UTC)
        return day + timedelta(hours=self.hour)

    def files(self) -> list[PurePath]:
        infos = self.store.files(str(self.path))
        return [Path(i.path) if self.store.local else PurePosixPath(i.path) for i in infos]

    def size(self) -> int:
        """Bytes of every object in the partition (hidden ones too: they still take space)."""
        selector = pafs.FileSelector(str(self.path), allow_not_found=True)
        infos = self.store.filesystem.get_file_info(selector)
        return sum(i.size or 0 for i in infos if i.type == pafs.FileType.File)


def hour_partitions(
    lake_root: LakeRoot, tables: tuple[str, ...] | None = None
) -> Iterator[HourPartition]:
    """Every `<table>/camera_id=<n>/date=<d>/hour=<h>` partition, in path order."""
    store = as_store(lake_root)
    for table in tables or tuple(RECORD_TYPES):
        if store.local:
            yield from _local_partitions(store, table)
            continue
        selector = pafs.FileSelector(store.table_dir(table), allow_not_found=True, recursive=True)
        seen: set[str] = set()
        for info in store.filesystem.get_file_info(selector):
            directory = info.path.rpartition("/")[0]
            if info.type == pafs.FileType.File and directory not in seen:
                seen.add(directory)
        for directory in sorted(seen):
            part = _parse(store, table, PurePosixPath(directory))
            if part is not None:
                yield part


def _parse(store: LakeStore, table: str, path: PurePath) -> HourPartition | None:
    names = [p.partition("=") for p in path.parts[-3:]]
    if len(names) != 3 or [n[0] for n in names] != ["camera_id", "date", "hour"]:
        return None
    camera, date, hour = (n[2] for n in names)
    if not (camera.isdigit() and hour.isdigit()):
        return None
    return HourPartition(table, int(camera), date, int(hour), path, store)


def _local_partitions(store: LakeStore, table: str) -> Iterator[HourPartition]:
    root = Path(store.table_dir(table))
    if not root.is_dir():
        return
    for camera_dir in sorted(root.glob("camera_id=*")):
        for date_dir in sorted(camera_dir.glob("date=*")):
            for hour_dir in sorted(date_dir.glob("hour=*")):
                if hour_dir.is_dir() and (part := _parse(store, table, hour_dir)) is not None:
                    yield part
