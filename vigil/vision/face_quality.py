"""Which faces are worth keeping: size and sharpness filters, the best face per track per
window, and JPEG thumbnails."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np

from vigil.vision.faces import RawFace
from vigil.vision.frames import Frame, crop, resize, validate_frame
from vigil.vision.types import BBox


@dataclass(frozen=True, slots=True)
class FaceQualityConfig:
    # Low floors: small and soft faces still group well once weighted by quality.
    min_size: int = 20  # shortest side of the face box, pixels of the full frame
    min_blur: float = 4.0  # variance of the Laplacian on the aligned 112x112 crop
    window_seconds: float = 1.0  # keep one face per track per window (the best one)
    thumbnail_side: int = 128  # longest side of the JPEG thumbnail
    thumbnail_margin: float = 0.25  # context around the face box, as a share of its size
    thumbnail_quality: int = 85
    closeups: bool = True  # search the whole frame for faces when no person box is found


def blur_score(image_bgr: Frame) -> float:
    """Variance of the Laplacian: low for blurred or flat images. Compare crops of one size."""
    grey = cv2.cvtColor(validate_frame(image_bgr), cv2.COLOR_BGR2GRAY)
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def measure_face_quality(
    face: RawFace, frame_shape: tuple[int, ...], blur: float | None = None
) -> float:
    """0..1: confident, large (towards the 112 px model input), sharp, frontal and whole.

    `blur` is the Laplacian variance of the aligned crop (None: not judged). Pose comes from the
    landmarks: the nose tip sits midway between the eyes on a frontal face.
    """
    side = min(face.bbox.width, face.bbox.height)
    size = min(1.0, max(0.0, (side - 12.0) / 68.0))
    score = min(1.0, max(0.0, (face.score - 0.4) / 0.5))
    sharp = 1.0 if blur is None else min(1.0, blur / 250.0)
    q = (0.2 + 0.8 * score) * (0.25 + 0.75 * size) * (0.4 + 0.6 * sharp) * _frontal(face)
    h, w = frame_shape[:2]
    b = face.bbox
    if b.x1 <= 1 or b.y1 <= 1 or b.x2 >= w - 1 or b.y2 >= h - 1:
        q *= 0.8  # cut by the frame edge: part of the face is missing
    return float(min(1.0, max(0.0, q)))


def _frontal(face: RawFace) -> float:
    """1 for a frontal face, towards 0.3 for a profile or a steep tilt (from the 5 landmarks)."""
    lm = face.landmarks
    if lm.shape != (5, 2):
        return 1.0
    right_eye, left_eye, nose = lm[0], lm[1], lm[2]
    mouth = (lm[3] + lm[4]) / 2
    eye_mid = (right_eye + left_eye) / 2
    eye_dist = float(np.linalg.norm(left_eye - right_eye))
    if eye_dist < 1e-3:
        return 0.3
    yaw = abs(float(nose[0] - eye_mid[0])) / eye_dist  # 0 frontal, ~0.5 profile
    span = float(mouth[1] - eye_mid[1])
    pitch = 0.0 if span <= 1e-3 else abs(float(nose[1] - eye_mid[1]) / span - 0.55)
    return float(max(0.3, 1.0 - 1.2 * max(0.0, yaw - 0.08) - 1.0 * max(0.0, pitch - 0.15)))


def passes_quality(bbox: BBox, blur: float, config: FaceQualityConfig) -> bool:
    return min(bbox.width, bbox.height) >= config.min_size and blur >= config.min_blur


def thumbnail_crop(frame: Frame, bbox: BBox, config: FaceQualityConfig) -> Frame:
    """The face with some context, shrunk so its longest side is at most `thumbnail_side`."""
    image, _, _ = crop(frame, bbox.padded(config.thumbnail_margin))
    h, w = image.shape[:2]
    scale = config.thumbnail_side / max(h, w, 1)
    if scale < 1:
        image = resize(image, max(1, round(w * scale)), max(1, round(h * scale)))
    return np.ascontiguousarray(image)


def encode_jpeg(image: Frame, quality: int = 85) -> bytes:
    ok, buf = cv2.imencode(
        ".jpg", validate_frame(image, "thumbnail"), [cv2.IMWRITE_JPEG_QUALITY, quality]
    )
    if not ok:
        raise ValueError("JPEG encoding failed")
    return buf.tobytes()


@dataclass(frozen=True, slots=True, eq=False)
class FaceCandidate:
    """A face that passed the filters, held until its track's window closes."""

    track_id: int | None
    frame_index: int
    ts: datetime
    bbox: BBox
    bbox_norm: BBox
    score: float
    blur: float
    quality: float
    aligned: Frame  # 112x112, embedded only if this candidate wins its window
    thumbnail: Frame


class BestFacePerTrack:
    """Keeps the best candidate per track per window; untracked faces pass straight through.

    Embedding only the winner saves ~10 ms per face on every other frame.
    """

    def __init__(self, window_seconds: float = 1.0) -> None:
        self.window_seconds = window_seconds
        self._pending: dict[int, tuple[datetime, FaceCandidate]] = {}  # track -> (start, best)

    def offer(self, candidate: FaceCandidate) -> list[FaceCandidate]:
        """Add a candidate; return the candidates whose windows this one closed."""
        if candidate.track_id is None:
            return [candidate]
        released = []
        current = self._pending.get(candidate.track_id)
        if current is not None and self._closed(current[0], candidate.ts):
            released.append(current[1])
            current = None
        if current is None:
            self._pending[candidate.track_id] = (candidate.ts, candidate)
        elif candidate.quality > current[1].quality:
            self._pending[candidate.track_id] = (current[0], candidate)
        return released

    def due(self, now: datetime) -> list[FaceCandidate]:
        """Release the winners of windows that have closed by `now`."""
        closed = [tid for tid, (start, _) in self._pending.items() if self._closed(start, now)]
        return [self._pending.pop(tid)[1] for tid in closed]

    def flush(self, track_ids: list[int] | None = None) -> list[FaceCandidate]:
        """Release pending winners now (all, or of the given tracks, e.g. tracks that ended)."""
        ids = list(self._pending) if track_ids is None else track_ids
        return [self._pending.pop(tid)[1] for tid in ids if tid in self._pending]

    def pending(self) -> tuple[tuple[datetime, FaceCandidate], ...]:
        return tuple(self._pending.values())

    def restore(self, pending: tuple[tuple[datetime, FaceCandidate], ...]) -> None:
        self._pending = {c.track_id: (s, c) for s, c in pending if c.track_id is not None}

    def _closed(self, start: datetime, now: datetime) -> bool:
        return (now - start).total_seconds() >= self.window_seconds
