from __future__ import annotations

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
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import NEVER_REUSED, Base, UTCDateTime, serial_id, utcnow


class AlertSettings(Base):
    """Per-camera alert switches and filters. A camera without a row uses the defaults
    (vigil.alerts.config): intrusion on, motion and face off, to the owner's email."""

    __tablename__ = "alert_settings"
    __table_args__ = (NEVER_REUSED,)

    id: Mapped[int] = serial_id()
    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cameras.id", ondelete="CASCADE"), unique=True
    )
    email_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    recipients: Mapped[list[Any]] = mapped_column(JSON, default=list)  # empty: the owner
    event_types: Mapped[list[Any]] = mapped_column(JSON, default=lambda: ["intrusion"])  # kinds on
    min_confidence: Mapped[float] = mapped_column(Float, default=0.0)  # 0: no minimum
    cooldown_seconds: Mapped[int] = mapped_column(Integer, default=300)  # a kind without its own
    cooldowns: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # kind -> seconds
    quiet_hours: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [{"start","end"}] HH:MM
    zone_ids: Mapped[list[Any] | None] = mapped_column(JSON, default=None)  # None: any zone
    webhook_url: Mapped[str | None] = mapped_column(String(2048), default=None)
    webhook_secret: Mapped[str | None] = mapped_column(String(128), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AlertDelivery(Base):
    """One message of one event to one recipient over one channel. Written (pending) before
    the message is sent and updated after, so a restart neither repeats nor skips it."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        Index("ix_alert_deliveries_camera_ts", "camera_id", "attempted_at"),
        Index("ix_alert_deliveries_status_due", "status", "next_attempt_at"),
        Index("ix_alert_deliveries_cooldown", "camera_id", "kind", "channel", "event_ts"),
        UniqueConstraint(
            "event_id", "channel", "recipient", name="uq_alert_deliveries_event_channel_recipient"
        ),
        NEVER_REUSED,
    )

    id: Mapped[int] = serial_id()
    event_id: Mapped[str | None] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), default=None
    )  # None: a test message
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16), default="email")  # email | webhook
    kind: Mapped[str] = mapped_column(String(16), default="intrusion")  # or motion, face, test
    recipient: Mapped[str] = mapped_column(String(2048))  # an address, or the webhook URL
    # pending | sent | failed | skipped | merged (inside a cooldown: told in the next message)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, default=None)  # credentials masked
    event_ts: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)  # event opened
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    merged_count: Mapped[int] = mapped_column(Integer, default=0)  # "and N more events"
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # created
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
