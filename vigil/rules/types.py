"""The rules' input records (what the detector/tracker saw) and output records (events).

Every timestamp is a timezone-aware datetime, normalised to UTC on construction; naive ones
are refused, because live and batch must agree on the instant of every observation.
Coordinates are normalised to the frame (0..1, x right, y down).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

BBox = tuple[float, float, float, float]
EventType = Literal["intrusion", "motion"]
ChangeKind = Literal["open", "update", "close"]

#: Namespace of event ids (uuid5). Never change it: stored events would get new ids.
EVENT_ID_NAMESPACE = uuid.UUID("0f071128-0400-470c-8fd8-08d75ea7d8ea")

_ZERO = timedelta(0)


def as_utc(ts: datetime, what: str = "ts") -> datetime:
    """ts in UTC; a naive datetime is an error (its instant is unknown)."""
    if not isinstance(ts, datetime):
        raise TypeError(f"{what} must be a datetime, got {type(ts).__name__}")
    offset = ts.utcoffset()
    if offset is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got naive {ts.isoformat()}")
    if offset != _ZERO or ts.tzinfo is not UTC:
        return ts.astimezone(UTC)
    return ts


def _check_bbox(bbox: BBox, what: str) -> None:
    if len(bbox) != 4 or not all(math.isfinite(v) for v in bbox):
        raise ValueError(f"{what} must be 4 finite numbers (x1, y1, x2, y2), got {bbox!r}")
    if bbox[0] > bbox[2] or bbox[1] > bbox[3]:
        raise ValueError(f"{what} must have x1 <= x2 and y1 <= y2, got {bbox!r}")


def _check_unit(value: float, what: str) -> None:
    if not (math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"{what} must be between 0 and 1, got {value!r}")


@dataclass(frozen=True, slots=True)
class PersonObservation:
    """One tracked person in one analysed frame.

    frame_id: the frame's sequence number on its camera (ties frames with equal ts apart).
    track_id: the tracker's id, stable while the tracker follows the person.
    score: detection confidence in [0, 1].
    bbox: (x1, y1, x2, y2) normalised; may stick out of [0, 1] slightly (clipped boxes).
    """

    camera_id: str
    ts: datetime
    frame_id: int
    track_id: int
    score: float
    bbox: BBox

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", as_utc(self.ts))
        _check_unit(self.score, "score")
        _check_bbox(self.bbox, "bbox")

    @property
    def foot(self) -> tuple[float, float]:
        """Bottom-centre of the box: where the person stands (y grows downwards)."""
        x1, _, x2, y2 = self.bbox
        return ((x1 + x2) / 2.0, y2)


@dataclass(frozen=True, slots=True)
class MotionObservation:
    """Motion measured on one analysed frame: the fraction of the frame that moved (0..1)
    and the moving regions' boxes (normalised)."""

    camera_id: str
    ts: datetime
    frame_id: int
    area_fraction: float
    boxes: tuple[BBox, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", as_utc(self.ts))
        _check_unit(self.area_fraction, "area_fraction")
        for box in self.boxes:
            _check_bbox(box, "motion box")


@dataclass(frozen=True, slots=True)
class FrameTick:
    """A frame was analysed, whatever was found in it: time moves on without detections, so
    timeouts fire and events close even when nobody is detected any more.

    track_ids: the tracks the tracker still holds at this frame. Kept for the lake and for
    consumers; the rules do not need it: a lost track and an undetected one are alike to them
    (both end after presence_gap / close_timeout without an in-zone sighting)."""

    camera_id: str
    ts: datetime
    frame_id: int
    track_ids: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", as_utc(self.ts))
        if not isinstance(self.track_ids, frozenset):
            object.__setattr__(self, "track_ids", frozenset(self.track_ids))


Observation = PersonObservation | MotionObservation | FrameTick


@dataclass(frozen=True, slots=True)
class Frame:
    """Everything observed on one analysed frame: the unit of `CameraRules.step`.

    persons: the frame's person detections (any order). motion: its motion measurement, if
    any. track_ids: the tracker's tracks from the frame's FrameTick, None without a tick.
    """

    camera_id: str
    ts: datetime
    frame_id: int
    persons: tuple[PersonObservation, ...] = ()
    motion: MotionObservation | None = None
    track_ids: frozenset[int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "ts", as_utc(self.ts))
        for obs in (*self.persons, *((self.motion,) if self.motion else ())):
            if (obs.camera_id, obs.ts, obs.frame_id) != (self.camera_id, self.ts, self.frame_id):
                raise ValueError(
                    f"observation of camera {obs.camera_id} frame {obs.frame_id} at "
                    f"{obs.ts.isoformat()} does not belong to frame {self.frame_id} at "
                    f"{self.ts.isoformat()} of camera {self.camera_id}"
                )


@dataclass(frozen=True, slots=True)
class Event:
    """An event as known at some instant (the same shape for live upserts and batch replay).

    event_id: uuid5 of (camera_id, type, zone_id, start, first_track_id): the same history
        gives the same id live and in replay.
    type: 'intrusion' (a person in a zone) or 'motion' (camera-wide, zone_id None).
    start: first evidence: the earliest in-zone sighting of the persons present when the
        intrusion opened / the first active frame of the motion run.
    end: last evidence (last in-zone sighting / last active frame) once closed; None while open.
    last_seen: last evidence so far (equals end once closed).
    confidence: in [0, 1]; see intrusion.intrusion_confidence / motion.motion_confidence.
    peak_ts, peak_frame_id, peak_score, peak_track_id, peak_bbox: the best single piece of
        evidence (highest detection score / largest moving area; earliest on ties), for the
        thumbnail. peak_track_id is None for motion; peak_bbox is the person's box or the union
        of the motion boxes (None when the motion had no boxes).
    first_track_id: the track whose first sighting is `start` (None for motion).
    track_ids: every track that was in the zone during the event, ascending (empty for motion).
    frames_in_zone: in-zone person sightings (one per person per frame; equals frames for a
        single person) / active frames for motion.
    """

    event_id: uuid.UUID
    type: EventType
    camera_id: str
    zone_id: str | None
    start: datetime
    end: datetime | None
    last_seen: datetime
    confidence: float
    peak_ts: datetime
    peak_frame_id: int
    peak_score: float
    peak_track_id: int | None
    peak_bbox: BBox | None
    first_track_id: int | None
    track_ids: tuple[int, ...]
    frames_in_zone: int

    @property
    def is_open(self) -> bool:
        return self.end is None


@dataclass(frozen=True, slots=True)
class EventChange:
    """What the live path does with an event: 'open' inserts it, 'update' upserts it, 'close'
    upserts its final form. at: the input time (frame ts) when the rules decided it."""

    kind: ChangeKind
    at: datetime
    event: Event


def event_id_for(
    camera_id: str,
    type: EventType,
    zone_id: str | None,
    start: datetime,
    first_track_id: int | None,
) -> uuid.UUID:
    """The deterministic event id: a pure function of the event's identity."""
    parts = (
        camera_id,
        type,
        zone_id or "",
        as_utc(start).isoformat(),
        "" if first_track_id is None else str(first_track_id),
    )
    return uuid.uuid5(EVENT_ID_NAMESPACE, "\x1f".join(parts))
