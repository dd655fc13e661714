from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request, Response, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from api.deps import CurrentUser, DbDep, OwnedCamera, SettingsDep
from api.jsonbody import StrictJSONRoute
from api.schemas.cameras import (
    CameraCreate,
    CameraHealthEventResponse,
    CameraResponse,
    CameraUpdate,
)
from api.schemas.common import Page
from vigil.cameras.purge import finish_purges, journal_purge, remove_local_media
from vigil.db.models import Camera, CameraHealthEvent
from vigil.logs import get_logger
from vigil.media.paths import MediaPaths

router = APIRouter(prefix="/cameras", tags=["cameras"], route_class=StrictJSONRoute)
log = get_logger(__name__)

Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such camera for this user"}}


_NAME_TAKEN = "a camera with this name exists"


@router.post("", status_code=status.HTTP_201_CREATED, responses={409: {}})
def create_camera(
    body: CameraCreate, user: CurrentUser, db: DbDep, settings: SettingsDep
) -> CameraResponse:
    camera = Camera(owner_id=user.id, **body.model_dump())
    db.add(camera)
    try:
        db.flush()  # names are unique per owner in the database, so parallel creates cannot race
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=_NAME_TAKEN) from None
    # Only stale files can sit under a brand-new id (a camera deleted before ids were never
    # reused): the new owner must not see them.
    remove_local_media(MediaPaths(settings.media_dir), camera.id)
    log.info("camera_created", camera_id=camera.id)
    return CameraResponse.of(camera)


@router.get("")
def list_cameras(
    user: CurrentUser, db: DbDep, limit: Limit = 50, offset: Offset = 0
) -> Page[CameraResponse]:
    owned = select(Camera).where(Camera.owner_id == user.id)
    total = db.scalar(select(func.count()).select_from(owned.subquery())) or 0
    cameras = db.scalars(owned.order_by(Camera.id).limit(limit).offset(offset)).all()
    return Page(
        items=[CameraResponse.of(c) for c in cameras], total=total, limit=limit, offset=offset
    )


@router.get("/{camera_id}", responses=NOT_FOUND)
def get_camera(camera: OwnedCamera) -> CameraResponse:
    return CameraResponse.of(camera)


@router.patch("/{camera_id}", responses={**NOT_FOUND, 409: {}})
def update_camera(body: CameraUpdate, camera: OwnedCamera, db: DbDep) -> CameraResponse:
    changes = body.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(camera, field, value)
    try:
        db.flush()
    except IntegrityError:
        raise HTTPException(status.HTTP_409_CONFLICT, detail=_NAME_TAKEN) from None
    log.info("camera_updated", camera_id=camera.id, fields=sorted(changes))
    return CameraResponse.of(camera)


def _purge(request: Request, paths: MediaPaths, camera_id: int) -> None:
    try:
        store = request.app.state.object_store()
    except Exception as exc:  # the store is down: the journal keeps the purge for later
        log.warning("camera_purge_left", camera_id=camera_id, error=str(exc))
        return
    finish_purges(request.app.state.sessionmaker, paths, store, [camera_id])


@router.delete("/{camera_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_camera(
    camera: OwnedCamera,
    db: DbDep,
    settings: SettingsDep,
    request: Request,
    background: BackgroundTasks,
) -> Response:
    """Deletes the camera and, right after the response, all its media (journaled in the
    same transaction, so a crash leaves the purge to the next retention sweep)."""
    camera_id = camera.id
    db.delete(camera)
    journal_purge(db, camera_id)
    db.flush()
    background.add_task(_purge, request, MediaPaths(settings.media_dir), camera_id)
    log.info("camera_deleted", camera_id=camera_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{camera_id}/health", responses=NOT_FOUND)
def camera_health(
    camera: OwnedCamera, db: DbDep, limit: Limit = 50, offset: Offset = 0
) -> Page[CameraHealthEventResponse]:
    history = select(CameraHealthEvent).where(CameraHealthEvent.camera_id == camera.id)
    total = db.scalar(select(func.count()).select_from(history.subquery())) or 0
    rows = db.scalars(
        history.order_by(CameraHealthEvent.ts.desc(), CameraHealthEvent.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    items = [
        CameraHealthEventResponse(
            ts=r.ts, status=r.status, previous_status=r.previous_status, error=r.error
        )
        for r in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)
