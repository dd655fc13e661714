"""Face identities of the caller's cameras: list, detail with detections, the timeline of
visits, thumbnails, and the user's label, merge, split and delete. Another user's identities,
detections and cameras are a plain 404."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from botocore.exceptions import BotoCoreError, ClientError
from fastapi import APIRouter, BackgroundTasks, HTTPException, Path, Query, Request, status
from fastapi.responses import Response, StreamingResponse
from pydantic import BeforeValidator
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from api.deps import CurrentUser, DbDep, MediaUser, SettingsDep
from api.jsonbody import StrictJSONRoute
from api.params import CameraIdQuery, Instant, id_path, plain_digits
from api.ranges import object_response
from api.schemas.faces import (
    CoveringEventResponse,
    FaceDetail,
    FaceDetectionResponse,
    FaceMerge,
    FacePage,
    FaceResponse,
    FaceSplit,
    FaceUpdate,
    TimelineResponse,
    VisitResponse,
    detection_thumbnail_url,
)
from vigil.db.models import Camera, Face, FaceDetection, User
from vigil.faces.edits import (
    FaceEditError,
    delete_identity,
    merge,
    owned_identity,
    set_label,
    split,
)
from vigil.faces.timeline import covering_events, timeline
from vigil.logs import get_logger
from vigil.retention.journal import drain
from vigil.storage.objectstore import ObjectStore, ObjectStoreError

router = APIRouter(prefix="/faces", tags=["faces"], route_class=StrictJSONRoute)
log = get_logger(__name__)

FaceId = Annotated[int, id_path("identity id"), BeforeValidator(plain_digits)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such identity"}}
MAX_TIMELINE_RANGE = timedelta(days=31)


def _invalid(field: str, message: str, where: str = "query") -> HTTPException:
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": [where, field], "msg": message, "type": "value_error"}],
    )


def _encode_cursor(when: datetime, key: int | str) -> str:
    raw = json.dumps([when.isoformat(), key]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, key_type: type) -> tuple[datetime, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when_text, key = json.loads(raw)
        when = datetime.fromisoformat(when_text)
        if when.tzinfo is None or type(key) is not key_type:
            raise ValueError
        return when, key
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        raise _invalid("cursor", "invalid cursor") from None


def _identity(db: Session, user: User, face_id: int) -> Face:
    face = owned_identity(db, user.id, face_id)
    if face is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="identity not found")
    return face


def _owned_camera(db: Session, user: User, camera_id: int) -> None:
    if (
        db.scalar(select(Camera.id).where(Camera.id == camera_id, Camera.owner_id == user.id))
        is None
    ):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="camera not found")


def _responses(db: Session, faces: list[Face]) -> list[FaceResponse]:
    """Identities with their cameras and best thumbnail, in two queries for the whole page."""
    ids = [f.id for f in faces]
    cameras: dict[int, list[int]] = {i: [] for i in ids}
    covers: dict[int, str] = {}
    if ids:
        for fid, cam in db.execute(
            select(FaceDetection.face_id, FaceDetection.camera_id)
            .where(FaceDetection.face_id.in_(ids))
            .distinct()
            .order_by(FaceDetection.face_id, FaceDetection.camera_id)
        ):
            cameras[int(fid or 0)].append(cam)
        ranked = (
            select(
                FaceDetection.face_id,
                FaceDetection.id,
                func.row_number()
                .over(
                    partition_by=FaceDetection.face_id,
                    order_by=(
                        func.coalesce(FaceDetection.quality, -1.0).desc(),
                        FaceDetection.ts.desc(),
                    ),
                )
                .label("rank"),
            )
            .where(FaceDetection.face_id.in_(ids), FaceDetection.thumbnail_key.is_not(None))
            .subquery()
        )
        best = select(ranked.c.face_id, ranked.c.id).where(ranked.c.rank == 1)
        covers = {int(fid): did for fid, did in db.execute(best)}
    return [
        FaceResponse(
            id=f.id,
            label=f.label or None,
            named=f.named,
            detection_count=f.detection_count,
            first_seen=f.first_seen_at,
            last_seen=f.last_seen_at,
            cameras=cameras[f.id],
            thumbnail_url=f"/api/v1/faces/{f.id}/thumbnail.jpg" if f.id in covers else None,
        )
        for f in faces
    ]


def _store(request: Request) -> ObjectStore:
    store: ObjectStore = request.app.state.object_store()
    return store


@router.get("")
def list_faces(
    user: CurrentUser,
    db: DbDep,
    camera_id: CameraIdQuery = None,
    since: Annotated[Instant | None, Query(description="last seen at or after")] = None,
    until: Annotated[Instant | None, Query(description="first seen before")] = None,
    named: Annotated[bool | None, Query(description="only labelled / unlabelled")] = None,
    q: Annotated[str | None, Query(max_length=100, description="label contains")] = None,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FacePage:
    """The caller's identities, most recently seen first, with cursor pagination."""
    seen = func.coalesce(Face.last_seen_at, Face.created_at)
    query = select(Face).where(Face.owner_id == user.id)
    if camera_id is not None:
        _owned_camera(db, user, camera_id)
        at_camera = select(FaceDetection.id).where(
            FaceDetection.face_id == Face.id, FaceDetection.camera_id == camera_id
        )
        query = query.where(at_camera.exists())
    if since is not None:
        query = query.where(Face.last_seen_at >= since)
    if until is not None:
        query = query.where(Face.first_seen_at < until)
    if named is not None:
        query = query.where(Face.named.is_(named))
    if q:
        query = query.where(Face.label.ilike(f"%{q.replace('%', '').replace('_', '')}%"))
    if cursor is not None:
        after, after_id = _decode_cursor(cursor, int)
        query = query.where(or_(seen < after, and_(seen == after, Face.id < after_id)))
    faces = list(db.scalars(query.order_by(seen.desc(), Face.id.desc()).limit(limit + 1)))
    more = len(faces) > limit
    faces = faces[:limit]
    last = faces[-1] if faces else None
    next_cursor = (
        _encode_cursor(last.last_seen_at or last.created_at, last.id) if more and last else None
    )
    return FacePage(items=_responses(db, faces), next_cursor=next_cursor)


