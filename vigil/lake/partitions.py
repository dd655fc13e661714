"""The lake's hour partitions: `<table>/camera_id=<n>/date=<YYYY-MM-DD>/hour=<h>`, listed and
read by the replay, hourly stats, compaction and retention alike."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from vigil.lake.layout import partition_dir
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


def hour_files(lake_root: Path, table: str, camera_id: int, hour: datetime) -> list[Path]:
    directory = partition_dir(lake_root, table, camera_id, f"{hour:%Y-%m-%d}", hour.hour)
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix == ".parquet" and p.is_file())


@dataclass(frozen=True)
class HourPartition:
    table: str
    camera_id: int
    date: str
    hour: int
    path: Path

    @property
    def start(self) -> datetime:
        day = datetime.strptime(self.date, "%Y-%m-%d").replace(tzinfo=UTC)
        return day + timedelta(hours=self.hour)

    def files(self) -> list[Path]:
        return sorted(p for p in self.path.glob("*.parquet") if p.is_file())


def hour_partitions(
    lake_root: Path, tables: tuple[str, ...] | None = None
) -> Iterator[HourPartition]:
    """Every `<table>/camera_id=<n>/date=<d>/hour=<h>` directory, in path order."""
    for table in tables or tuple(RECORD_TYPES):
        root = Path(lake_root) / table
        if not root.is_dir():
            continue
        for camera_dir in sorted(root.glob("camera_id=*")):
            camera = camera_dir.name.partition("=")[2]
            if not camera.isdigit():
                continue
            for date_dir in sorted(camera_dir.glob("date=*")):
                for hour_dir in sorted(date_dir.glob("hour=*")):
                    hour = hour_dir.name.partition("=")[2]
                    if hour.isdigit() and hour_dir.is_dir():
                        yield HourPartition(
                            table, int(camera), date_dir.name.partition("=")[2], int(hour), hour_dir
                        )
