"""Retention sweep rate on 100k objects, against bare deletes of the same number of files.

A store is populated with 100k objects that all have rows and are all past their camera's
retention: 40k events each with a snapshot and a clip, 20k face detections with a thumbnail
(100k objects, 100k rows referring to them), in the default local object store and SQLite.
Timed, in one run:
- baseline: os.unlink of 100k files of the same layout (no database, no journal): the floor
  any file-based deletion has to pay;
- sweep:    vigil.retention.sweep (inventory, plan, batches: drop references and journal in one
  transaction, then delete objects and journal entries), consistent at every point.
Optionally (--s3-objects N) the same sweep on a real S3 endpoint (SeaweedFS on loopback, batched
DeleteObjects) with N objects.

    .venv/bin/python bench/bench_retention.py [--objects 100000] [--s3-objects 10000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _report import machine, now_iso, save_report
from sqlalchemy import insert, select
from tqdm import tqdm

from vigil.auth.passwords import hash_password
from vigil.db import migrate
from vigil.db.models import Camera, Clip, Event, FaceDetection, PendingDeletion, User
from vigil.db.session import session_factory, session_scope
from vigil.logs import configure_logging
from vigil.media.paths import MediaPaths
from vigil.retention import RetentionPolicy, sweep
from vigil.storage import LocalObjectStore, ObjectStore
from vigil.storage.keys import clip_key, event_snapshot_key, face_thumbnail_key

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "retention.json"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PAYLOAD = b"\0" * 1024


def populate(url: str, objects: int) -> tuple[int, list[str]]:
    """Rows for `objects` objects (2/5 events with snapshot + clip, 1/5 faces); their keys."""
    migrate.upgrade(url)
    events = objects * 2 // 5
    faces = objects - 2 * events
    old = NOW - timedelta(days=60)
    keys: list[str] = []
    with session_scope(url) as session:
        user = User(email="bench@example.com", password_hash=hash_password("bench-password-1"))
        session.add(user)
        session.flush()
        camera = Camera(owner_id=user.id, name="bench", stream_url="rtsp://x")
        session.add(camera)
        session.flush()
        camera_id = camera.id
    for start in tqdm(range(0, events, 5000), desc="rows", unit="5k events"):
        event_rows: list[dict[str, Any]] = []
        clip_rows: list[dict[str, Any]] = []
        for n in range(start, min(events, start + 5000)):
            event_id = str(uuid.uuid4())
            ts = old + timedelta(seconds=n)
            snapshot = event_snapshot_key(camera_id, event_id)
            key = clip_key(camera_id, event_id, ts, "a")
            keys += [snapshot, key]
            event_rows.append(
                {
                    "id": event_id,
                    "camera_id": camera_id,
                    "type": "intrusion",
                    "status": "closed",
                    "start_ts": ts,
                    "end_ts": ts + timedelta(seconds=5),
                    "snapshot_key": snapshot,
                    "track_ids": [],
                    "created_at": NOW,
                    "updated_at": NOW,
                }
            )
            clip_rows.append(
                {
                    "id": str(uuid.uuid4()),
                    "event_id": event_id,
                    "camera_id": camera_id,
                    "start_ts": ts,
                    "end_ts": ts + timedelta(seconds=5),
                    "object_key": key,
                    "size_bytes": len(PAYLOAD),
                    "created_at": NOW,
                }
            )
        with session_scope(url) as session:
            session.execute(insert(Event), event_rows)
            session.execute(insert(Clip), clip_rows)
    face_rows = []
    for n in range(faces):
        face_id = str(uuid.uuid4())
        ts = old + timedelta(seconds=n)
        key = face_thumbnail_key(camera_id, ts, face_id)
        keys.append(key)
        face_rows.append(
            {
                "id": face_id,
                "camera_id": camera_id,
                "ts": ts,
                "bbox": [0, 0, 1, 1],
                "score": 0.9,
                "thumbnail_key": key,
                "created_at": NOW,
            }
        )
    with session_scope(url) as session:
        for start in range(0, len(face_rows), 5000):
            session.execute(insert(FaceDetection), face_rows[start : start + 5000])
    return camera_id, keys


def write_files(root: Path, keys: list[str]) -> None:
    """The objects as a LocalObjectStore lays them out (written directly: setup, not timed)."""
    for key in tqdm(keys, desc="objects", unit="obj", unit_scale=True):
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(PAYLOAD)


def timed_sweep(url: str, store: ObjectStore, root: Path, objects: int) -> dict[str, Any]:
    bar = tqdm(total=objects, desc="sweep", unit="obj", unit_scale=True)

    def progress(batch: int, done: int, planned: int) -> None:
        bar.n = done
        bar.refresh()

    t = time.perf_counter()
    report = sweep(
        session_factory(url),
        store,
        MediaPaths(root / "media"),
        root / "lake",
        RetentionPolicy(),
        now=NOW,
        on_batch=progress,
    )
    seconds = time.perf_counter() - t
    bar.close()
    with session_scope(url) as session:
        left = {
            "clips": len(session.scalars(select(Clip.id)).all()),
            "snapshot_keys": len([k for k in session.scalars(select(Event.snapshot_key)) if k]),
            "thumbnail_keys": len(
                [k for k in session.scalars(select(FaceDetection.thumbnail_key)) if k]
            ),
            "journal": len(session.scalars(select(PendingDeletion.id)).all()),
        }
    summary = report.summary()
    return {
        "objects": summary["items"],
        "seconds": seconds,
        "objects_per_second": summary["items"] / seconds,
        "batches": summary["batches"],
        "rows_or_references_left": left,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=100_000)
    parser.add_argument("--s3-objects", type=int, default=10_000, help="0: skip the S3 run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_logging("WARNING")
    results: dict[str, Any] = {}

    with tempfile.TemporaryDirectory(prefix="vigil-bench-retention-") as tmp:
        root = Path(tmp)
        # Baseline: unlink the same number of files, same layout, nothing else.
        _, keys = populate(f"sqlite:///{root / 'baseline.db'}", args.objects)
        write_files(root / "baseline", keys)
        t = time.perf_counter()
        for key in tqdm(keys, desc="unlink", unit="obj", unit_scale=True):
            os.unlink(root / "baseline" / key)
        seconds = time.perf_counter() - t
        results["baseline_unlink"] = {
            "objects": len(keys),
            "seconds": seconds,
            "objects_per_second": len(keys) / seconds,
        }

        url = f"sqlite:///{root / 'vigil.db'}"
        _, keys = populate(url, args.objects)
        write_files(root / "objects", keys)
        store = LocalObjectStore(root / "objects")
        results["sweep_local"] = timed_sweep(url, store, root, len(keys))

        if args.s3_objects:
            from vigil.embedded import SeaweedFS, free_port_block
            from vigil.embedded.seaweedfs import SeaweedPorts
            from vigil.storage import S3ObjectStore

            port = free_port_block(SeaweedPorts.OFFSETS, low=10000, high=22000)
            weed = SeaweedFS(
                root / "weed",
                access_key="bench",
                secret_key="bench-secret-key",  # noqa: S106 (a throw-away loopback server)
                s3_port=port,
                buckets=("bench",),
                log_dir=root / "logs",
            )
            with weed:
                s3 = S3ObjectStore.connect(weed.s3_config, "bench")
                s3_url = f"sqlite:///{root / 's3.db'}"
                _, s3_keys = populate(s3_url, args.s3_objects)
                for key in tqdm(s3_keys, desc="s3 put", unit="obj", unit_scale=True):
                    s3.put_bytes(key, PAYLOAD)
                results["sweep_s3"] = timed_sweep(s3_url, s3, root, len(s3_keys))

    sweep_rate = results["sweep_local"]["objects_per_second"]
    output: dict[str, Any] = {
        "bench": "retention",
        "measured_at": now_iso(),
        "machine": machine(),
        "settings": {k: str(v) for k, v in vars(args).items()},
        "baseline": "os.unlink of the same number of files in the same layout, nothing else",
        "results": {
            **results,
            "sweep_vs_unlink": sweep_rate / results["baseline_unlink"]["objects_per_second"],
        },
    }
    save_report(args.out, output)
    print(f"{'run':16} {'objects':>8} {'seconds':>8} {'objects/s':>10}")
    for name, r in results.items():
        print(f"{name:16} {r['objects']:8} {r['seconds']:8.2f} {r['objects_per_second']:10,.0f}")
    print(f"consistent sweep at {output['results']['sweep_vs_unlink']:.2f}x the bare unlink rate")


if __name__ == "__main__":
    main()
