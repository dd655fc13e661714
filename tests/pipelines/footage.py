"""The real pedestrian footage analysed by the real vision pipeline, as lake rows.

CameraAnalyzer (ONNX person detector, tracker) runs over vtest.avi at 5 fps, the way the
dataflow would, and its results become frames/detections rows via vigil.records.convert.
Analysing costs a minute or two on this CPU, so the rows are cached in the temp directory
under a key of the footage and of every source file that shapes them (vision, conversion):
a change to any of them re-analyses.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cv2

ROOT = Path(__file__).resolve().parents[2]
FOOTAGE = ROOT.parent / "shared" / "data" / "footage" / "vtest.avi"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # the recordings of tests/clips start here too
SOURCE_FPS = 10
STRIDE = 2  # 5 fps
Rows = tuple[list[dict[str, Any]], list[dict[str, Any]]]


def _cache_key() -> str:
    digest = hashlib.sha256()
    stat = FOOTAGE.stat()
    digest.update(f"{stat.st_size}|{stat.st_mtime_ns}|{STRIDE}|{T0.isoformat()}".encode())
    sources = sorted((ROOT / "vigil" / "vision").glob("*.py"))
    for path in [*sources, ROOT / "vigil" / "records" / "convert.py"]:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def analyse() -> Rows:
    from vigil.records.convert import detection_rows, frame_row
    from vigil.vision import CameraAnalyzer, DetectorConfig, OnnxYoloDetector

    analyzer = CameraAnalyzer("0", OnnxYoloDetector(config=DetectorConfig(threads=2)))
    capture = cv2.VideoCapture(str(FOOTAGE))
    frames: list[dict[str, Any]] = []
    detections: list[dict[str, Any]] = []
    index = 0
    while True:
        ok, image = capture.read()
        if not ok:
            break
        if index % STRIDE == 0:
            result = analyzer.process(image, T0 + timedelta(seconds=index / SOURCE_FPS))
            frames.append(frame_row(result, 0))
            detections.extend(detection_rows(result, 0))
        index += 1
    capture.release()
    return frames, detections


def vtest_rows(camera_id: int) -> Rows:
    cache = Path(tempfile.gettempdir()) / "vigil-test-cache" / f"vtest-rows-{_cache_key()}.pkl"
    if cache.exists():
        frames, detections = pickle.loads(cache.read_bytes())  # noqa: S301 (written by us)
    else:
        frames, detections = analyse()
        cache.parent.mkdir(parents=True, exist_ok=True)
        temp = cache.with_suffix(f".{os.getpid()}.tmp")
        temp.write_bytes(pickle.dumps((frames, detections)))
        temp.replace(cache)
    return (
        [{**row, "camera_id": camera_id} for row in frames],
        [{**row, "camera_id": camera_id} for row in detections],
    )