@router.get("/timeline")
def face_timeline(
    user: CurrentUser,
    db: DbDep,
    settings: SettingsDep,
    camera_id: CameraIdQuery = None,
    face_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    since: Annotated[Instant | None, Query(description="default: 24 h before until")] = None,
    until: Annotated[Instant | None, Query(description="default: now")] = None,
    limit: Annotated[int, Query(ge=1, le=20000, description="appearances at most")] = 5000,
) -> TimelineResponse:
    """Appearances in [since, until) grouped into visits: one identity seen continuously at
    one camera; each with the events (and clips) that cover it."""
    until = until or datetime.now(UTC)
    try:
        since = since or until - timedelta(hours=24)
    except OverflowError:  # until within a day of year 1
        raise _invalid("until", "too early for a default range; give since") from None
    if since >= until:
        raise _invalid("since", "must be before until")
    if until - since > MAX_TIMELINE_RANGE:
        raise _invalid("since", f"the range may span at most {MAX_TIMELINE_RANGE.days} days")
    if camera_id is not None:
        _owned_camera(db, user, camera_id)
    if face_id is not None:
        _identity(db, user, face_id)
    result = timeline(
        db,
        user.id,
        since,
        until,
        gap=timedelta(seconds=settings.face_visit_gap_seconds),
        camera_id=camera_id,
        face_id=face_id,
        limit=limit,
    )
    return TimelineResponse(
        since=since,
        until=until,
        visits=[VisitResponse.of(v) for v in result.visits],
        truncated=result.truncated,
    )


@router.get(
    "/detections/{detection_id}/thumbnail.jpg",
    responses=NOT_FOUND,
    response_class=StreamingResponse,
)
def detection_thumbnail(
    detection_id: Annotated[str, Path(min_length=36, max_length=36, pattern=r"^[0-9a-f\-]{36}$")],
    user: MediaUser,
    db: DbDep,
    request: Request,
) -> StreamingResponse:
    key = db.scalar(
        select(FaceDetection.thumbnail_key)
        .join(Camera, Camera.id == FaceDetection.camera_id)
        .where(FaceDetection.id == detection_id, Camera.owner_id == user.id)
    )
    if key is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="thumbnail not found")
    return object_response(_store(request), key, None, "image/jpeg")


