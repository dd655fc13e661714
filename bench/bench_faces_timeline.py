"""Face timeline query at 100k face detections, against a plain indexed select of the same rows.

An owner with 2 cameras, 40 identities and 100k face detections over 7 days (visits of 5-60
faces, one face a second), plus 2k events (half with clips). Timed, in one run, for random
windows of 1 hour and 24 hours:
- baseline: the indexed select of that window's face rows (camera_ts index, join to faces);
- timeline: vigil.faces.timeline.timeline (the same rows, grouped into visits, each appearance
  linked to its covering events and clips), what GET /api/v1/faces/timeline serves.
Both on the same database (SQLite by default; --database-url for PostgreSQL).

    .venv/bin/python bench/bench_faces_timeline.py [--faces 100000] [--queries 40]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from _report import machine, now_iso, save_report
from sqlalchemy import insert, select
from tqdm import tqdm

from vigil.db import migrate
from vigil.db.models import Camera, Clip, Event, Face, FaceDetection, User
from vigil.db.session import session_factory, session_scope
from vigil.faces.timeline import timeline
from vigil.logs import configure_logging

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"  # faces_timeline_<database>.json
START = datetime(2026, 11, 20, tzinfo=UTC)
DAYS = 7
IDENTITIES = 40
EVENTS = 2000


def populate(url: str, faces: int, seed: int = 9) -> int:
    """The owner's rows; returns the owner id."""
    rng = random.Random(seed)
    migrate.upgrade(url)
    embedding = np.zeros(128, np.float32).tobytes()
    with session_scope(url) as session:
        user = User(email="bench@example.com", password_hash="x")  # noqa: S106 (never logs in)
        session.add(user)
        session.flush()
        cameras = [Camera(owner_id=user.id, name=f"cam {i}", stream_url="rtsp://x") for i in (1, 2)]
        session.add_all(cameras)
        identities = [Face(owner_id=user.id, label="") for _ in range(IDENTITIES)]
        session.add_all(identities)
        session.flush()
        camera_ids, face_ids, owner = [c.id for c in cameras], [f.id for f in identities], user.id
    span = DAYS * 86400
    rows: list[dict[str, Any]] = []
    with tqdm(total=faces, desc="face detections", unit="row") as bar:
        while len(rows) < faces:
            length = min(rng.randint(5, 60), faces - len(rows))
            begin = START + timedelta(seconds=rng.uniform(0, span - 60))
            camera, face = rng.choice(camera_ids), rng.choice(face_ids)
            for i in range(length):
                rows.append(
                    {
                        "id": str(uuid.uuid4()),
                        "camera_id": camera,
                        "face_id": face,
                        "ts": begin + timedelta(seconds=i),
                        "track_id": len(rows),
                        "bbox": [0.4, 0.2, 0.5, 0.4],
                        "score": 0.9,
                        "quality": rng.random(),
                        "thumbnail_key": f"faces/{camera}/x/{len(rows)}.jpg",
                        "embedding": embedding,
                        "created_at": START,
                    }
                )
            bar.update(length)
    with session_scope(url) as session:
        for chunk in range(0, len(rows), 5000):
            session.execute(insert(FaceDetection), rows[chunk : chunk + 5000])
        events, clips = [], []
        for _ in range(EVENTS):
            event_id = str(uuid.uuid4())
            begin = START + timedelta(seconds=rng.uniform(0, span))
            camera = rng.choice(camera_ids)
            end = begin + timedelta(seconds=rng.uniform(5, 120))
            events.append(
                {
                    "id": event_id,
                    "camera_id": camera,
                    "type": "intrusion",
                    "status": "closed",
                    "start_ts": begin,
                    "end_ts": end,
                    "track_ids": [],
                    "created_at": START,
                    "updated_at": START,
                }
            )
            if rng.random() < 0.5:
                clips.append(
                    {
                        "id": str(uuid.uuid4()),
                        "event_id": event_id,
                        "camera_id": camera,
                        "start_ts": begin,
                        "end_ts": end,
                        "object_key": f"clips/{camera}/{event_id}.mp4",
                        "created_at": START,
                    }
                )
        session.execute(insert(Event), events)
        session.execute(insert(Clip), clips)
    return owner


def measure(call: Callable[[datetime], int], starts: list[datetime]) -> dict[str, float]:
    times, rows = [], 0
    for since in starts:
        started = time.perf_counter()
        rows += call(since)
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    queries = len(starts)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[max(0, int(len(times) * 0.95) - 1)], 2),
        "mean_rows": round(rows / queries, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--faces", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=40)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    args = parser.parse_args()
    configure_logging(level="WARNING")
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        owner = populate(url, args.faces)
        sessions = session_factory(url)
        report: dict[str, Any] = {"faces": args.faces, "queries": args.queries, "windows": {}}
        for name, width in (("1h", timedelta(hours=1)), ("24h", timedelta(hours=24))):
            rng = random.Random(width.total_seconds())
            starts = [
                START + timedelta(seconds=rng.uniform(0, DAYS * 86400 - width.total_seconds()))
                for _ in range(args.queries)
            ]

            def plain(since: datetime, width: timedelta = width) -> int:
                with sessions() as session:
                    return len(
                        session.execute(
                            select(
                                FaceDetection.id,
                                FaceDetection.camera_id,
                                FaceDetection.face_id,
                                FaceDetection.ts,
                                FaceDetection.quality,
                            )
                            .join(Face, Face.id == FaceDetection.face_id)
                            .where(
                                Face.owner_id == owner,
                                FaceDetection.ts >= since,
                                FaceDetection.ts < since + width,
                            )
                            .order_by(FaceDetection.ts, FaceDetection.id)
                        ).all()
                    )

            def grouped(since: datetime, width: timedelta = width) -> int:
                with sessions() as session:
                    result = timeline(
                        session,
                        owner,
                        since,
                        since + width,
                        gap=timedelta(seconds=30),
                        limit=50_000,
                    )
                    return sum(len(v.appearances) for v in result.visits)

            baseline = measure(plain, starts)
            served = measure(grouped, starts)
            ratio = round(served["p95_ms"] / max(baseline["p95_ms"], 1e-6), 2)
            report["windows"][name] = {
                "plain_select": baseline,
                "timeline": served,
                "p95_ratio": ratio,
            }
            print(
                f"{name:>4} window: plain select p95 {baseline['p95_ms']:8.2f} ms | "
                f"timeline p95 {served['p95_ms']:8.2f} ms | x{ratio} "
                f"({served['mean_rows']:.0f} faces per query)"
            )
        report["database"] = database = url.split(":", 1)[0].split("+")[0]
        report["machine"] = machine(load)
        report["at"] = now_iso()
        path = RESULTS / f"faces_timeline_{database}.json"
        save_report(path, report)
        print(f"saved {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
