"""Event replay over a day of detections read from the Parquet lake, the way Dagster runs it,
against the pure rules over the same rows in memory (bench_rules.py measures the rules alone).

The day is bench_rules' synthetic day (5 fps x 24 h: passers-by, visitors, loiterers, wind),
turned into lake rows (frames, detections) and written by the real LakeWriter in 30-second
files, as the dataflow publishes them; zones live in a SQLite database. Timed, in one run:
- rules:      vigil.rules.replay_with_report over the whole day's rows already in memory
              (through rule_observations, the same conversion the lake path uses);
- lake:       vigil.events.reconcile.replay_and_reconcile for each of the 24 hours: read the
              hour plus its lookback/lookahead from Parquet with DuckDB, replay, reconcile
              the database (what the `events` asset runs per partition);
- compacted:  the same after vigil.lake.compaction merged each hour into one file;
- dagster:    dagster.materialize of the `events` asset for each of the 24 camera-hour
              partitions (the lake path plus Dagster's run machinery), on an ephemeral instance.
Rates are the day's detections divided by the time to replay the day.

    .venv/bin/python bench/bench_replay_lake.py [--hours 24]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from _report import machine, now_iso, save_report
from bench_rules import DAY, build_day, zones  # the same synthetic day (bench/ is on sys.path)
from tqdm import tqdm

from vigil.auth.passwords import hash_password
from vigil.db import migrate
from vigil.db.models import Camera, Event, User, Zone
from vigil.db.session import session_scope
from vigil.events.reconcile import replay_and_reconcile
from vigil.events.zones import zone_rules
from vigil.lake.compaction import compact_lake
from vigil.lake.writer import LakeWriter
from vigil.logs import configure_logging
from vigil.records.convert import f32, rule_observations
from vigil.records.schemas import DETECTIONS, FRAMES
from vigil.rules import RulesConfig, replay_with_report
from vigil.rules.types import Frame

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "replay_lake.json"
CAMERA = 1


def rows_of(frames: list[Frame]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The day's frames as the lake's rows (float32 values, as the dataflow stores them)."""
    frame_rows, detection_rows = [], []
    for frame in frames:
        motion = frame.motion
        assert motion is not None
        frame_rows.append(
            {
                "camera_id": CAMERA,
                "ts": frame.ts,
                "frame_index": frame.frame_id,
                "width": 640,
                "height": 360,
                "analysed": True,
                "skipped_by_gate": False,
                "motion_area": f32(motion.area_fraction),
                "motion_calibrating": False,
                "scene_change": False,
                "motion_boxes": [[f32(v) for v in box] for box in motion.boxes],
                "track_ids": sorted(frame.track_ids or ()),
                "persons": len(frame.persons),
                "inference_ms": f32(10.0),
                "total_ms": f32(15.0),
            }
        )
        for index, person in enumerate(frame.persons):
            detection_rows.append(
                {
                    "camera_id": CAMERA,
                    "ts": frame.ts,
                    "frame_index": frame.frame_id,
                    "index": index,
                    "label": "person",
                    "class_name": "person",
                    "track_id": person.track_id,
                    "score": f32(person.score),
                    "bbox": [f32(min(max(v, 0.0), 1.0)) for v in person.bbox],
                    "stationary": False,
                    "detected": True,
                }
            )
    return frame_rows, detection_rows


def setup_database(url: str) -> None:
    migrate.upgrade(url)
    with session_scope(url) as session:
        user = User(email="bench@example.com", password_hash=hash_password("bench-password-1"))
        session.add(user)
        session.flush()
        session.add(Camera(id=CAMERA, owner_id=user.id, name="bench", stream_url="rtsp://x"))
        session.flush()
        for rule in zones():
            session.add(
                Zone(
                    camera_id=CAMERA,
                    name=rule.name,
                    polygon=[list(p) for p in rule.polygon],
                    intrusion_enabled=rule.intrusion_enabled,
                    min_dwell_seconds=rule.min_dwell_seconds,
                )
            )


