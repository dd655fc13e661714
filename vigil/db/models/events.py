from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import Base, UTCDateTime, utcnow


class Event(Base):
    """An intrusion or motion event, whose id is derived from its history (see vigil.rules)
    so the live stream and a Dagster replay write the same row; or a face event (a named or
    new identity appearing, vigil.faces.events), written live only and never replayed. A face
    event goes with its identity (biometric data: deleting the identity deletes it)."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_camera_start", "camera_id", "start_ts"),
        Index("ix_events_start", "start_ts"),
        Index("ix_events_status", "status"),
        Index("ix_events_snapshot_key", "snapshot_key"),  # retention's in-use check
        Index("ix_events_face_id", "face_id"),
        Index("ix_events_unpublished", "published_at", "created_at"),  # the outbox's sweep
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    zone_id: Mapped[int | None] = mapped_column(
        ForeignKey("zones.id", ondelete="SET NULL"), default=None
    )
    type: Mapped[str] = mapped_column(String(16))  # intrusion | motion | face
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | closed
    start_ts: Mapped[datetime] = mapped_column(UTCDateTime)
    end_ts: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    confidence: Mapped[float] = mapped_column(Float, default=0.0)
    peak_ts: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    peak_score: Mapped[float | None] = mapped_column(Float, default=None)
    snapshot_key: Mapped[str | None] = mapped_column(String(512), default=None)
    track_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    frames: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(8), default="live")  # live | replay
    rules_fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    face_id: Mapped[int | None] = mapped_column(
        ForeignKey("faces.id", ondelete="CASCADE"), default=None
    )
    # When its 'open' record reached the events topic (vigil.streaming.outbox); None: not yet.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Clip(Base):
    __tablename__ = "clips"
    __table_args__ = (
        Index("ix_clips_camera_start", "camera_id", "start_ts"),
        Index("ix_clips_object_key", "object_key"),  # retention's in-use check
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), unique=True, default=None
    )
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    start_ts: Mapped[datetime] = mapped_column(UTCDateTime)
    end_ts: Mapped[datetime] = mapped_column(UTCDateTime)
    object_key: Mapped[str] = mapped_column(String(512))
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    duration_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
