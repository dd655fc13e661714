from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from api.schemas.common import StrictModel
from vigil.faces.timeline import Appearance, CoveringEvent, Visit

DetectionId = Annotated[str, Field(min_length=36, max_length=36, pattern=r"^[0-9a-f\-]{36}$")]
API = "/api/v1"


def detection_thumbnail_url(detection_id: str) -> str:
    return f"{API}/faces/detections/{detection_id}/thumbnail.jpg"


class FaceResponse(BaseModel):
    id: int
    label: str | None = Field(description="null until a user names the identity")
    named: bool
    detection_count: int
    first_seen: datetime | None
    last_seen: datetime | None
    cameras: list[int]
    thumbnail_url: str | None = Field(description="the identity's best face")


class FacePage(BaseModel):
    items: list[FaceResponse]
    next_cursor: str | None


class CoveringEventResponse(BaseModel):
    id: str
    camera_id: int
    type: str
    start: datetime
    end: datetime | None
    clip_id: str | None
    clip_url: str | None

    @classmethod
    def of(cls, event: CoveringEvent) -> CoveringEventResponse:
        return cls(
            id=event.id,
            camera_id=event.camera_id,
            type=event.type,
            start=event.start,
            end=event.end,
            clip_id=event.clip_id,
            clip_url=f"{API}/clips/{event.clip_id}" if event.clip_id else None,
        )


class FaceDetectionResponse(BaseModel):
    id: str
    camera_id: int
    ts: datetime
    track_id: int | None
    bbox: list[float]
    score: float
    quality: float | None
    thumbnail_url: str | None
    event_ids: list[str] = Field(description="events whose span covers this face")


class FaceDetail(FaceResponse):
    detections: list[FaceDetectionResponse] = Field(description="newest first")
    next_cursor: str | None = Field(description="more detections: pass as ?cursor=")
    events: list[CoveringEventResponse] = Field(description="events covering these detections")


class AppearanceResponse(BaseModel):
    detection_id: str
    ts: datetime
    quality: float | None
    thumbnail_url: str | None
    event_ids: list[str]

    @classmethod
    def of(cls, a: Appearance) -> AppearanceResponse:
        return cls(
            detection_id=a.detection_id,
            ts=a.ts,
            quality=a.quality,
            thumbnail_url=detection_thumbnail_url(a.detection_id) if a.has_thumbnail else None,
            event_ids=list(a.event_ids),
        )


class VisitResponse(BaseModel):
    face_id: int
    label: str | None
    camera_id: int
    start: datetime
    end: datetime
    thumbnail_url: str | None
    appearances: list[AppearanceResponse]
    events: list[CoveringEventResponse]

    @classmethod
    def of(cls, visit: Visit) -> VisitResponse:
        cover = visit.cover
        return cls(
            face_id=visit.face_id,
            label=visit.label or None,
            camera_id=visit.camera_id,
            start=visit.start,
            end=visit.end,
            thumbnail_url=detection_thumbnail_url(cover.detection_id) if cover else None,
            appearances=[AppearanceResponse.of(a) for a in visit.appearances],
            events=[CoveringEventResponse.of(e) for e in visit.events],
        )


class TimelineResponse(BaseModel):
    since: datetime
    until: datetime
    visits: list[VisitResponse] = Field(description="by start time")
    truncated: bool = Field(description="the range holds more faces than shown: narrow it")


class FaceUpdate(StrictModel):
    label: str | None = Field(
        max_length=100,
        description="a name (new faces then match it; it never expires); null clears",
    )


class FaceMerge(StrictModel):
    into: int = Field(ge=1, le=2**31 - 1, description="the identity that absorbs this one")


class FaceSplit(StrictModel):
    detection_ids: list[DetectionId] = Field(
        min_length=1, max_length=1000, description="detections that become a new identity"
    )
