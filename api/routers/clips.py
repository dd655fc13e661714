"""Event clips and snapshots, streamed from the object store with range support."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Request, status
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from api.deps import DbDep, MediaUser
from api.jsonbody import StrictJSONRoute
from api.ranges import object_response
from api.routers.events import EventId, owned_event
from vigil.db.models import Camera, Clip
from vigil.storage.objectstore import ObjectStore

router = APIRouter(tags=["clips"], route_class=StrictJSONRoute)
ClipId = Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f\-]{36}$")]
RangeHeader = Annotated[str | None, Header(alias="Range", max_length=200)]
MEDIA: dict[int | str, dict[str, Any]] = {
    206: {"description": "partial content"},
    404: {"description": "no such clip for this user"},
    416: {"description": "range not satisfiable"},
}


def _store(request: Request) -> ObjectStore:
    store: ObjectStore = request.app.state.object_store()
    return store


@router.get("/events/{event_id}/clip", responses=MEDIA, response_class=StreamingResponse)
def event_clip(
    event_id: EventId, user: MediaUser, db: DbDep, request: Request, range: RangeHeader = None
) -> StreamingResponse:
    _event, clip = owned_event(db, user, event_id)
    if clip is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="this event has no clip yet")
    return object_response(_store(request), clip.object_key, range, "video/mp4")


@router.get("/events/{event_id}/snapshot.jpg", responses=MEDIA, response_class=StreamingResponse)
def event_snapshot(
    event_id: EventId, user: MediaUser, db: DbDep, request: Request
) -> StreamingResponse:
    event, _clip = owned_event(db, user, event_id)
    if not event.snapshot_key:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="this event has no snapshot")
    return object_response(_store(request), event.snapshot_key, None, "image/jpeg")


@router.get("/clips/{clip_id}", responses=MEDIA, response_class=StreamingResponse)
def get_clip(
    clip_id: ClipId, user: MediaUser, db: DbDep, request: Request, range: RangeHeader = None
) -> StreamingResponse:
    clip = db.scalar(
        select(Clip)
        .join(Camera, Camera.id == Clip.camera_id)
        .where(Clip.id == clip_id, Camera.owner_id == user.id)
    )
    if clip is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="clip not found")
    return object_response(_store(request), clip.object_key, range, "video/mp4")
