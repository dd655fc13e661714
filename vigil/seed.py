"""Minimal data for a first run: the demo user and a demo camera (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.auth.passwords import hash_password, verify_password
from vigil.auth.users import get_user_by_email, normalise_email
from vigil.db.models import Camera, User, Zone
from vigil.settings import Settings

DEMO_CAMERA_NAME = "Demo plaza"
DEMO_STREAM_PATH = "/demo"
# A band across the plaza's main walkway (OpenCV's pedestrian clip): people cross it every few
# seconds, so the demo shows intrusion events, with clips, within a minute or two.
# A head-and-shoulders camera at a desk: two men, the first comes back (face identities demo).
DEMO_DESK_NAME = "Demo desk"
DEMO_DESK_PATH = "/desk"
DEMO_ZONE_NAME = "Walkway"
DEMO_ZONE_POLYGON = [[0.38, 0.30], [0.52, 0.30], [0.52, 0.70], [0.38, 0.70]]


@dataclass(frozen=True)
class SeedResult:
    user_id: int
    camera_id: int
    created_user: bool
    created_camera: bool
    desk_camera_id: int | None = None


def demo_stream_url(settings: Settings) -> str:
    return f"rtsp://127.0.0.1:{settings.demo_rtsp_port}{DEMO_STREAM_PATH}"


def demo_desk_url(settings: Settings) -> str:
    return f"rtsp://127.0.0.1:{settings.demo_desk_rtsp_port}{DEMO_DESK_PATH}"


def _seed_desk(session: Session, settings: Settings, owner_id: int) -> int:
    desk = session.scalar(
        select(Camera).where(Camera.owner_id == owner_id, Camera.name == DEMO_DESK_NAME)
    )
    if desk is None:
        desk = Camera(
            owner_id=owner_id,
            name=DEMO_DESK_NAME,
            stream_url=demo_desk_url(settings),
            face_mode=True,  # close-ups: faces in the whole frame, with or without a body
            face_recognition=True,
        )
        session.add(desk)
        session.flush()
    return desk.id


def seed_demo(session: Session, settings: Settings) -> SeedResult | None:
    """Create the demo user and camera if missing; keep the demo password in step with the
    setting so a changed VIGIL_DEMO_PASSWORD takes effect on the next `vigil up`. None, and
    nothing created, in production without a demo password of the operator's own."""
    password = settings.demo_password_value()
    if password is None:
        return None
    user = get_user_by_email(session, settings.demo_email)
    created_user = user is None
    if user is None:
        first = session.scalar(select(User.id).limit(1)) is None
        user = User(
            email=normalise_email(settings.demo_email),
            password_hash=hash_password(password),
            is_admin=first,  # like any first account: someone must be able to add others
        )
        session.add(user)
        session.flush()
    elif not verify_password(password, user.password_hash):
        user.password_hash = hash_password(password)

    camera = session.scalar(
        select(Camera).where(Camera.owner_id == user.id, Camera.name == DEMO_CAMERA_NAME)
    )
    created_camera = camera is None
    if camera is None:  # the zone only with a new camera: a zone the user deleted stays deleted
        camera = Camera(
            owner_id=user.id,
            name=DEMO_CAMERA_NAME,
            stream_url=demo_stream_url(settings),
            face_recognition=True,  # the demo shows face identities; other cameras opt in
        )
        session.add(camera)
        session.flush()
        session.add(
            Zone(
                camera_id=camera.id,
                name=DEMO_ZONE_NAME,
                polygon=DEMO_ZONE_POLYGON,
                intrusion_enabled=True,
                min_dwell_seconds=1.0,
            )
        )
        session.flush()
    desk_id = _seed_desk(session, settings, user.id)
    return SeedResult(user.id, camera.id, created_user, created_camera, desk_id)
