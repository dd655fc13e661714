"""Retention sweeps over a populated store (files, lake partitions, objects and rows, on
SQLite and PostgreSQL; local directory and real S3): ages, the size cap, orphans, crashes."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.pipelines.world import make_camera
from tests.retention.store import (
    NOW,
    Entry,
    backdate,
    check_consistent,
    populate,
)
from vigil.db.models import Clip, Event, FaceDetection, PendingDeletion
from vigil.db.session import session_factory, session_scope
from vigil.media.paths import MediaPaths
from vigil.retention import RetentionPolicy, sweep
from vigil.storage import LocalObjectStore, ObjectStore, S3ObjectStore
from vigil.storage.keys import clip_key

AGES = [0.5, 1.5, 3, 10, 40]


def exists(entry: Entry, store: ObjectStore) -> bool:
    if entry.kind in ("recording", "lake_hour"):
        return Path(entry.ref).exists()
    return store.exists(entry.ref)


@pytest.fixture
def paths(tmp_path: Path) -> MediaPaths:
    return MediaPaths(tmp_path / "media")


@pytest.fixture
def local_store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


def test_age_limits_per_camera_and_orphans(
    database_url: str, local_store: LocalObjectStore, paths: MediaPaths, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    a = make_camera(database_url, "A")  # defaults: recordings 7 d, clips 30 d, snapshots 7 d
    b = make_camera(
        database_url, "B", record_retention_days=2, clip_retention_days=2, snapshot_retention_days=1
    )
    store = local_store
    world = populate(database_url, store, paths, lake, a, AGES)
    world.entries += populate(database_url, store, paths, lake, b, AGES).entries
    orphan = clip_key(a, "no-such-event", NOW, "abc")
    store.put_bytes(orphan, b"left by a crashed cut")
    backdate(store, orphan, NOW - timedelta(hours=2))
    fresh = clip_key(a, "being-cut", NOW, "def")
    store.put_bytes(fresh, b"uploaded a moment ago, its row comes next")
    backdate(store, fresh, NOW - timedelta(minutes=5))
    gone_camera = paths.record_dir(987654) / "20261120" / "20261120T110000Z.mp4"
    gone_camera.parent.mkdir(parents=True)
    gone_camera.write_bytes(b"x" * 10)

    report = sweep(
        session_factory(database_url), store, paths, lake, RetentionPolicy(lake_days=30), now=NOW
    )

    expired: dict[tuple[int, str], set[float]] = {  # (camera, kind) -> ages that must go
        (a, "recording"): {10, 40},
        (a, "clip"): {40},
        (a, "event_snapshot"): {10, 40},
        (a, "face_thumbnail"): {10, 40},
        (a, "lake_hour"): {40},
        (b, "recording"): {3, 10, 40},
        (b, "clip"): {3, 10, 40},
        (b, "event_snapshot"): {1.5, 3, 10, 40},
        (b, "face_thumbnail"): {1.5, 3, 10, 40},
        (b, "lake_hour"): {40},
    }
    for entry in world.entries:
        age = round((NOW - entry.ts).total_seconds() / 86400 * 2) / 2
        gone = age in expired[(entry.camera_id, entry.kind)]
        assert exists(entry, store) != gone, (entry, age)
    assert not store.exists(orphan) and store.exists(fresh) and not gone_camera.exists()
    assert not paths.record_dir(987654).exists()  # empty directories pruned too
    assert report.reasons == {"age": 2 + 1 + 2 + 2 + 1 + 3 + 3 + 4 + 4 + 1, "orphan": 2}
    assert sum(report.freed_bytes.values()) == report.bytes_before - report.bytes_after

    with session_scope(database_url) as session:
        # Events stay; their snapshot reference goes with the object.
        assert len(list(session.scalars(select(Event)))) == 2 * len(AGES)
        assert len(list(session.scalars(select(Clip)))) == 2 * len(AGES) - 1 - 3
        thumbs = [f for f in session.scalars(select(FaceDetection)) if f.thumbnail_key]
        assert len(thumbs) == 2 * len(AGES) - 2 - 4
    store.delete(fresh)  # (its row never came; the next sweep past the grace would take it)
    check_consistent(database_url, store, complete=True)

    again = sweep(
        session_factory(database_url), store, paths, lake, RetentionPolicy(lake_days=30), now=NOW
    )
    assert again.items == 0  # nothing left to do


def test_size_cap_deletes_the_oldest_first(
    database_url: str, local_store: LocalObjectStore, paths: MediaPaths, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    camera = make_camera(
        database_url,
        record_retention_days=365,
        clip_retention_days=365,
        snapshot_retention_days=365,
    )
    world = populate(database_url, local_store, paths, lake, camera, [d / 2 for d in range(1, 13)])
    cap = world.total * 6 // 10
    report = sweep(
        session_factory(database_url),
        local_store,
        paths,
        lake,
        RetentionPolicy(cap_bytes=cap, batch_size=7),
        now=NOW,
    )
    oldest_first = sorted(world.entries, key=lambda e: (e.ts, e.kind, e.ref))
    expected_gone, total = [], world.total
    for entry in oldest_first:
        if total <= cap:
            break
        expected_gone.append(entry)
        total -= entry.size
    gone = [e for e in world.entries if not exists(e, local_store)]
    assert sorted(gone, key=oldest_first.index) == expected_gone
    assert report.cap_met and report.bytes_after == total <= cap
    assert report.reasons == {"cap": len(expected_gone)}
    assert report.batches == -(-len(expected_gone) // 7)
    check_consistent(database_url, local_store, complete=True)


def test_cap_on_s3(
    database_url: str, s3_store: S3ObjectStore, paths: MediaPaths, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    camera = make_camera(database_url)
    world = populate(database_url, s3_store, paths, lake, camera, [0.2, 0.4, 0.6, 0.8, 1.0])
    report = sweep(
        session_factory(database_url),
        s3_store,
        paths,
        lake,
        RetentionPolicy(cap_bytes=world.total // 2),
        now=NOW,
    )
    assert report.cap_met and report.items > 0
    oldest = min(world.entries, key=lambda e: e.ts)
    newest = max(world.entries, key=lambda e: e.ts)
    assert not exists(oldest, s3_store) and exists(newest, s3_store)
    check_consistent(database_url, s3_store, complete=True)


def test_dry_run_changes_nothing(
    database_url: str, local_store: LocalObjectStore, paths: MediaPaths, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    camera = make_camera(database_url)
    world = populate(database_url, local_store, paths, lake, camera, AGES)
    report = sweep(
        session_factory(database_url),
        local_store,
        paths,
        lake,
        RetentionPolicy(),
        now=NOW,
        dry_run=True,
    )
    assert report.items > 0 and report.dry_run
    assert all(exists(e, local_store) for e in world.entries)


def _crash_world(url: str, store: LocalObjectStore, paths: MediaPaths, lake: Path) -> list[Entry]:
    camera = make_camera(
        url, record_retention_days=1, clip_retention_days=1, snapshot_retention_days=1
    )
    return populate(url, store, paths, lake, camera, [2, 3, 4, 5, 6], lake_hours=False).entries


def _journal(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(select(PendingDeletion.object_key)))


def test_exception_mid_sweep_leaves_a_state_the_next_sweep_finishes(
    database_url: str, local_store: LocalObjectStore, paths: MediaPaths, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    entries = _crash_world(database_url, local_store, paths, lake)
    sessions = session_factory(database_url)

    def fail(batch: int, done: int, planned: int) -> None:
        if batch == 1:
            raise OSError("disk went away")

    with pytest.raises(OSError, match="disk went away"):
        sweep(
            sessions,
            local_store,
            paths,
            lake,
            RetentionPolicy(batch_size=4),
            now=NOW,
            on_batch=fail,
        )
    assert _journal(database_url)  # references dropped, objects not yet deleted
    check_consistent(database_url, local_store, complete=False)

    report = sweep(sessions, local_store, paths, lake, RetentionPolicy(batch_size=4), now=NOW)
    assert report.recovered_objects > 0
    check_consistent(database_url, local_store, complete=True)
    assert not any(exists(e, local_store) for e in entries)


def test_killed_sweep_leaves_a_state_the_next_sweep_finishes(
    database_url: str, local_store: LocalObjectStore, paths: MediaPaths, tmp_path: Path
) -> None:
    lake = tmp_path / "lake"
    entries = _crash_world(database_url, local_store, paths, lake)
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.retention.crash_sweep",
            database_url,
            str(local_store.root),
            str(paths.root),
            str(lake),
            NOW.isoformat(),
        ],
        cwd=root,
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == -9, result.stderr.decode()[-2000:]
    assert _journal(database_url)
    check_consistent(database_url, local_store, complete=False)
    remaining = [e for e in entries if exists(e, local_store)]
    assert 0 < len(remaining) < len(entries)

    sweep(session_factory(database_url), local_store, paths, lake, RetentionPolicy(), now=NOW)
    check_consistent(database_url, local_store, complete=True)
    assert not any(exists(e, local_store) for e in entries)
