"""Everything retention manages, as one list of items with a time, a size and an owner.

Kinds and what "deleting" one means:
- recording: a recorded segment file (no row refers to it);
- lake_hour: one hour partition directory of one lake table (no row refers to it);
- clip: a clip object and its `clips` row;
- event_snapshot: an event's snapshot object; the event row stays, its `snapshot_key` is cleared;
- face_thumbnail: a face thumbnail object; a face_detections row referring to it stays, its
  `thumbnail_key` is cleared (thumbnails written before their row exists are dated by key);
- orphan_object: an object of one of Vigil's kinds no row refers to (a crashed cut, a deleted
  camera), older than the grace period;
- orphan_files: recordings or lake partitions of a camera that no longer exists.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.db.models import Camera, Clip, Event, FaceDetection
from vigil.lake.partitions import hour_partitions
from vigil.lake.store import LakeRoot
from vigil.media.paths import RECORD_DAY, RECORD_NAME, MediaPaths, parse_record_name
from vigil.records.schemas import RECORD_TYPES
from vigil.stats.hourly import TABLE as HOURLY_STATS
from vigil.storage.keys import CLIPS, EVENT_SNAPSHOTS, FACE_THUMBNAILS, key_camera, key_day
from vigil.storage.objectstore import ObjectInfo, ObjectStore

Kind = Literal[
    "recording",
    "lake_hour",
    "clip",
    "event_snapshot",
    "face_thumbnail",
    "orphan_object",
    "orphan_files",
]
FILE_KINDS = ("recording", "lake_hour", "orphan_files")


@dataclass(frozen=True)
class Item:
    kind: Kind
    camera_id: int | None
    ts: datetime  # the data's time: age and "oldest first" are judged on it
    size: int
    ref: str  # a path (files, directories) or an object key
    row_id: str | None = None  # clips.id / events.id / face_detections.id

    @property
    def is_object(self) -> bool:
        return self.kind not in FILE_KINDS


@dataclass
class Inventory:
    items: list[Item] = field(default_factory=list)
    cameras: dict[int, Camera] = field(default_factory=dict)

    @property
    def total_bytes(self) -> int:
        return sum(i.size for i in self.items)


def recordings(paths: MediaPaths) -> Iterator[tuple[str, Path, datetime, int]]:
    """(camera dir name, path, start, size) of every recorded segment."""
    root = paths.root / "record"
    if not root.is_dir():
        return
    for camera_dir in os.scandir(root):
        if not camera_dir.is_dir():
            continue
        for day in os.scandir(camera_dir.path):
            if not (day.is_dir() and RECORD_DAY.fullmatch(day.name)):
                continue
            for entry in os.scandir(day.path):
                if not RECORD_NAME.fullmatch(entry.name):
                    continue
                try:
                    size = entry.stat().st_size
                    start = parse_record_name(entry.name)
                except (OSError, ValueError):
                    continue
                yield camera_dir.name, Path(entry.path), start, size


def object_listing(store: ObjectStore) -> dict[str, ObjectInfo]:
    found: dict[str, ObjectInfo] = {}
    for prefix in (CLIPS, EVENT_SNAPSHOTS, FACE_THUMBNAILS):
        for info in store.list(prefix + "/"):
            found[info.key] = info
    return found


def take_inventory(
    session: Session,
    store: ObjectStore,
    paths: MediaPaths,
    lake_root: LakeRoot,
    *,
    now: datetime,
    orphan_grace: timedelta,
) -> Inventory:
    inventory = Inventory(cameras={c.id: c for c in session.scalars(select(Camera))})
    items = inventory.items
    known = inventory.cameras

    for camera_key, path, start, size in recordings(paths):
        camera = int(camera_key) if camera_key.isdigit() else None
        if camera is not None and camera not in known:
            items.append(Item("orphan_files", camera, start, size, str(path)))
        elif camera is not None:
            items.append(Item("recording", camera, start, size, str(path)))

    tables = (*RECORD_TYPES, HOURLY_STATS)
    for part in hour_partitions(lake_root, tables):
        size = part.size()
        if part.camera_id not in known:
            items.append(Item("orphan_files", part.camera_id, part.start, size, str(part.path)))
        elif part.table != HOURLY_STATS:  # aggregates are tiny and outlive the raw data
            items.append(Item("lake_hour", part.camera_id, part.start, size, str(part.path)))

    listing = object_listing(store)
    referenced: set[str] = set()
    for clip_id, camera_id, start, size, key in session.execute(
        select(Clip.id, Clip.camera_id, Clip.start_ts, Clip.size_bytes, Clip.object_key)
    ):
        referenced.add(key)
        items.append(Item("clip", camera_id, start, size, key, clip_id))
    referenced_rows: tuple[tuple[Kind, Any, Any, Any, Any], ...] = (
        ("event_snapshot", Event.id, Event.camera_id, Event.start_ts, Event.snapshot_key),
        (
            "face_thumbnail",
            FaceDetection.id,
            FaceDetection.camera_id,
            FaceDetection.ts,
            FaceDetection.thumbnail_key,
        ),
    )
    for kind, id_column, camera_column, ts_column, key_column in referenced_rows:
        query = select(id_column, camera_column, ts_column, key_column)
        for row_id, camera_id, ts, ref in session.execute(query.where(key_column.is_not(None))):
            referenced.add(ref)
            size = listing[ref].size if ref in listing else 0
            items.append(Item(kind, camera_id, ts, size, ref, row_id))

    for key, info in listing.items():
        if key in referenced:
            continue
        camera = key_camera(key)
        day = key_day(key)
        if camera in known and key.startswith(FACE_THUMBNAILS + "/") and day is not None:
            # A thumbnail the faces lake table may refer to before its row is written.
            ts = datetime(day.year, day.month, day.day, tzinfo=UTC)
            items.append(Item("face_thumbnail", camera, ts, info.size, key))
        elif info.last_modified <= now - orphan_grace or (
            camera is not None and camera not in known
        ):
            items.append(Item("orphan_object", camera, info.last_modified, info.size, key))
    return inventory
