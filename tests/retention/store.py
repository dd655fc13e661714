"""A populated Vigil store for retention tests and the benchmark: recordings, lake hours,
clips, event snapshots and face thumbnails with rows, and a few orphans."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.pipelines import lakedata
from vigil.db.models import Clip, Event, FaceDetection, PendingDeletion
from vigil.db.session import session_scope
from vigil.media.paths import RECORD_TIME_FORMAT, MediaPaths
from vigil.storage import LocalObjectStore, ObjectStore
from vigil.storage.keys import clip_key, event_snapshot_key, face_thumbnail_key

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    kind: str  # recording | lake_hour | clip | event_snapshot | face_thumbnail | orphan
    camera_id: int
    ts: datetime
    size: int
    ref: str  # path or object key


@dataclass
class Populated:
    entries: list[Entry] = field(default_factory=list)

    def of(self, kind: str, camera_id: int | None = None) -> list[Entry]:
        return [e for e in self.entries if e.kind == kind and camera_id in (None, e.camera_id)]

    @property
    def total(self) -> int:
        return sum(e.size for e in self.entries)


def _payload(size: int) -> bytes:
    return os.urandom(size)


def populate(
    url: str,
    store: ObjectStore,
    paths: MediaPaths,
    lake: Path,
    camera_id: int,
    ages_days: list[float],
    *,
    size: int = 1000,
    lake_hours: bool = True,
) -> Populated:
    """For each age: a recording, a clip of an event with a snapshot, a face thumbnail with a
    row, and (optionally) a lake hour; sizes differ by kind so the cap test can tell them
    apart."""
    out = Populated()
    with session_scope(url) as session:
        for n, age in enumerate(ages_days):
            ts = (NOW - timedelta(days=age)).replace(microsecond=0)
            out.entries.append(record(paths, camera_id, ts, size))
            out.entries.extend(event_with_clip(session, store, camera_id, ts, size, n))
            out.entries.append(face(session, store, camera_id, ts + timedelta(seconds=1), size))
            if lake_hours:
                out.entries.append(lake_hour(lake, camera_id, ts))
    return out


def record(paths: MediaPaths, camera_id: int, ts: datetime, size: int) -> Entry:
    directory = paths.record_dir(camera_id) / ts.strftime("%Y%m%d")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{ts.strftime(RECORD_TIME_FORMAT)}.mp4"
    path.write_bytes(_payload(size + 3))
    return Entry("recording", camera_id, ts, size + 3, str(path))


def event_with_clip(
    session: Session, store: ObjectStore, camera_id: int, ts: datetime, size: int, n: int
) -> list[Entry]:
    event_id = str(uuid.uuid4())
    snapshot = event_snapshot_key(camera_id, event_id)
    store.put_bytes(snapshot, _payload(size + 1))
    session.add(
        Event(
            id=event_id,
            camera_id=camera_id,
            type="intrusion",
            status="closed",
            start_ts=ts,
            end_ts=ts + timedelta(seconds=5),
            snapshot_key=snapshot,
        )
    )
    key = clip_key(camera_id, event_id, ts, f"{n:x}")
    store.put_bytes(key, _payload(size + 2))
    session.flush()
    session.add(
        Clip(
            id=str(uuid.uuid4()),
            event_id=event_id,
            camera_id=camera_id,
            start_ts=ts,
            end_ts=ts + timedelta(seconds=5),
            object_key=key,
            size_bytes=size + 2,
        )
    )
    return [
        Entry("event_snapshot", camera_id, ts, size + 1, snapshot),
        Entry("clip", camera_id, ts, size + 2, key),
    ]


def face(session: Session, store: ObjectStore, camera_id: int, ts: datetime, size: int) -> Entry:
    face_id = str(uuid.uuid4())
    key = face_thumbnail_key(camera_id, ts, face_id)
    store.put_bytes(key, _payload(size + 4))
    session.add(
        FaceDetection(
            id=face_id, camera_id=camera_id, ts=ts, bbox=[0, 0, 1, 1], score=0.9, thumbnail_key=key
        )
    )
    return Entry("face_thumbnail", camera_id, ts, size + 4, key)


def lake_hour(lake: Path, camera_id: int, ts: datetime) -> Entry:
    hour = ts.replace(minute=0, second=0, microsecond=0)
    lakedata.write(lake, lakedata.rows(camera_id, hour, 2, 1, []))
    directory = (
        lake / "frames" / f"camera_id={camera_id}" / f"date={hour:%Y-%m-%d}" / f"hour={hour.hour}"
    )
    size = sum(f.stat().st_size for f in directory.iterdir())
    return Entry("lake_hour", camera_id, hour, size, str(directory))


def backdate(store: LocalObjectStore, key: str, when: datetime) -> None:
    os.utime(store.root / key, (when.timestamp(), when.timestamp()))


def check_consistent(url: str, store: ObjectStore, *, complete: bool) -> None:
    """No row points at a missing object; once a sweep completed, nothing is journaled and
    every object of Vigil's kinds has a row (face thumbnails may be dated by key instead)."""
    with session_scope(url) as session:
        clip_keys = set(session.scalars(select(Clip.object_key)))
        snapshot_keys = {k for k in session.scalars(select(Event.snapshot_key)) if k}
        thumb_keys = {k for k in session.scalars(select(FaceDetection.thumbnail_key)) if k}
        journal = list(session.scalars(select(PendingDeletion.object_key)))
    listed = {i.key for prefix in ("clips/", "snapshots/", "faces/") for i in store.list(prefix)}
    missing = (clip_keys | snapshot_keys | thumb_keys) - listed
    assert missing == set(), f"rows pointing at missing objects: {sorted(missing)[:5]}"
    if complete:
        assert journal == []
        unreferenced = listed - clip_keys - snapshot_keys - thumb_keys
        assert unreferenced == set(), f"objects without a row: {sorted(unreferenced)[:5]}"
