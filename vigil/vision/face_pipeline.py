"""Faces for one camera: find them on person crops (or the whole frame in face mode, or when the
person detector sees no body: close-ups at a desk or a door), filter by size and sharpness, keep
the best per track per window, then embed and thumbnail."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from vigil.vision.face_quality import (
    BestFacePerTrack,
    FaceCandidate,
    FaceQualityConfig,
    blur_score,
    encode_jpeg,
    measure_face_quality,
    passes_quality,
    thumbnail_crop,
)
from vigil.vision.faces import FaceBackend, RawFace
from vigil.vision.frames import Frame, crop
from vigil.vision.tracker import TrackedObject
from vigil.vision.types import BBox, FaceObservation

Owned = tuple[int | None, RawFace]  # (track id, face in full-frame pixels)


class FacePipeline:
    def __init__(
        self, backend: FaceBackend, config: FaceQualityConfig, whole_frame: bool = False
    ) -> None:
        self.backend = backend
        self.config = config
        self.whole_frame = whole_frame  # face mode: doorway / entrance cameras
        self.best = BestFacePerTrack(config.window_seconds)
        self.face_tracks = FaceTracks(config.window_seconds * 2)

    def run(
        self,
        frame: Frame,
        ts: datetime,
        index: int,
        people: Sequence[TrackedObject],
        ended: Sequence[int],
        active: bool = True,
    ) -> tuple[FaceObservation, ...]:
        """Faces released on this frame: window winners, untracked faces, ended tracks' best.

        `active`: the frame passed the motion gate; only then is a frame with no person box
        searched whole for close-up faces.
        """
        released: list[FaceCandidate] = []
        found = self._find(frame, people)
        if not people and active and self.config.closeups and not self.whole_frame:
            # Close-ups: a face-only track each, so one face per window is kept, not every frame.
            found = self.face_tracks.assign([(None, f) for f in self.backend.detect(frame)], ts)
        for track_id, face in found:
            candidate = self._candidate(frame, ts, index, track_id, face)
            if candidate is not None:
                released += self.best.offer(candidate)
        released += self.best.due(ts) + self.best.flush(list(ended))
        return tuple(self._observe(c) for c in released)

    def flush(self) -> tuple[FaceObservation, ...]:
        return tuple(self._observe(c) for c in self.best.flush())

    def _find(self, frame: Frame, people: Sequence[TrackedObject]) -> list[Owned]:
        if self.whole_frame:
            return [(_owner(f, people), f) for f in self.backend.detect(frame)]
        min_side = self.config.min_size
        found: list[Owned] = []
        for person in people:
            box = person.detection.bbox
            if box.width < min_side or box.height < 2 * min_side:
                continue  # too small to hold a face worth keeping: skip the detector
            image, ox, oy = crop(frame, box.padded(0.1))
            if image.shape[0] >= 8 and image.shape[1] >= 8:
                found += [(person.track_id, f.shifted(ox, oy)) for f in self.backend.detect(image)]
        return _dedupe(found)

    def _candidate(
        self, frame: Frame, ts: datetime, index: int, track_id: int | None, face: RawFace
    ) -> FaceCandidate | None:
        if min(face.bbox.width, face.bbox.height) < self.config.min_size:
            return None  # before aligning: most rejected faces are small ones
        aligned = self.backend.align(frame, face)
        blur = blur_score(aligned)  # on the aligned 112x112 crop, so faces compare fairly
        if not passes_quality(face.bbox, blur, self.config):
            return None
        h, w = frame.shape[:2]
        return FaceCandidate(
            track_id,
            index,
            ts,
            face.bbox,
            face.bbox.normalised(w, h),
            face.score,
            blur,
            measure_face_quality(face, frame.shape, blur),
            aligned,
            thumbnail_crop(frame, face.bbox, self.config),
        )

    def _observe(self, c: FaceCandidate) -> FaceObservation:
        return FaceObservation(
            track_id=c.track_id,
            frame_index=c.frame_index,
            ts=c.ts,
            bbox=c.bbox,
            bbox_norm=c.bbox_norm,
            score=c.score,
            blur=c.blur,
            quality=c.quality,
            embedding=self.backend.embed(c.aligned),
            thumbnail_jpeg=encode_jpeg(c.thumbnail, self.config.thumbnail_quality),
        )


class FaceTracks:
    """Faces with no person track get a face-only track (negative ids) by overlap with the
    previous frame's faces, so a close-up yields one face per window, not one per frame."""

    def __init__(self, max_gap_seconds: float = 2.0, min_iou: float = 0.3) -> None:
        self.max_gap_seconds = max_gap_seconds
        self.min_iou = min_iou
        self._last: dict[int, tuple[BBox, datetime]] = {}
        self._next = -1

    def assign(self, faces: list[Owned], ts: datetime) -> list[Owned]:
        self._last = {
            k: v
            for k, v in self._last.items()
            if (ts - v[1]).total_seconds() <= self.max_gap_seconds
        }
        out: list[Owned] = []
        taken: set[int] = set()
        for track_id, face in faces:
            if track_id is None:
                track_id = self._match(face.bbox, taken)
                self._last[track_id] = (face.bbox, ts)
                taken.add(track_id)
            out.append((track_id, face))
        return out

    def _match(self, box: BBox, taken: set[int]) -> int:
        scored = [(box.iou(b), k) for k, (b, _) in self._last.items() if k not in taken]
        best = max(scored, default=(0.0, 0))
        if best[0] >= self.min_iou:
            return best[1]
        self._next -= 1
        return self._next + 1


def _owner(face: RawFace, people: Sequence[TrackedObject]) -> int | None:
    """The track whose (smallest) person box holds the face centre."""
    cx, cy = face.bbox.center
    holders = [p for p in people if p.detection.bbox.contains_point(cx, cy)]
    if not holders:
        return None
    return min(holders, key=lambda p: p.detection.bbox.area).track_id


def _dedupe(faces: list[Owned]) -> list[Owned]:
    """Overlapping person crops find the same face twice: keep the more confident one."""
    kept: list[Owned] = []
    for item in sorted(faces, key=lambda x: -x[1].score):
        if all(item[1].bbox.iou(k[1].bbox) < 0.5 for k in kept):
            kept.append(item)
    return kept
