"""Real face embeddings (SFace on the photos of ../shared/data/faces_multi) and the rows and
thumbnails the dataflow would store for them, for the store, API and timeline tests."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import cv2
import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import SHARED_DATA
from vigil.db.models import Camera, Clip, Event, Face, FaceDetection, User
from vigil.db.session import session_scope
from vigil.faces.store import LiveFaces
from vigil.storage import ObjectStore
from vigil.vision.faces import OpenCVFaceBackend

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PEOPLE = ("orl_s01", "orl_s02", "orl_s03")
_counter = itertools.count(1)


@dataclass(frozen=True)
class Photo:
    person: str
    embedding: np.ndarray
    thumbnail: bytes  # the aligned face as JPEG


@lru_cache(maxsize=1)
def photos() -> dict[str, list[Photo]]:
    """Every photo of PEOPLE with exactly one face found, embedded by the real backend."""
    backend = OpenCVFaceBackend()
    found: dict[str, list[Photo]] = {}
    for person in PEOPLE:
        for path in sorted((SHARED_DATA / "faces_multi" / person).iterdir()):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                continue
            scale = max(1.0, 320 / max(image.shape[:2]))  # YuNet misses faces in tiny photos
            image = cv2.resize(image, None, fx=scale, fy=scale)
            faces = backend.detect(image)
            if len(faces) != 1:
                continue
            aligned = backend.align(image, faces[0])
            ok, jpeg = cv2.imencode(".jpg", aligned)
            assert ok
            embedding = np.asarray(backend.embed(aligned), np.float32)
            found.setdefault(person, []).append(Photo(person, embedding, jpeg.tobytes()))
    assert all(len(found.get(p, [])) >= 6 for p in PEOPLE), {p: len(v) for p, v in found.items()}
    return found


def face_row(
    camera_id: int,
    photo: Photo,
    ts: datetime,
    *,
    track_id: int | None = None,
    quality: float = 0.8,
    thumbnail: bool = True,
) -> dict[str, Any]:
    detection_id = str(uuid.uuid5(uuid.NAMESPACE_OID, f"face-{next(_counter)}-{uuid.uuid4()}"))
    key = f"faces/{camera_id}/{ts:%Y-%m-%d}/{detection_id}.jpg" if thumbnail else None
    return {
        "face_detection_id": detection_id,
        "camera_id": camera_id,
        "ts": ts,
        "frame_index": next(_counter),
        "track_id": track_id,
        "bbox": [0.4, 0.2, 0.5, 0.4],
        "score": 0.9,
        "blur": 150.0,
        "quality": quality,
        "embedding": [float(v) for v in photo.embedding],
        "thumbnail_key": key,
    }


def store_faces(
    url: str, store: ObjectStore, live: LiveFaces, rows: list[dict[str, Any]]
) -> list[str]:
    """What the store sink does: thumbnails first, then the rows with live assignment."""
    for row in rows:
        if row["thumbnail_key"]:
            person_jpeg = row.get("_jpeg", b"\xff\xd8\xff\xe0 thumbnail")
            store.put_bytes(row["thumbnail_key"], person_jpeg, content_type="image/jpeg")
    with session_scope(url) as session:
        live.insert(session, ({k: v for k, v in r.items() if k != "_jpeg"} for r in rows))
    return [r["face_detection_id"] for r in rows]


def visit_rows(
    camera_id: int,
    person: str,
    start: datetime,
    count: int,
    *,
    every: float = 1.0,
    track_id: int | None = None,
    first_photo: int = 0,
) -> list[dict[str, Any]]:
    """`count` faces of `person`, `every` seconds apart, cycling over their photos."""
    shots = photos()[person]
    rows = []
    for i in range(count):
        photo = shots[(first_photo + i) % len(shots)]
        row = face_row(camera_id, photo, start + timedelta(seconds=i * every), track_id=track_id)
        row["_jpeg"] = photo.thumbnail
        rows.append(row)
    return rows


def add_user(session: Session, email: str) -> int:
    user = User(email=email, password_hash="x")
    session.add(user)
    session.flush()
    return user.id


def add_camera(session: Session, owner_id: int, name: str, *, recognition: bool = True) -> int:
    camera = Camera(
        owner_id=owner_id,
        name=name,
        stream_url="rtsp://127.0.0.1:1/x",
        face_recognition=recognition,
    )
    session.add(camera)
    session.flush()
    return camera.id


def add_event(
    session: Session, camera_id: int, start: datetime, end: datetime | None, *, clip: bool
) -> tuple[str, str | None]:
    event = Event(
        id=str(uuid.uuid4()),
        camera_id=camera_id,
        type="intrusion",
        status="closed" if end else "open",
        start_ts=start,
        end_ts=end,
        confidence=0.9,
        track_ids=[1],
        frames=10,
    )
    session.add(event)
    session.flush()
    clip_id = None
    if clip:
        clip_id = str(uuid.uuid4())
        session.add(
            Clip(
                id=clip_id,
                event_id=event.id,
                camera_id=camera_id,
                start_ts=start,
                end_ts=end or start,
                object_key=f"clips/{camera_id}/{event.id}.mp4",
            )
        )
        session.flush()
    return event.id, clip_id


def identity_of(url: str, detection_ids: list[str]) -> dict[str, int | None]:
    with session_scope(url) as session:
        return dict(
            session.execute(
                select(FaceDetection.id, FaceDetection.face_id).where(
                    FaceDetection.id.in_(detection_ids)
                )
            )
            .tuples()
            .all()
        )


def identities(url: str, owner_id: int) -> dict[int, Face]:
    with session_scope(url) as session:
        faces = list(session.scalars(select(Face).where(Face.owner_id == owner_id)))
        session.expunge_all()
        return {f.id: f for f in faces}
