from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import NEVER_REUSED, Base, UTCDateTime, serial_id, utcnow


class Face(Base):
    """A face identity: a temporary id for a group of unknown faces, or a named person."""

    __tablename__ = "faces"
    __table_args__ = (
        Index("ix_faces_owner_id", "owner_id"),
        Index("ix_faces_owner_id_last_seen_at", "owner_id", "last_seen_at"),
        NEVER_REUSED,
    )

    id: Mapped[int] = serial_id()
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    named: Mapped[bool] = mapped_column(default=False)
    centroid: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # float32[128]
    # Held by a user's merge or split: refinement never moves its faces away (like a label).
    pinned: Mapped[bool] = mapped_column(default=False)
    weight: Mapped[float] = mapped_column(Float, default=0.0)  # quality-weighted faces
    detection_count: Mapped[int] = mapped_column(Integer, default=0)
    first_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FaceDetection(Base):
    __tablename__ = "face_detections"
    __table_args__ = (
        Index("ix_face_detections_camera_ts", "camera_id", "ts"),
        Index("ix_face_detections_face_ts", "face_id", "ts"),
        Index("ix_face_detections_thumbnail_key", "thumbnail_key"),  # retention's in-use check
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    face_id: Mapped[int | None] = mapped_column(
        ForeignKey("faces.id", ondelete="SET NULL"), default=None
    )
    event_id: Mapped[str | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), default=None
    )
    ts: Mapped[datetime] = mapped_column(UTCDateTime)
    track_id: Mapped[int | None] = mapped_column(Integer, default=None)
    bbox: Mapped[list[Any]] = mapped_column(JSON)  # normalised [x1, y1, x2, y2]
    score: Mapped[float] = mapped_column(Float)
    blur: Mapped[float | None] = mapped_column(Float, default=None)
    quality: Mapped[float | None] = mapped_column(Float, default=None)  # 0..1
    thumbnail_key: Mapped[str | None] = mapped_column(String(512), default=None)
    embedding: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)  # float32[128]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FaceChange(Base):
    """The log of what changed identities: each merge and split (by a user or a refinement),
    label and delete. The live assigner reloads an owner's identities when this log grows."""

    __tablename__ = "face_changes"
    __table_args__ = (Index("ix_face_changes_owner_id_id", "owner_id", "id"), NEVER_REUSED)

    id: Mapped[int] = serial_id()
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # merge | split | label | delete | refine
    source: Mapped[str] = mapped_column(String(8))  # user | refine
    face_id: Mapped[int] = mapped_column(Integer)  # no foreign key: the log outlives identities
    into_face_id: Mapped[int | None] = mapped_column(Integer, default=None)
    detection_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
