"""Lake bytes per camera-day, for sizing retention: the synthetic day of bench_rules (5 fps,
quiet nights, busy days) written by the real LakeWriter in 30-second files as the dataflow
publishes them, then compacted into one file per hour, on a local directory and, with
--s3, on an embedded SeaweedFS through the same lake layer.

Baseline: the rolled 30-second files as the dataflow leaves them; the ratio is the compacted
lake's bytes over theirs. Frames are written for every analysed frame, detections per person.

    .venv/bin/python bench/bench_lake_size.py [--hours 24] [--s3]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pyarrow.fs as pafs
from _report import machine, now_iso, save_report
from bench_replay_lake import rows_of, write_lake  # bench/ is on sys.path
from bench_rules import DAY, build_day

from vigil.lake.compaction import compact_lake
from vigil.lake.store import LakeStore
from vigil.logs import configure_logging

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "lake_size.json"


def lake_bytes(lake: LakeStore) -> dict[str, int]:
    sizes: dict[str, int] = {}
    selector = pafs.FileSelector(lake.root, recursive=True, allow_not_found=True)
    for info in lake.filesystem.get_file_info(selector):
        if info.type == pafs.FileType.File and info.base_name.endswith(".parquet"):
            table = info.path[len(lake.root) + 1 :].split("/")[0]
            sizes[table] = sizes.get(table, 0) + (info.size or 0)
    return sizes


def measure(lake: LakeStore, frame_rows: list, detection_rows: list, fps: int) -> dict:
    t = time.perf_counter()
    files = write_lake(lake, frame_rows, detection_rows, fps)  # type: ignore[arg-type]
    seconds = time.perf_counter() - t
    rolled = lake_bytes(lake)
    report = compact_lake(lake, now=DAY + timedelta(days=30), min_files=2)
    return {
        "files_rolled": files,
        "files_compacted": files - report.files_before + report.files_after,
        "bytes_rolled": rolled,
        "bytes_compacted": lake_bytes(lake),
        "write_seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--s3", action="store_true", help="also on an embedded SeaweedFS")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_logging("WARNING")
    _, frames = build_day(args.hours, args.fps, args.seed)
    frame_rows, detection_rows = rows_of(frames)
    del frames
    per_day = 24 / args.hours
    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="vigil-bench-lake-") as tmp, ExitStack() as stack:
        runs["local"] = measure(
            LakeStore.directory(Path(tmp) / "lake"), frame_rows, detection_rows, args.fps
        )
        if args.s3:
            from vigil.embedded import SeaweedFS, SeaweedPorts, free_port_block

            port = free_port_block(SeaweedPorts.OFFSETS, low=10000, high=22000)
            weed = SeaweedFS(
                Path(tmp) / "weed",
                access_key="bench",
                secret_key="bench-secret-key",  # noqa: S106 (a throw-away local server)
                s3_port=port,
                buckets=("bench",),
            )
            weed.start()
            stack.callback(weed.stop)
            lake = LakeStore.s3(weed.s3_config, "bench", "lake")
            runs["s3"] = measure(lake, frame_rows, detection_rows, args.fps)
    local = runs["local"]
    rolled, compacted = sum(local["bytes_rolled"].values()), sum(local["bytes_compacted"].values())
    output = {
        "bench": "lake_size",
        "measured_at": now_iso(),
        "machine": machine(),
        "settings": {k: str(v) for k, v in vars(args).items()},
        "baseline": "the rolled 30-second files as the dataflow writes them",
        "results": {
            "frames": len(frame_rows),
            "detections": len(detection_rows),
            "runs": runs,
            "bytes_per_camera_day_rolled": rolled * per_day,
            "bytes_per_camera_day_compacted": compacted * per_day,
            "compacted_vs_rolled_bytes": compacted / rolled,
        },
    }
    save_report(args.out, output)
    print(f"{'lake':10} {'files':>7} {'MB/camera-day':>14}")
    print(f"{'rolled':10} {local['files_rolled']:7} {rolled * per_day / 1e6:14.1f}")
    print(f"{'compacted':10} {local['files_compacted']:7} {compacted * per_day / 1e6:14.1f}")
    print(f"compacted / rolled bytes: {compacted / rolled:.2f}")


if __name__ == "__main__":
    main()
