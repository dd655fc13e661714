"""A camera's zones as the rules' ZoneRules, read the same way by the stream and the replay."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.db.models import Zone
from vigil.rules.zones import ZoneRule


def zone_rules(session: Session, camera_id: int) -> list[ZoneRule]:
    zones = session.scalars(select(Zone).where(Zone.camera_id == camera_id).order_by(Zone.id))
    return [
        ZoneRule(
            zone_id=str(zone.id),
            camera_id=str(camera_id),
            name=zone.name,
            polygon=tuple((float(x), float(y)) for x, y in zone.polygon),
            intrusion_enabled=zone.intrusion_enabled,
            min_dwell_seconds=zone.min_dwell_seconds,
        )
        for zone in zones
    ]