@router.get("/{face_id}", responses=NOT_FOUND)
def get_face(
    face_id: FaceId,
    user: CurrentUser,
    db: DbDep,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> FaceDetail:
    """An identity and its detections over time, newest first (cursor pagination)."""
    face = _identity(db, user, face_id)
    query = select(FaceDetection).where(FaceDetection.face_id == face.id)
    if cursor is not None:
        after, after_id = _decode_cursor(cursor, str)
        query = query.where(
            or_(
                FaceDetection.ts < after,
                and_(FaceDetection.ts == after, FaceDetection.id < after_id),
            )
        )
    rows = list(
        db.scalars(
            query.order_by(FaceDetection.ts.desc(), FaceDetection.id.desc()).limit(limit + 1)
        )
    )
    more = len(rows) > limit
    rows = rows[:limit]
    events = covering_events(db, user.id, ((d.camera_id, d.ts) for d in rows))
    covering = {d.id: [e.id for e in events.get(d.camera_id, ()) if e.covers(d.ts)] for d in rows}
    used = {e for ids in covering.values() for e in ids}
    base = _responses(db, [face])[0]
    return FaceDetail(
        **base.model_dump(),
        detections=[
            FaceDetectionResponse(
                id=d.id,
                camera_id=d.camera_id,
                ts=d.ts,
                track_id=d.track_id,
                bbox=[float(v) for v in d.bbox],
                score=d.score,
                quality=d.quality,
                thumbnail_url=detection_thumbnail_url(d.id) if d.thumbnail_key else None,
                event_ids=covering[d.id],
            )
            for d in rows
        ],
        next_cursor=_encode_cursor(rows[-1].ts, rows[-1].id) if more and rows else None,
        events=[
            CoveringEventResponse.of(e)
            for cam_events in events.values()
            for e in cam_events
            if e.id in used
        ],
    )


@router.get("/{face_id}/thumbnail.jpg", responses=NOT_FOUND, response_class=StreamingResponse)
def face_thumbnail(
    face_id: FaceId, user: MediaUser, db: DbDep, request: Request
) -> StreamingResponse:
    """The identity's best face (highest quality)."""
    face = _identity(db, user, face_id)
    key = db.scalar(
        select(FaceDetection.thumbnail_key)
        .where(FaceDetection.face_id == face.id, FaceDetection.thumbnail_key.is_not(None))
        .order_by(func.coalesce(FaceDetection.quality, -1.0).desc(), FaceDetection.ts.desc())
        .limit(1)
    )
    if key is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="this identity has no thumbnail")
    return object_response(_store(request), key, None, "image/jpeg")


def _edit_error(exc: FaceEditError, field: str) -> HTTPException:
    return _invalid(field, str(exc), "body")


@router.patch("/{face_id}", responses=NOT_FOUND)
def label_face(face_id: FaceId, body: FaceUpdate, user: CurrentUser, db: DbDep) -> FaceResponse:
    """Name an identity (new faces then match it, and it never expires), or clear the name."""
    face = set_label(db, _identity(db, user, face_id), body.label)
    return _responses(db, [face])[0]


@router.post("/{face_id}/merge", responses=NOT_FOUND)
def merge_face(face_id: FaceId, body: FaceMerge, user: CurrentUser, db: DbDep) -> FaceResponse:
    """Merge this identity into `into` (same person): its detections move, it is deleted."""
    face = _identity(db, user, face_id)
    if body.into == face.id:
        raise _invalid("into", "an identity cannot be merged into itself", "body")
    into = _identity(db, user, body.into)
    try:
        merged = merge(db, face, into)
    except FaceEditError as exc:
        raise _edit_error(exc, "into") from None
    return _responses(db, [merged])[0]


@router.post("/{face_id}/split", responses=NOT_FOUND, status_code=status.HTTP_201_CREATED)
def split_face(face_id: FaceId, body: FaceSplit, user: CurrentUser, db: DbDep) -> FaceResponse:
    """Move the given detections of this identity to a new identity (returned)."""
    face = _identity(db, user, face_id)
    try:
        new = split(db, face, body.detection_ids)
    except FaceEditError as exc:
        raise _edit_error(exc, "detection_ids") from None
    return _responses(db, [new])[0]


@router.delete(
    "/{face_id}",
    responses=NOT_FOUND,
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
)
def delete_face(
    face_id: FaceId, user: CurrentUser, db: DbDep, request: Request, tasks: BackgroundTasks
) -> Response:
    """Delete an identity, its detections and their thumbnails."""
    journal = delete_identity(db, _identity(db, user, face_id))
    # After the commit (the request's transaction ends before background tasks run); a failure
    # leaves the journal entries for the next retention sweep.
    tasks.add_task(_drain, request, journal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _drain(request: Request, journal: list[int]) -> None:
    if not journal:
        return
    try:
        drain(request.app.state.sessionmaker, _store(request), ids=journal)
    except (ObjectStoreError, OSError, BotoCoreError, ClientError) as exc:
        log.warning("face_thumbnails_left", error=str(exc), objects=len(journal))
