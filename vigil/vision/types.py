"""Plain, frozen result types of the vision layer (picklable, no library objects inside)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt

Embedding = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class BBox:
    """Axis-aligned box, corners (x1, y1) top-left and (x2, y2) bottom-right."""

    x1: float
    y1: float
    x2: float
    y2: float

    @property
    def width(self) -> float:
        return max(0.0, self.x2 - self.x1)

    @property
    def height(self) -> float:
        return max(0.0, self.y2 - self.y1)

    @property
    def area(self) -> float:
        return self.width * self.height

    @property
    def center(self) -> tuple[float, float]:
        return ((self.x1 + self.x2) / 2, (self.y1 + self.y2) / 2)

    def normalised(self, width: int, height: int) -> BBox:
        """This pixel box as fractions of a width x height frame (0..1)."""
        return BBox(self.x1 / width, self.y1 / height, self.x2 / width, self.y2 / height)

    def scaled(self, sx: float, sy: float) -> BBox:
        return BBox(self.x1 * sx, self.y1 * sy, self.x2 * sx, self.y2 * sy)

    def shifted(self, dx: float, dy: float) -> BBox:
        return BBox(self.x1 + dx, self.y1 + dy, self.x2 + dx, self.y2 + dy)

    def padded(self, fraction: float, pixels: float = 0.0) -> BBox:
        px = self.width * fraction + pixels
        py = self.height * fraction + pixels
        return BBox(self.x1 - px, self.y1 - py, self.x2 + px, self.y2 + py)

    def clipped(self, width: int, height: int) -> BBox:
        return BBox(
            min(max(self.x1, 0.0), width),
            min(max(self.y1, 0.0), height),
            min(max(self.x2, 0.0), width),
            min(max(self.y2, 0.0), height),
        )

    def union(self, other: BBox) -> BBox:
        return BBox(
            min(self.x1, other.x1),
            min(self.y1, other.y1),
            max(self.x2, other.x2),
            max(self.y2, other.y2),
        )

    def intersection_area(self, other: BBox) -> float:
        w = min(self.x2, other.x2) - max(self.x1, other.x1)
        h = min(self.y2, other.y2) - max(self.y1, other.y1)
        return max(0.0, w) * max(0.0, h)

    def iou(self, other: BBox) -> float:
        inter = self.intersection_area(other)
        union = self.area + other.area - inter
        return inter / union if union > 0 else 0.0

    def contains_point(self, x: float, y: float) -> bool:
        return self.x1 <= x <= self.x2 and self.y1 <= y <= self.y2

    def to_int(self) -> tuple[int, int, int, int]:
        """Integer pixel corners (floor of the top-left, ceil of the bottom-right)."""
        return (
            int(np.floor(self.x1)),
            int(np.floor(self.y1)),
            int(np.ceil(self.x2)),
            int(np.ceil(self.y2)),
        )

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.x1, self.y1, self.x2, self.y2)


@dataclass(frozen=True, slots=True)
class Detection:
    """One object found by a detector, in full-frame pixels."""

    bbox: BBox
    score: float
    label: str  # mapped label, e.g. "person"
    class_name: str  # the model's own class, e.g. "Fall" (kept: it carries meaning)


@dataclass(frozen=True, slots=True)
class MotionResult:
    boxes: tuple[BBox, ...]  # full-frame pixels
    area_fraction: float  # share of the (unmasked) frame covered by motion boxes, 0..1
    calibrating: bool  # background still settling: no motion is reported
    scene_change: bool  # this frame changed too much at once and restarted calibration


@dataclass(frozen=True, slots=True)
class PersonObservation:
    track_id: int | None  # None until the tracker confirms the track (min consecutive hits)
    score: float
    bbox: BBox  # pixels
    bbox_norm: BBox  # 0..1 of the frame
    class_name: str
    stationary: bool
    detected: bool  # False: carried from the tracker on a frame the gate did not detect


@dataclass(frozen=True, slots=True, eq=False)
class FaceObservation:
    """A face that passed the quality filters, with its embedding (L2-normalised)."""

    track_id: int | None
    frame_index: int  # frame it was seen in (the best of its window, released later)
    ts: datetime
    bbox: BBox
    bbox_norm: BBox
    score: float  # detector confidence
    blur: float  # variance of the Laplacian on the aligned 112x112 crop (higher is sharper)
    quality: float  # ranking score used to keep the best face per track per window
    embedding: Embedding
    thumbnail_jpeg: bytes


@dataclass(frozen=True, slots=True)
class FrameAnalysis:
    camera_id: str
    frame_index: int
    ts: datetime
    width: int
    height: int
    motion_boxes: tuple[BBox, ...]  # pixels
    motion_boxes_norm: tuple[BBox, ...]
    motion_area: float
    motion_calibrating: bool
    scene_change: bool
    persons: tuple[PersonObservation, ...]
    faces: tuple[FaceObservation, ...]
    ended_track_ids: tuple[int, ...]  # tracks the tracker dropped on this frame
    analysed: bool  # the person detector ran on this frame
    skipped_by_gate: bool
    detect_region: BBox | None  # what the regions sent to the detector span; None = whole frame
    inference_ms: float  # person detector
    face_ms: float
    total_ms: float
    motion_ms: float = 0.0
    tracking_ms: float = 0.0
