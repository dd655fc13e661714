from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import NEVER_REUSED, Base, UTCDateTime, serial_id, utcnow


class AlertSettings(Base):
    """Per-camera email alert switch and filters."""

    __tablename__ = "alert_settings"
    __table_args__ = (NEVER_REUSED,)

    id: Mapped[int] = serial_id()
    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), unique=True
    )
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    recipients: Mapped[list[Any]] = mapped_column(JSON, default=list)
    event_types: Mapped[list[Any]] = mapped_column(JSON, default=lambda: ["intrusion"])
    min_confidence: Mapped[float] = mapped_column(Float, default=0.5)
    cooldown_seconds: Mapped[int] = mapped_column(Integer, default=300)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AlertDelivery(Base):
    __tablename__ = "alert_deliveries"
    __table_args__ = (
        Index("ix_alert_deliveries_camera_ts", "camera_id", "attempted_at"),
        NEVER_REUSED,
    )

    id: Mapped[int] = serial_id()
    event_id: Mapped[str | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), default=None
    )
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(320))
    status: Mapped[str] = mapped_column(String(16))  # sent | failed | not_sent
    error: Mapped[str | None] = mapped_column(Text, default=None)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
