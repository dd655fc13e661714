from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel

from vigil.db.models import Clip, Event

EventType = Literal["intrusion", "motion", "face"]


class EventResponse(BaseModel):
    id: str
    camera_id: int
    zone_id: int | None
    type: EventType
    status: Literal["open", "closed"]
    start: datetime
    end: datetime | None
    confidence: float
    peak_ts: datetime | None
    peak_score: float | None
    track_ids: list[int]
    frames: int
    source: Literal["live", "replay"]
    clip_id: str | None
    clip_url: str | None
    snapshot_url: str | None

    @classmethod
    def of(cls, event: Event, clip: Clip | None) -> EventResponse:
        return cls(
            id=event.id,
            camera_id=event.camera_id,
            zone_id=event.zone_id,
            type=event.type,
            status=event.status,
            start=event.start_ts,
            end=event.end_ts,
            confidence=event.confidence,
            peak_ts=event.peak_ts,
            peak_score=event.peak_score,
            track_ids=[int(t) for t in event.track_ids],
            frames=event.frames,
            source=event.source,
            clip_id=clip.id if clip else None,
            clip_url=f"/api/v1/events/{event.id}/clip" if clip else None,
            snapshot_url=f"/api/v1/events/{event.id}/snapshot.jpg" if event.snapshot_key else None,
        )


class EventPage(BaseModel):
    items: list[EventResponse]
    next_cursor: str | None
