from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, status
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from api.deps import CurrentUser, DbDep
from api.jsonbody import StrictJSONRoute
from api.params import CameraIdQuery, Instant
from api.schemas.events import EventPage, EventResponse, EventType
from vigil.db.models import Camera, Clip, Event, User

router = APIRouter(prefix="/events", tags=["events"], route_class=StrictJSONRoute)

EVENT_ID_PATTERN = r"^[0-9a-f\-]{36}$"
EventId = Annotated[str, Path(min_length=36, max_length=36, pattern=EVENT_ID_PATTERN)]
_EVENT_ID = re.compile(EVENT_ID_PATTERN)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such event"}}


def _encode_cursor(event: Event) -> str:
    raw = json.dumps([event.start_ts.isoformat(), event.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        start, event_id = json.loads(raw)
        when = datetime.fromisoformat(start)
        if when.tzinfo is None or not isinstance(event_id, str) or not _EVENT_ID.match(event_id):
            raise ValueError
        when.astimezone(UTC)  # raises OverflowError past the calendar's ends in UTC
        return when, event_id
    except (ValueError, TypeError, OverflowError, binascii.Error):
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=[{"loc": ["query", "cursor"], "msg": "invalid cursor", "type": "value_error"}],
        ) from None


def owned_event(db: Session, user: User, event_id: str) -> tuple[Event, Clip | None]:
    """The event (and its clip) if its camera belongs to the caller; 404 otherwise."""
    row = db.execute(
        select(Event, Clip)
        .join(Camera, Camera.id == Event.camera_id)
        .outerjoin(Clip, Clip.event_id == Event.id)
        .where(Event.id == event_id, Camera.owner_id == user.id)
    ).first()
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="event not found")
    return row[0], row[1]


@router.get("")
def list_events(
    user: CurrentUser,
    db: DbDep,
    camera_id: CameraIdQuery = None,
    type: Annotated[EventType | None, Query()] = None,
    since: Annotated[Instant | None, Query(description="start at or after (ISO 8601)")] = None,
    until: Annotated[Instant | None, Query(description="start before (ISO 8601)")] = None,
    min_confidence: Annotated[float | None, Query(ge=0, le=1)] = None,
    has_clip: Annotated[bool | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EventPage:
    """Events of the caller's cameras, newest first, with cursor pagination."""
    query = (
        select(Event, Clip)
        .join(Camera, Camera.id == Event.camera_id)
        .outerjoin(Clip, Clip.event_id == Event.id)
        .where(Camera.owner_id == user.id)
    )
    if camera_id is not None:
        query = query.where(Event.camera_id == camera_id)
    if type is not None:
        query = query.where(Event.type == type)
    if since is not None:
        query = query.where(Event.start_ts >= since)
    if until is not None:
        query = query.where(Event.start_ts < until)
    if min_confidence is not None:
        query = query.where(Event.confidence >= min_confidence)
    if has_clip is not None:
        query = query.where(Clip.id.is_not(None) if has_clip else Clip.id.is_(None))
    if cursor is not None:
        after_start, after_id = _decode_cursor(cursor)
        query = query.where(
            or_(
                Event.start_ts < after_start,
                and_(Event.start_ts == after_start, Event.id < after_id),
            )
        )
    rows = db.execute(query.order_by(Event.start_ts.desc(), Event.id.desc()).limit(limit + 1))
    page = list(rows)
    items = [EventResponse.of(event, clip) for event, clip in page[:limit]]
    next_cursor = _encode_cursor(page[limit - 1][0]) if len(page) > limit else None
    return EventPage(items=items, next_cursor=next_cursor)


@router.get("/{event_id}", responses=NOT_FOUND)
def get_event(event_id: EventId, user: CurrentUser, db: DbDep) -> EventResponse:
    event, clip = owned_event(db, user, event_id)
    return EventResponse.of(event, clip)
