"""Persistent person track ids per camera: ByteTrack (roboflow `trackers`) plus Vigil's own
per-track state (first/last seen, hits, last box, stationary flag).

supervision >= 0.27 moved ByteTrack out into roboflow's `trackers` package; its tracker is
time-aware (we pass capture timestamps), so skipped frames do not confuse the Kalman filter.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import supervision as sv
from trackers import ByteTrackTracker

from vigil.vision.types import BBox, Detection


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    frame_rate: float = 10.0  # nominal detect fps (Kalman step when timestamps are equal)
    lost_track_seconds: float = 2.0  # keep an unseen track this long before ending it
    # Score to start a track (VIGIL_DETECTOR_CONFIDENCE). Weaker detections, down to the
    # detector's own (lower) threshold, only extend existing tracks: ByteTrack's second stage.
    confidence: float = 0.4
    match_iou: float = 0.1
    min_consecutive_frames: int = 2  # hits before a track gets an id (filters one-frame noise)
    stationary_seconds: float = 5.0  # no movement for this long: stationary
    stationary_iou: float = 0.7  # overlap with the box where it stopped that counts as still


@dataclass(slots=True)
class TrackState:
    track_id: int
    label: str
    class_name: str
    first_seen: datetime
    last_seen: datetime  # last real detection
    first_frame: int
    last_frame: int
    hits: int
    bbox: BBox
    score: float
    anchor: BBox  # where the object last moved
    anchor_ts: datetime
    stationary: bool = False


@dataclass(frozen=True, slots=True)
class TrackedObject:
    track_id: int | None  # None: not (yet) a confirmed track
    detection: Detection
    stationary: bool
    detected: bool  # False when carried on a frame without detection


@dataclass(frozen=True, slots=True)
class TrackerSnapshot:
    config: TrackerConfig
    bytetrack: bytes  # pickled ByteTrackTracker: restored with the same `trackers` version
    states: tuple[TrackState, ...]
    last_ts: float | None


class PersonTracker:
    """One per camera. Call `update` with each frame's detections, in capture order."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = cfg = config or TrackerConfig()
        self._bt = ByteTrackTracker(
            lost_track_buffer=max(1, round(cfg.lost_track_seconds * 30)),  # in 30 fps frames
            frame_rate=cfg.frame_rate,
            track_activation_threshold=cfg.confidence,
            minimum_consecutive_frames=cfg.min_consecutive_frames,
            minimum_iou_threshold=cfg.match_iou,
            high_conf_det_threshold=cfg.confidence,
        )
        self._states: dict[int, TrackState] = {}
        self._last_ts: float | None = None

    @property
    def tracks(self) -> dict[int, TrackState]:
        return self._states

    def has_moving_tracks(self) -> bool:
        return any(not s.stationary for s in self._states.values())

    def update(
        self, detections: Sequence[Detection], ts: datetime, frame_index: int
    ) -> tuple[list[TrackedObject], list[int]]:
        """Associate detections; return tracked objects and the ids of tracks that ended."""
        out = self._associate(detections, ts)
        result: list[TrackedObject] = []
        for det, track_id in out:
            if track_id is None:
                result.append(TrackedObject(None, det, stationary=False, detected=True))
                continue
            state = self._observe(track_id, det, ts, frame_index)
            result.append(TrackedObject(track_id, det, state.stationary, detected=True))
        return result, self._prune()

    def carry_stationary(self, ts: datetime) -> tuple[list[TrackedObject], list[int]]:
        """On a frame the gate skipped: keep stationary tracks alive at their last box."""
        stationary = [s for s in self._states.values() if s.stationary]
        synthetic = [Detection(s.bbox, s.score, s.label, s.class_name) for s in stationary]
        out = self._associate(synthetic, ts)
        result = [
            TrackedObject(tid, det, stationary=True, detected=False)
            for det, tid in out
            if tid is not None and tid in self._states
        ]
        return result, self._prune()

    def snapshot(self) -> TrackerSnapshot:
        return TrackerSnapshot(
            config=self.config,
            bytetrack=pickle.dumps(self._bt),
            states=tuple(replace(s) for s in self._states.values()),
            last_ts=self._last_ts,
        )

    @classmethod
    def restore(cls, snapshot: TrackerSnapshot) -> PersonTracker:
        tracker = cls(snapshot.config)
        # Our own recovery state, written by `snapshot`; never load snapshots from elsewhere.
        tracker._bt = pickle.loads(snapshot.bytetrack)  # noqa: S301
        tracker._states = {s.track_id: replace(s) for s in snapshot.states}
        tracker._last_ts = snapshot.last_ts
        return tracker

    def _associate(
        self, detections: Sequence[Detection], ts: datetime
    ) -> list[tuple[Detection, int | None]]:
        t = ts.timestamp()
        if self._last_ts is not None and t <= self._last_ts:
            t = self._last_ts + 1e-3  # clock jitter: ByteTrack skips non-increasing times
        self._last_ts = t
        if detections:
            xyxy = np.array([d.bbox.as_tuple() for d in detections], np.float32)
            sv_dets = sv.Detections(
                xyxy=xyxy,
                confidence=np.array([d.score for d in detections], np.float32),
                class_id=np.zeros(len(detections), int),
                data={"index": np.arange(len(detections))},
            )
        else:
            sv_dets = sv.Detections.empty()
        tracked = self._bt.update(sv_dets, timestamp=t)
        if len(tracked) == 0 or tracked.tracker_id is None:
            return []
        pairs: list[tuple[Detection, int | None]] = []
        for idx, tid in zip(tracked.data["index"], tracked.tracker_id, strict=True):
            pairs.append((detections[int(idx)], int(tid) + 1 if tid >= 0 else None))  # ids from 1
        return pairs

    def _observe(self, track_id: int, det: Detection, ts: datetime, frame: int) -> TrackState:
        state = self._states.get(track_id)
        if state is None:
            state = TrackState(
                track_id,
                det.label,
                det.class_name,
                ts,
                ts,
                frame,
                frame,
                0,
                det.bbox,
                det.score,
                anchor=det.bbox,
                anchor_ts=ts,
            )
            self._states[track_id] = state
        state.hits += 1
        state.last_seen, state.last_frame = ts, frame
        state.bbox, state.score, state.class_name = det.bbox, det.score, det.class_name
        if det.bbox.iou(state.anchor) >= self.config.stationary_iou:
            still_for = (ts - state.anchor_ts).total_seconds()
            state.stationary = still_for >= self.config.stationary_seconds
        else:
            state.anchor, state.anchor_ts, state.stationary = det.bbox, ts, False
        return state

    def _prune(self) -> list[int]:
        alive = {t.tracker_id + 1 for t in self._bt.tracks if t.tracker_id >= 0}
        ended = sorted(tid for tid in self._states if tid not in alive)
        for tid in ended:
            del self._states[tid]
        return ended
