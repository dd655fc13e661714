from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Response, status
from sqlalchemy import func, select

from api.deps import DbDep, OwnedCamera
from api.jsonbody import StrictJSONRoute
from api.params import ZoneIdPath
from api.schemas.zones import ZoneCreate, ZoneResponse, ZoneUpdate
from vigil.db.locks import lock_row
from vigil.db.models import Camera, Zone
from vigil.logs import get_logger

router = APIRouter(prefix="/cameras/{camera_id}/zones", tags=["zones"], route_class=StrictJSONRoute)
log = get_logger(__name__)

ZoneId = ZoneIdPath
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such camera or zone"}}
MAX_ZONES_PER_CAMERA = 32


def _owned_zone(db: DbDep, camera: OwnedCamera, zone_id: int) -> Zone:
    zone = db.scalar(select(Zone).where(Zone.id == zone_id, Zone.camera_id == camera.id))
    if zone is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="zone not found")
    return zone


@router.get("", responses=NOT_FOUND)
def list_zones(camera: OwnedCamera, db: DbDep) -> list[ZoneResponse]:
    zones = db.scalars(select(Zone).where(Zone.camera_id == camera.id).order_by(Zone.id))
    return [ZoneResponse.model_validate(z) for z in zones]


@router.post("", status_code=status.HTTP_201_CREATED, responses={**NOT_FOUND, 409: {}})
def create_zone(body: ZoneCreate, camera: OwnedCamera, db: DbDep) -> ZoneResponse:
    # Count under the camera's lock: parallel creates must not all see room for one more.
    lock_row(db, Camera, camera.id)
    count = db.scalar(select(func.count()).select_from(Zone).where(Zone.camera_id == camera.id))
    if (count or 0) >= MAX_ZONES_PER_CAMERA:
        raise HTTPException(
            status.HTTP_409_CONFLICT, detail=f"a camera has at most {MAX_ZONES_PER_CAMERA} zones"
        )
    zone = Zone(camera_id=camera.id, **body.model_dump())
    db.add(zone)
    db.flush()
    log.info("zone_created", camera_id=camera.id, zone_id=zone.id)
    return ZoneResponse.model_validate(zone)


@router.get("/{zone_id}", responses=NOT_FOUND)
def get_zone(zone_id: ZoneId, camera: OwnedCamera, db: DbDep) -> ZoneResponse:
    return ZoneResponse.model_validate(_owned_zone(db, camera, zone_id))


@router.patch("/{zone_id}", responses=NOT_FOUND)
def update_zone(zone_id: ZoneId, body: ZoneUpdate, camera: OwnedCamera, db: DbDep) -> ZoneResponse:
    zone = _owned_zone(db, camera, zone_id)
    changes = body.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(zone, field, value)
    db.flush()
    log.info("zone_updated", camera_id=camera.id, zone_id=zone.id, fields=sorted(changes))
    return ZoneResponse.model_validate(zone)


@router.delete("/{zone_id}", status_code=status.HTTP_204_NO_CONTENT, responses=NOT_FOUND)
def delete_zone(zone_id: ZoneId, camera: OwnedCamera, db: DbDep) -> Response:
    db.delete(_owned_zone(db, camera, zone_id))
    log.info("zone_deleted", camera_id=camera.id, zone_id=zone_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
