"""Synthetic lake content for replay tests and benchmarks: people walking straight lines.

Rows have exactly the lake's schemas (vigil.records.schemas) and go through the real
LakeWriter, so the replay reads what the dataflow would have written."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from vigil.lake.store import LakeRoot
from vigil.lake.writer import LakeWriter
from vigil.records.convert import f32
from vigil.records.schemas import DETECTIONS, FRAMES

Row = dict[str, Any]


@dataclass(frozen=True)
class Walk:
    """A person (track) whose foot point moves from `a` to `b` over [start, start + seconds)."""

    track_id: int
    start: datetime
    seconds: float
    a: tuple[float, float]
    b: tuple[float, float]
    height: float = 0.2
    width: float = 0.06

    def box_at(self, ts: datetime) -> list[float] | None:
        f = (ts - self.start).total_seconds() / self.seconds
        if not 0 <= f < 1:
            return None
        x = self.a[0] + (self.b[0] - self.a[0]) * f
        y = self.a[1] + (self.b[1] - self.a[1]) * f
        box = [x - self.width / 2, y - self.height, x + self.width / 2, y]
        return [f32(min(max(v, 0.0), 1.0)) for v in box]


def rows(
    camera_id: int, start: datetime, seconds: float, fps: float, walks: Sequence[Walk]
) -> Iterator[tuple[Row, list[Row]]]:
    """(frame row, detection rows) for every frame of [start, start + seconds)."""
    step = timedelta(seconds=1 / fps)
    for index in range(round(seconds * fps)):
        ts = start + index * step
        boxes = [(w.track_id, b) for w in walks if (b := w.box_at(ts)) is not None]
        frame = {
            "camera_id": camera_id,
            "ts": ts,
            "frame_index": index,
            "width": 640,
            "height": 360,
            "analysed": True,
            "skipped_by_gate": False,
            "motion_area": f32(0.01 if boxes else 0.0),
            "motion_calibrating": False,
            "scene_change": False,
            "motion_boxes": [box for _, box in boxes],
            "track_ids": sorted(t for t, _ in boxes),
            "persons": len(boxes),
            "inference_ms": f32(12.0),
            "total_ms": f32(20.0),
        }
        detections = [
            {
                "camera_id": camera_id,
                "ts": ts,
                "frame_index": index,
                "index": i,
                "label": "person",
                "class_name": "person",
                "track_id": track,
                "score": f32(0.8),
                "bbox": box,
                "stationary": False,
                "detected": True,
            }
            for i, (track, box) in enumerate(boxes)
        ]
        yield frame, detections


def write(
    lake_root: LakeRoot, frames: Iterable[tuple[Row, list[Row]]], roll_rows: int = 5000
) -> int:
    """Write through LakeWriter (rolled by row count, as the dataflow would); returns frames."""
    frame_writer = LakeWriter(lake_root, FRAMES, roll_seconds=1e9, roll_rows=roll_rows)
    detection_writer = LakeWriter(lake_root, DETECTIONS, roll_seconds=1e9, roll_rows=roll_rows)
    count = 0
    for frame, detections in frames:
        frame_writer.add([frame])
        detection_writer.add(detections)
        count += 1
    frame_writer.flush()
    detection_writer.flush()
    return count
