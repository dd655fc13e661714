"""Frames analysed per second per core on real footage: motion gating, 320 vs 640 detect input,
detection regions, and the ultralytics backend when it is installed.

Two workloads, decoded into memory first (decoding is not timed):
- busy: vtest.avi (pedestrians on a plaza, someone always moving) at a 5 fps detect stream;
- idle: one vtest frame held still with sensor-like noise (a camera watching a quiet scene).

Every figure is printed beside the baseline measured in the same run (the same workload with
no gating and whole 640 frames). "per core" divides by the onnxruntime threads; "per CPU-s"
counts frames per second of CPU time used by this process, which holds up on a busy machine.

    .venv/bin/python bench/bench_analysis.py [--frames 200] [--threads 1]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import onnxruntime
from _report import machine, now_iso, save_report
from tqdm import tqdm

from vigil.logs import configure_logging
from vigil.vision import (
    AnalyzerConfig,
    CameraAnalyzer,
    DetectorConfig,
    create_detector,
    create_face_backend,
)
from vigil.vision.frames import Frame

ROOT = Path(__file__).resolve().parents[1]
VTEST = ROOT.parent / "shared" / "data" / "footage" / "vtest.avi"
RESULTS = ROOT / "bench" / "results" / "analysis.json"
T0 = datetime(2026, 11, 23, tzinfo=UTC)


@dataclass(frozen=True)
class Case:
    name: str
    workload: str
    backend: str = "onnx"
    input_width: int | None = None
    gating: bool = True
    regions: bool = True


CASES = [
    Case("baseline: no gate, 640", "busy", gating=False, regions=False),
    Case("gate + regions, 640 (default)", "busy"),
    Case("gate, no regions, 640", "busy", regions=False),
    Case("no gate, 320 input", "busy", input_width=320, gating=False, regions=False),
    Case("gate + regions, 320 input", "busy", input_width=320),
    Case("ultralytics .pt, no gate", "busy", backend="ultralytics", gating=False, regions=False),
    Case("baseline: no gate, 640", "idle", gating=False, regions=False),
    Case("gate + regions, 640 (default)", "idle"),
]


def load_busy(count: int, stride: int) -> list[Frame]:
    cap = cv2.VideoCapture(str(VTEST))
    frames: list[Frame] = []
    index = 0
    while len(frames) < count:
        ok, frame = cap.read()
        if not ok:
            break
        if index % stride == 0:
            frames.append(np.asarray(frame, np.uint8))
        index += 1
    cap.release()
    if not frames:
        raise SystemExit(f"cannot read {VTEST}")
    return frames


def make_idle(still: Frame, count: int) -> list[Frame]:
    rng = np.random.default_rng(7)
    noisy = []
    for _ in range(count):
        noise = rng.normal(0, 2.0, still.shape)
        noisy.append(np.clip(still.astype(np.float32) + noise, 0, 255).astype(np.uint8))
    return noisy


def run_case(case: Case, frames: list[Frame], fps: float, threads: int) -> dict:
    if case.backend == "ultralytics" and importlib.util.find_spec("ultralytics") is None:
        return {"status": "not installed"}
    detector = create_detector(
        case.backend,  # type: ignore[arg-type]
        None,
        DetectorConfig(input_width=case.input_width, threads=threads),
    )
    config = AnalyzerConfig(gating=case.gating, region_detection=case.regions)
    analyzer = CameraAnalyzer("bench", detector, create_face_backend(), config)
    analyzer.process(frames[0], T0 - timedelta(seconds=1))  # warm-up, not timed
    analyzer = CameraAnalyzer("bench", detector, analyzer.face_backend, config)
    analysed = persons = regions = 0
    track_ids: set[int] = set()
    inference_ms: list[float] = []
    scores: list[float] = []
    wall, cpu = time.perf_counter(), time.process_time()
    for i, frame in enumerate(tqdm(frames, desc=f"{case.workload}: {case.name}", leave=False)):
        result = analyzer.process(frame, T0 + timedelta(seconds=i / fps))
        if result.analysed:
            analysed += 1
            inference_ms.append(result.inference_ms)
            regions += result.detect_region is not None
        persons += sum(p.track_id is not None for p in result.persons)
        scores += [p.score for p in result.persons if p.detected]
        track_ids.update(p.track_id for p in result.persons if p.track_id is not None)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    n = len(frames)
    return {
        "status": "ok",
        "frames": n,
        "fps": n / wall,
        "fps_per_core": n / wall / threads,
        "frames_per_cpu_second": n / cpu,
        "analysed_fraction": analysed / n,
        "region_fraction": regions / max(analysed, 1),
        "mean_inference_ms": float(np.mean(inference_ms)) if inference_ms else 0.0,
        "tracked_persons_per_frame": persons / n,
        "distinct_track_ids": len(track_ids),
        "mean_person_score": float(np.mean(scores)) if scores else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="busy frames (after stride)")
    parser.add_argument("--idle-frames", type=int, default=100)
    parser.add_argument("--stride", type=int, default=2, help="vtest is 10 fps; 2 -> 5 fps")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_logging(level="WARNING", json=False)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    cv2.setNumThreads(args.threads)

    fps = 10 / args.stride
    busy = load_busy(args.frames, args.stride)
    workloads = {"busy": busy, "idle": make_idle(busy[0], args.idle_frames)}
    results = []
    for case in tqdm(CASES, desc="cases"):
        figures = run_case(case, workloads[case.workload], fps, args.threads)
        results.append({**case.__dict__, **figures})

    print(
        f"\n{'workload':8} {'case':34} {'fps/core':>9} {'x base':>7} {'fr/CPU-s':>9} "
        f"{'x base':>7} {'analysed':>8} {'persons/fr':>10} {'ids':>4}"
    )
    for row in results:
        base = next(r for r in results if r["workload"] == row["workload"])
        if row["status"] != "ok":
            print(f"{row['workload']:8} {row['name']:34} {row['status']:>9}")
            continue
        print(
            f"{row['workload']:8} {row['name']:34} {row['fps_per_core']:9.2f} "
            f"{row['fps_per_core'] / base['fps_per_core']:6.2f}x "
            f"{row['frames_per_cpu_second']:9.2f} "
            f"{row['frames_per_cpu_second'] / base['frames_per_cpu_second']:6.2f}x "
            f"{row['analysed_fraction']:8.0%} {row['tracked_persons_per_frame']:10.2f} "
            f"{row['mean_person_score']:5.2f} {row['distinct_track_ids']:4d}"
        )
        row["ratio_vs_baseline"] = row["fps_per_core"] / base["fps_per_core"]
        row["cpu_ratio_vs_baseline"] = row["frames_per_cpu_second"] / base["frames_per_cpu_second"]
    report = {
        "bench": "analysis",
        "measured_at": now_iso(),
        "machine": machine(),
        "versions": {"onnxruntime": onnxruntime.__version__, "opencv": cv2.__version__},
        "settings": {**vars(args), "out": str(args.out), "detect_fps": fps},
        "baseline": "same workload, no motion gate, whole frame at 640",
        "results": results,
    }
    save_report(args.out, report)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
