"""The face timeline: an owner's face appearances in a time range, grouped into visits (one
identity seen at one camera with no gap longer than `gap`), each appearance with the events
(and their clips) whose span covers it."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from vigil.db.models import Camera, Clip, Event, Face, FaceDetection
from vigil.faces.events import FACE


@dataclass(frozen=True)
class CoveringEvent:
    id: str
    camera_id: int
    type: str
    start: datetime
    end: datetime | None  # None: still open
    clip_id: str | None

    def covers(self, ts: datetime) -> bool:
        return self.start <= ts and (self.end is None or ts <= self.end)


@dataclass(frozen=True)
class Appearance:
    detection_id: str
    camera_id: int
    face_id: int
    ts: datetime
    quality: float | None
    has_thumbnail: bool
    event_ids: tuple[str, ...] = ()


@dataclass
class Visit:
    face_id: int
    label: str
    camera_id: int
    start: datetime
    end: datetime
    appearances: list[Appearance] = field(default_factory=list)
    events: list[CoveringEvent] = field(default_factory=list)

    @property
    def cover(self) -> Appearance | None:
        """The best appearance with a thumbnail (highest quality, then earliest)."""
        shown = [a for a in self.appearances if a.has_thumbnail]
        return max(shown, key=lambda a: (a.quality or 0.0, -a.ts.timestamp()), default=None)


@dataclass(frozen=True)
class Timeline:
    visits: list[Visit]
    truncated: bool  # more appearances than `limit` in the range: narrow it


def timeline(
    session: Session,
    owner_id: int,
    since: datetime,
    until: datetime,
    *,
    gap: timedelta,
    camera_id: int | None = None,
    face_id: int | None = None,
    limit: int = 5000,
) -> Timeline:
    """Visits in [since, until), ordered by start (then camera, identity)."""
    query = (
        select(
            FaceDetection.id,
            FaceDetection.camera_id,
            FaceDetection.face_id,
            FaceDetection.ts,
            FaceDetection.quality,
            FaceDetection.thumbnail_key.is_not(None),
            Face.label,
        )
        .join(Face, Face.id == FaceDetection.face_id)
        .where(Face.owner_id == owner_id, FaceDetection.ts >= since, FaceDetection.ts < until)
    )
    if camera_id is not None:
        query = query.where(FaceDetection.camera_id == camera_id)
    if face_id is not None:
        query = query.where(FaceDetection.face_id == face_id)
    rows = session.execute(
        query.order_by(FaceDetection.ts, FaceDetection.id).limit(limit + 1)
    ).all()
    truncated = len(rows) > limit
    rows = rows[:limit]
    events = covering_events(session, owner_id, ((r[1], r[3]) for r in rows))
    sweeps = {cam: _Sweep(found) for cam, found in events.items()}
    open_visits: dict[tuple[int, int], Visit] = {}
    visits: list[Visit] = []
    for det_id, cam, face, ts, quality, has_thumb, label in rows:
        fid = int(face or 0)  # never 0: the join keeps assigned faces only
        covering = sweeps[cam].at(ts)
        appearance = Appearance(
            det_id, cam, fid, ts, quality, bool(has_thumb), tuple(e.id for e in covering)
        )
        visit = open_visits.get((fid, cam))
        if visit is None or ts - visit.end > gap:
            visit = open_visits[(fid, cam)] = Visit(fid, label, cam, ts, ts)
            visits.append(visit)
        visit.end = ts
        visit.appearances.append(appearance)
        for event in covering:
            if event not in visit.events:
                visit.events.append(event)
    for visit in visits:  # events that start and end between two appearances of a visit
        inside = sweeps[visit.camera_id].starting(visit.start, visit.end)
        visit.events = sorted({*visit.events, *inside}, key=lambda e: (e.start, e.id))
    visits.sort(key=lambda v: (v.start, v.camera_id, v.face_id))
    return Timeline(visits, truncated)


class _Sweep:
    """Events of one camera by start; `at(ts)` for non-decreasing ts keeps only the events
    begun and not yet ended, so covering n faces with m events costs about n + m."""

    def __init__(self, events: list[CoveringEvent]) -> None:
        self.events = events
        self.starts = [e.start for e in events]
        self.next = 0
        self.active: list[CoveringEvent] = []

    def at(self, ts: datetime) -> list[CoveringEvent]:
        while self.next < len(self.events) and self.events[self.next].start <= ts:
            self.active.append(self.events[self.next])
            self.next += 1
        self.active = [e for e in self.active if e.end is None or e.end >= ts]
        return self.active

    def starting(self, since: datetime, until: datetime) -> list[CoveringEvent]:
        lo, hi = bisect_left(self.starts, since), bisect_right(self.starts, until)
        return self.events[lo:hi]


def covering_events(
    session: Session, owner_id: int, seen: Iterable[tuple[int, datetime]]
) -> dict[int, list[CoveringEvent]]:
    """Events overlapping the span of the (camera id, time) pairs `seen`, per camera, by start."""
    by_camera: dict[int, list[datetime]] = defaultdict(list)
    for camera_id, ts in seen:
        by_camera[camera_id].append(ts)
    result: dict[int, list[CoveringEvent]] = {}
    for cam, stamps in by_camera.items():
        first, last = min(stamps), max(stamps)
        found = session.execute(
            select(Event.id, Event.type, Event.start_ts, Event.end_ts, Clip.id)
            .join(Camera, Camera.id == Event.camera_id)
            .outerjoin(Clip, Clip.event_id == Event.id)
            .where(
                Event.camera_id == cam,
                Camera.owner_id == owner_id,
                Event.type != FACE,  # the visits themselves: events that cover them have clips
                Event.start_ts <= last,
                or_(Event.end_ts.is_(None), Event.end_ts >= first),
            )
            .order_by(Event.start_ts, Event.id)
        )
        result[cam] = [CoveringEvent(e, cam, t, s, end, c) for e, t, s, end, c in found]
    return result
