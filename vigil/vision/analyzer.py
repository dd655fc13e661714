"""CameraAnalyzer: one camera's stateful vision pipeline, in plain Python.

motion -> gate -> person detector (whole frame, or squares around motion and tracks) -> tracker
-> faces on person crops (and the whole frame in face mode) -> best face per track per window
-> embedding.
No Bytewax, Kafka or database knowledge: the dataflow calls `process` and ships the result.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

from vigil.logs import get_logger
from vigil.vision.agreement import people_found
from vigil.vision.detection_path import PathChooser, PathConfig
from vigil.vision.detector import Detector, large_model, whole_frame_model
from vigil.vision.face_pipeline import FacePipeline
from vigil.vision.face_quality import FaceCandidate, FaceQualityConfig
from vigil.vision.faces import FaceBackend
from vigil.vision.frames import Frame, validate_frame, validate_ts
from vigil.vision.motion import MotionConfig, MotionDetector
from vigil.vision.regions import plan_regions
from vigil.vision.tracker import PersonTracker, TrackedObject, TrackerConfig, TrackerSnapshot
from vigil.vision.types import (
    BBox,
    Detection,
    FaceObservation,
    FrameAnalysis,
    MotionResult,
    PersonObservation,
)

log = get_logger(__name__)

SNAPSHOT_VERSION = 1


@dataclass(frozen=True, slots=True)
class AnalyzerConfig:
    motion: MotionConfig = field(default_factory=MotionConfig)
    tracker: TrackerConfig = field(default_factory=TrackerConfig)
    faces: FaceQualityConfig = field(default_factory=FaceQualityConfig)
    gating: bool = True  # VIGIL_MOTION_GATING: detect only on motion or with a moving track
    region_detection: bool = True  # detect on squares around motion when they are few enough
    region_min_side: int = 320  # the region detector's input size: regions keep native pixels
    region_max_fraction: float = 0.75
    region_max_count: int = 2
    # regions, the whole frame, or chosen per camera from measured recall (detection_path)
    path: PathConfig = field(default_factory=PathConfig)
    stationary_recheck_seconds: float = 10.0  # re-detect a scene holding only stationary tracks
    faces_enabled: bool = True
    face_mode: bool = False  # look for faces in the whole frame, not only on person crops


@dataclass(frozen=True, slots=True)
class AnalyzerSnapshot:
    """Picklable recovery state. The motion background is not kept: it recalibrates."""

    version: int
    camera_id: str
    config: AnalyzerConfig
    next_frame_index: int
    last_detect_ts: datetime | None
    tracker: TrackerSnapshot
    pending_faces: tuple[tuple[datetime, FaceCandidate], ...]


class CameraAnalyzer:
    def __init__(
        self,
        camera_id: str,
        detector: Detector,
        face_backend: FaceBackend | None = None,
        config: AnalyzerConfig | None = None,
    ) -> None:
        if not camera_id:
            raise ValueError("camera_id must not be empty")
        self.camera_id = camera_id
        self.detector = detector
        self.face_backend = face_backend
        self.config = cfg = config or AnalyzerConfig()
        self._motion = MotionDetector(cfg.motion)
        self._tracker = PersonTracker(cfg.tracker)
        self._path = PathChooser(cfg.path, camera_id)
        self._faces: FacePipeline | None = None
        if face_backend is not None and cfg.faces_enabled:
            self._faces = FacePipeline(face_backend, cfg.faces, whole_frame=cfg.face_mode)
        self._next_index = 0
        self._last_detect_ts: datetime | None = None

    @property
    def tracker(self) -> PersonTracker:
        return self._tracker

    @property
    def detection_path(self) -> PathChooser:
        return self._path

    def process(self, frame_bgr: Frame, ts: datetime) -> FrameAnalysis:
        started = time.perf_counter()
        frame, ts = validate_frame(frame_bgr), validate_ts(ts)
        h, w = frame.shape[:2]
        index, self._next_index = self._next_index, self._next_index + 1
        motion = self._motion.detect(frame)
        motion_ms = (time.perf_counter() - started) * 1000

        region: BBox | None = None
        inference_ms = 0.0
        run = self._should_detect(motion, ts)
        if run:
            t = time.perf_counter()
            detections, region = self._detect(frame, motion, ts)
            inference_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        if run:
            tracked, ended = self._tracker.update(detections, ts, index)
            self._last_detect_ts = ts
        elif self._tracker.tracks:
            tracked, ended = self._tracker.carry_stationary(ts)
        else:
            tracked, ended = [], []
        tracking_ms = (time.perf_counter() - t) * 1000

        t = time.perf_counter()
        faces: tuple[FaceObservation, ...] = ()
        if self._faces is not None:
            people = [o for o in tracked if o.detected]
            faces = self._faces.run(frame, ts, index, people, ended, active=run)
        face_ms = (time.perf_counter() - t) * 1000
        persons = tuple(self._person(o, w, h) for o in tracked if self._reportable(o))
        return FrameAnalysis(
            camera_id=self.camera_id,
            frame_index=index,
            ts=ts,
            width=w,
            height=h,
            motion_boxes=motion.boxes,
            motion_boxes_norm=tuple(b.normalised(w, h) for b in motion.boxes),
            motion_area=motion.area_fraction,
            motion_calibrating=motion.calibrating,
            scene_change=motion.scene_change,
            persons=persons,
            faces=faces,
            ended_track_ids=tuple(ended),
            analysed=run,
            skipped_by_gate=not run,
            detect_region=region,
            inference_ms=inference_ms,
            face_ms=face_ms,
            total_ms=(time.perf_counter() - started) * 1000,
            motion_ms=motion_ms,
            tracking_ms=tracking_ms,
        )

    def flush_faces(self) -> tuple[FaceObservation, ...]:
        """Release every face still waiting for its window to close (end of stream)."""
        return self._faces.flush() if self._faces is not None else ()

    def state_snapshot(self) -> AnalyzerSnapshot:
        return AnalyzerSnapshot(
            version=SNAPSHOT_VERSION,
            camera_id=self.camera_id,
            config=self.config,
            next_frame_index=self._next_index,
            last_detect_ts=self._last_detect_ts,
            tracker=self._tracker.snapshot(),
            pending_faces=self._faces.best.pending() if self._faces is not None else (),
        )

    @classmethod
    def from_snapshot(
        cls,
        snapshot: AnalyzerSnapshot,
        detector: Detector,
        face_backend: FaceBackend | None = None,
    ) -> CameraAnalyzer:
        """Resume tracks, frame numbering and pending faces. The motion background restarts:
        the first frames recalibrate, and the gate detects on every calibrating frame, so
        tracks are kept alive through the restart."""
        if snapshot.version != SNAPSHOT_VERSION:
            raise ValueError(f"unsupported analyzer snapshot version {snapshot.version}")
        analyzer = cls(snapshot.camera_id, detector, face_backend, snapshot.config)
        analyzer._tracker = PersonTracker.restore(snapshot.tracker)
        if analyzer._faces is not None:
            analyzer._faces.best.restore(snapshot.pending_faces)
        analyzer._next_index = snapshot.next_frame_index
        analyzer._last_detect_ts = snapshot.last_detect_ts
        log.info(
            "analyzer_restored",
            camera_id=snapshot.camera_id,
            frame_index=snapshot.next_frame_index,
            tracks=len(snapshot.tracker.states),
        )
        return analyzer

    # --- gate and region -----------------------------------------------------------------------
    def _should_detect(self, motion: MotionResult, ts: datetime) -> bool:
        if not self.config.gating or motion.calibrating or motion.boxes:
            return True  # calibrating: motion is unknown, so look
        if self._tracker.has_moving_tracks():
            return True
        if self._tracker.tracks and self._last_detect_ts is not None:
            since = (ts - self._last_detect_ts).total_seconds()
            return since >= self.config.stationary_recheck_seconds
        return False

    def _detect(
        self, frame: Frame, motion: MotionResult, ts: datetime
    ) -> tuple[list[Detection], BBox | None]:
        """Persons on the camera's current path; during a check on both paths, and the cheap
        path's recall against the whole frame on the large model chooses the next path."""
        chooser = self._path
        path, checking = chooser.path, chooser.checking(ts)
        reference = large_model(self.detector)
        if path == "whole" and not checking:
            return reference.detect(frame), None
        cheap, region, ran_reference = self._detect_cheap(frame, motion, reference)
        if not checking:
            return cheap, region
        whole = cheap if ran_reference else reference.detect(frame)
        wanted, found = people_found([(d.bbox, d.score) for d in whole], [d.bbox for d in cheap])
        chooser.record(wanted, found, ts)
        return (cheap, region) if path == "regions" else (whole, None)

    def _detect_cheap(
        self, frame: Frame, motion: MotionResult, reference: Detector
    ) -> tuple[list[Detection], BBox | None, bool]:
        """The regions path: detections, the span of the regions (None: the whole frame), and
        whether it ran the reference itself (the whole frame on the large model)."""
        h, w = frame.shape[:2]
        regions = self._regions(motion, w, h)
        if regions:
            span = regions[0]
            for r in regions[1:]:
                span = span.union(r)
            return self.detector.detect_regions(frame, regions), span, False
        model = whole_frame_model(self.detector, frame)
        return model.detect(frame), None, model is reference

    def _regions(self, motion: MotionResult, w: int, h: int) -> tuple[BBox, ...] | None:
        cfg = self.config
        if not cfg.region_detection or motion.calibrating or not motion.boxes:
            return None
        # Tracked people stay inside a region, so regions never lose a live track.
        boxes = [*motion.boxes, *(s.bbox for s in self._tracker.tracks.values())]
        return plan_regions(
            boxes,
            w,
            h,
            side=cfg.region_min_side,
            max_regions=cfg.region_max_count,
            max_fraction=cfg.region_max_fraction,
        )

    def _reportable(self, obj: TrackedObject) -> bool:
        return obj.track_id is not None or obj.detection.score >= self.config.tracker.confidence

    @staticmethod
    def _person(obj: TrackedObject, w: int, h: int) -> PersonObservation:
        d = obj.detection
        return PersonObservation(
            obj.track_id,
            d.score,
            d.bbox,
            d.bbox.normalised(w, h),
            d.class_name,
            obj.stationary,
            obj.detected,
        )
