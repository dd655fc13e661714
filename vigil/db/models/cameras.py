from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from vigil.db.base import NEVER_REUSED, Base, UTCDateTime, serial_id, utcnow


class CameraStatus(enum.StrEnum):
    unknown = "unknown"
    online = "online"
    offline = "offline"
    error = "error"


class Camera(Base):
    __tablename__ = "cameras"
    __table_args__ = (
        Index("ix_cameras_owner_id_id", "owner_id", "id"),
        # In the database, not only checked before insert: parallel creates would race.
        UniqueConstraint("owner_id", "name", name="uq_cameras_owner_id_name"),
        NEVER_REUSED,
    )

    id: Mapped[int] = serial_id()
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    # Full URLs including credentials: never returned or logged unmasked (vigil.cameras.urls).
    stream_url: Mapped[str] = mapped_column(Text)
    detect_stream_url: Mapped[str | None] = mapped_column(Text, default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    detect_fps: Mapped[float] = mapped_column(Float, default=5.0)
    detect_width: Mapped[int] = mapped_column(Integer, default=640)
    face_mode: Mapped[bool] = mapped_column(Boolean, default=False)
    # Biometric data: faces are grouped into identities only where the owner turned this on.
    face_recognition: Mapped[bool] = mapped_column(Boolean, default=False)
    # Normalised polygons [[x, y], ...] where motion is ignored (trees, a clock, a road).
    motion_masks: Mapped[list[Any]] = mapped_column(JSON, default=list)
    record_retention_days: Mapped[int] = mapped_column(Integer, default=7)
    clip_retention_days: Mapped[int] = mapped_column(Integer, default=30)
    snapshot_retention_days: Mapped[int] = mapped_column(Integer, default=7)
    status: Mapped[str] = mapped_column(String(16), default=CameraStatus.unknown.value)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    zones: Mapped[list[Zone]] = relationship(
        back_populates="camera", cascade="all, delete-orphan", passive_deletes=True
    )


class CameraHealthEvent(Base):
    """One row per status change of a camera (not per heartbeat)."""

    __tablename__ = "camera_health_events"
    __table_args__ = (Index("ix_camera_health_events_camera_ts", "camera_id", "ts"), NEVER_REUSED)

    id: Mapped[int] = serial_id()
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    ts: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(16))
    previous_status: Mapped[str | None] = mapped_column(String(16), default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)  # credentials masked


class Zone(Base):
    __tablename__ = "zones"
    __table_args__ = (Index("ix_zones_camera_id", "camera_id"), NEVER_REUSED)

    id: Mapped[int] = serial_id()
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    polygon: Mapped[list[Any]] = mapped_column(JSON)  # [[x, y], ...] normalised to 0..1
    intrusion_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    min_dwell_seconds: Mapped[float] = mapped_column(Float, default=1.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    camera: Mapped[Camera] = relationship(back_populates="zones")
