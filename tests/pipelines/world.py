"""Database rows the pipeline tests need: an owner, cameras, zones."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from vigil.auth.passwords import hash_password
from vigil.db.models import Camera, User, Zone
from vigil.db.session import session_scope

Polygon = Sequence[tuple[float, float]]


def box(x1: float, y1: float, x2: float, y2: float) -> list[list[float]]:
    return [[x1, y1], [x2, y1], [x2, y2], [x1, y2]]


def make_camera(url: str, name: str = "Plaza", **fields: object) -> int:
    with session_scope(url) as session:
        user = session.query(User).filter_by(email="owner@example.com").one_or_none()
        if user is None:
            user = User(email="owner@example.com", password_hash=hash_password("pw-for-tests-1"))
            session.add(user)
            session.flush()
        camera = Camera(owner_id=user.id, name=name, stream_url="rtsp://127.0.0.1/x", **fields)
        session.add(camera)
        session.flush()
        return camera.id


def make_zone(
    url: str, camera_id: int, name: str, polygon: list[list[float]], dwell: float = 1.0
) -> int:
    with session_scope(url) as session:
        zone = Zone(camera_id=camera_id, name=name, polygon=polygon, min_dwell_seconds=dwell)
        session.add(zone)
        session.flush()
        return zone.id


def move_zone(url: str, zone_id: int, polygon: list[list[float]]) -> None:
    with session_scope(url) as session:
        zone = session.get(Zone, zone_id)
        assert zone is not None
        zone.polygon = polygon


def rows_of(session: Session, model: type) -> list:
    return list(session.query(model))