def write_lake(lake: Path, frame_rows: list[dict], detection_rows: list[dict], fps: int) -> int:
    files = 0
    for record, rows in ((FRAMES, frame_rows), (DETECTIONS, detection_rows)):
        writer = LakeWriter(lake, record, roll_seconds=1e12, roll_rows=10**9)
        # Roll every 30 s of data, like the dataflow at lake_roll_seconds=30.
        chunk: list[dict] = []
        boundary = None
        for row in tqdm(rows, desc=f"lake {record.name}", unit="row", unit_scale=True):
            window = row["ts"].replace(microsecond=0, second=row["ts"].second // 30 * 30)
            if boundary is not None and window != boundary:
                writer.add(chunk)
                files += len(writer.flush())
                chunk = []
            boundary = window
            chunk.append(row)
        writer.add(chunk)
        files += len(writer.flush())
    return files


def replay_hours(url: str, lake: Path, hours: int, config: RulesConfig, now: datetime) -> dict:
    totals = {"inserted": 0, "updated": 0, "deleted": 0, "unchanged": 0, "pending": 0}
    frames_read = detections_read = 0
    for h in tqdm(range(hours), desc="lake replay", unit="hour"):
        start = DAY + timedelta(hours=h)
        with session_scope(url) as session:
            report = replay_and_reconcile(
                session, lake, CAMERA, start, start + timedelta(hours=1), config=config, now=now
            )
        for name, count in report.counts().items():
            totals[name] += count
        frames_read += report.frames
        detections_read += report.detections
    return {**totals, "frames_read": frames_read, "detections_read": detections_read}


def dagster_hours(url: str, lake: Path, hours: int) -> int:
    import dagster as dg

    from pipelines.assets import events
    from pipelines.partitions import CAMERAS, camera_hour_key
    from pipelines.resources import DatabaseResource, LakeResource, ObjectStoreResource

    resources = {
        "database": DatabaseResource(url=url),
        "lake": LakeResource(root=str(lake)),
        "object_store": ObjectStoreResource(local_root=str(lake.parent / "objects")),
    }
    ok = 0
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(CAMERAS, [str(CAMERA)])
        for h in tqdm(range(hours), desc="dagster", unit="partition"):
            key = camera_hour_key(CAMERA, f"{DAY + timedelta(hours=h):%Y-%m-%d-%H:00}")
            result = dg.materialize(
                [events], partition_key=str(key), instance=instance, resources=resources
            )
            ok += result.success
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_logging("WARNING")
    import logging

    logging.getLogger("dagster").setLevel(logging.WARNING)

    _, frames = build_day(args.hours, args.fps, args.seed)
    frame_rows, detection_rows = rows_of(frames)
    del frames
    detections = len(detection_rows)
    config = RulesConfig()
    now = DAY + timedelta(days=30)  # the day is long settled
    window = (DAY, DAY + timedelta(hours=args.hours))
    timings: dict[str, float] = {}

    with tempfile.TemporaryDirectory(prefix="vigil-bench-replay-") as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'vigil.db'}"
        setup_database(url)
        lake = root / "lake"
        t = time.perf_counter()
        files = write_lake(lake, frame_rows, detection_rows, args.fps)
        timings["lake_write"] = time.perf_counter() - t

        with session_scope(url) as session:
            rules = zone_rules(session, CAMERA)
        t = time.perf_counter()
        result = replay_with_report(
            rule_observations(frame_rows, detection_rows), rules, config, *window, close_at_end=True
        )
        timings["rules"] = time.perf_counter() - t
        in_memory_events = len(result.events)
        del frame_rows, detection_rows

        t = time.perf_counter()
        lake_report = replay_hours(url, lake, args.hours, config, now)
        timings["lake"] = time.perf_counter() - t
        with session_scope(url) as session:
            stored = session.query(Event).count()

        t = time.perf_counter()
        compaction = compact_lake(lake, now=now, min_files=2)
        timings["compaction"] = time.perf_counter() - t
        t = time.perf_counter()
        compacted_report = replay_hours(url, lake, args.hours, config, now)
        timings["compacted"] = time.perf_counter() - t

        t = time.perf_counter()
        materialised = dagster_hours(url, lake, args.hours)
        timings["dagster"] = time.perf_counter() - t

    rate = {name: detections / timings[name] for name in ("rules", "lake", "compacted", "dagster")}
    output = {
        "bench": "replay_lake",
        "measured_at": now_iso(),
        "machine": machine(),
        "settings": {k: str(v) for k, v in vars(args).items()},
        "baseline": "vigil.rules.replay_with_report over the same rows already in memory",
        "results": {
            "frames": args.hours * 3600 * args.fps,
            "detections": detections,
            "lake_files": files,
            "events_in_memory": in_memory_events,
            "events_stored_by_lake_replay": stored,
            "lake_replay": lake_report,
            "compacted_replay_changes": {
                k: compacted_report[k] for k in ("inserted", "updated", "deleted", "unchanged")
            },
            "compaction_files_before_after": [compaction.files_before, compaction.files_after],
            "dagster_partitions_materialised": materialised,
            "seconds": timings,
            "detections_per_second": rate,
            "lake_vs_rules": rate["lake"] / rate["rules"],
            "compacted_vs_rules": rate["compacted"] / rate["rules"],
            "dagster_vs_rules": rate["dagster"] / rate["rules"],
            "day_replayed_in_fraction_of_real_time": timings["dagster"] / (args.hours * 3600),
        },
    }
    save_report(args.out, output)
    print(f"{'path':12} {'seconds':>9} {'detections/s':>14} {'vs rules':>9}")
    for name in ("rules", "lake", "compacted", "dagster"):
        print(
            f"{name:12} {timings[name]:9.2f} {rate[name]:14,.0f} {rate[name] / rate['rules']:9.2f}"
        )
    changed = sum(compacted_report[k] for k in ("inserted", "updated", "deleted"))
    print(
        f"events: {in_memory_events} in memory, {stored} stored by the lake replay; "
        f"the re-run over the compacted lake changed {changed}"
    )


if __name__ == "__main__":
    main()
