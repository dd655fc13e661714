"""The engine's explicit state: plain, picklable dataclasses (snapshot them for stream recovery).

Nothing here knows about zones' geometry or the config: a state plus the same CameraRules
continues exactly as if the process had never stopped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from vigil.rules.types import BBox, ChangeKind, Event, EventChange, EventType


@dataclass
class Evidence:
    """Sightings accumulated for a run, a candidate or an event.

    score is the detection score (intrusion) or the moving area fraction (motion).
    The peak is the highest score, the earliest (ts, frame_id, track_id) on ties, so the
    result does not depend on the order in which equal scores are seen.
    """

    first_ts: datetime
    last_ts: datetime
    frames: int
    score_sum: float
    peak_score: float
    peak_ts: datetime
    peak_frame_id: int
    peak_track_id: int | None
    peak_bbox: BBox | None

    @classmethod
    def first(
        cls, ts: datetime, frame_id: int, score: float, track_id: int | None, bbox: BBox | None
    ) -> Evidence:
        return cls(ts, ts, 1, score, score, ts, frame_id, track_id, bbox)

    def _beats_peak(self, score: float, ts: datetime, frame_id: int, track: int | None) -> bool:
        if score != self.peak_score:
            return score > self.peak_score
        mine = (
            self.peak_ts,
            self.peak_frame_id,
            -1 if self.peak_track_id is None else self.peak_track_id,
        )
        return (ts, frame_id, -1 if track is None else track) < mine

    def add(
        self, ts: datetime, frame_id: int, score: float, track_id: int | None, bbox: BBox | None
    ) -> bool:
        """Add one sighting; True when it became the peak."""
        self.last_ts = max(self.last_ts, ts)
        self.frames += 1
        self.score_sum += score
        if self._beats_peak(score, ts, frame_id, track_id):
            self.peak_score, self.peak_ts, self.peak_frame_id = score, ts, frame_id
            self.peak_track_id, self.peak_bbox = track_id, bbox
            return True
        return False

    def absorb(self, other: Evidence) -> None:
        """Merge another accumulation into this one (callers merge in a fixed order)."""
        self.first_ts = min(self.first_ts, other.first_ts)
        self.last_ts = max(self.last_ts, other.last_ts)
        self.frames += other.frames
        self.score_sum += other.score_sum
        if self._beats_peak(
            other.peak_score, other.peak_ts, other.peak_frame_id, other.peak_track_id
        ):
            self.peak_score, self.peak_ts = other.peak_score, other.peak_ts
            self.peak_frame_id, self.peak_track_id = other.peak_frame_id, other.peak_track_id
            self.peak_bbox = other.peak_bbox

    @property
    def mean_score(self) -> float:
        return self.score_sum / self.frames


@dataclass
class OpenEvent:
    """An event between its 'open' and its 'close'."""

    event_id: uuid.UUID
    type: EventType
    zone_id: str | None
    start: datetime
    first_track_id: int | None
    evidence: Evidence
    track_ids: set[int]
    last_emit_at: datetime
    dirty: bool = False  # evidence added since the last emitted change

    def due(self, ts: datetime, immediate: bool, interval: timedelta) -> bool:
        """Should an 'update' go out now? Only with news, and then at most once per interval
        unless the news is urgent (new peak, new person)."""
        return self.dirty and (immediate or ts - self.last_emit_at >= interval)

    def change(
        self, kind: ChangeKind, at: datetime, camera_id: str, confidence: float
    ) -> EventChange:
        self.last_emit_at, self.dirty = at, False
        return EventChange(kind, at, self.snapshot(camera_id, confidence, closed=kind == "close"))

    def snapshot(self, camera_id: str, confidence: float, closed: bool) -> Event:
        ev = self.evidence
        return Event(
            event_id=self.event_id,
            type=self.type,
            camera_id=camera_id,
            zone_id=self.zone_id,
            start=self.start,
            end=ev.last_ts if closed else None,
            last_seen=ev.last_ts,
            confidence=confidence,
            peak_ts=ev.peak_ts,
            peak_frame_id=ev.peak_frame_id,
            peak_score=ev.peak_score,
            peak_track_id=ev.peak_track_id,
            peak_bbox=ev.peak_bbox,
            first_track_id=self.first_track_id,
            track_ids=tuple(sorted(self.track_ids)),
            frames_in_zone=ev.frames,
        )


@dataclass
class ZoneState:
    """One intrusion-enabled zone: persons not yet past the dwell time, or the open event."""

    fingerprint: str
    candidates: dict[int, Evidence] = field(default_factory=dict)
    event: OpenEvent | None = None


@dataclass
class MotionState:
    """The active run not yet long enough to be an event, or the open motion event."""

    run: Evidence | None = None
    event: OpenEvent | None = None


@dataclass
class CameraState:
    """All of one camera's rule state.

    last_ts / last_frame_id: the last frame applied (older or repeated frames are skipped and
    counted in skipped_frames). last_evidence_ts: the last frame with an in-zone sighting or
    active motion (replay uses it to find where it agrees with the live stream).
    zones_fingerprint: the zone set the zone states were built for.
    """

    camera_id: str
    zones_fingerprint: str
    zones: dict[str, ZoneState] = field(default_factory=dict)
    motion: MotionState = field(default_factory=MotionState)
    last_ts: datetime | None = None
    last_frame_id: int | None = None
    last_evidence_ts: datetime | None = None
    frames: int = 0
    skipped_frames: int = 0

    def pending_starts(self) -> list[datetime]:
        """Starts of open events and of runs/candidates that could still open one."""
        starts: list[datetime] = []
        for zs in self.zones.values():
            if zs.event is not None:
                starts.append(zs.event.start)
            starts.extend(c.first_ts for c in zs.candidates.values())
        if self.motion.event is not None:
            starts.append(self.motion.event.start)
        if self.motion.run is not None:
            starts.append(self.motion.run.first_ts)
        return starts
