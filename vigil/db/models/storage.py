from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from vigil.db.base import NEVER_REUSED, Base, UTCDateTime, serial_id, utcnow


class PendingDeletion(Base):
    """An object-store key whose database row is already gone (or no longer points at it)
    and whose object is still to be deleted. Written in the same transaction that drops the
    reference, removed once the object is deleted: a crash in between leaves a row here, and
    the next sweep finishes the deletion, so no object outlives its row for good."""

    __tablename__ = "pending_deletions"
    __table_args__ = (NEVER_REUSED,)

    id: Mapped[int] = serial_id()
    object_key: Mapped[str] = mapped_column(String(1024))
    camera_id: Mapped[int | None] = mapped_column(Integer, default=None)  # kept after deletes
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[str] = mapped_column(String(16))  # age | cap | orphan | replaced | replay
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CameraPurge(Base):
    """A deleted camera whose media (live HLS, snapshots, recordings, objects) is still to be
    removed. Written in the transaction that deletes the camera, removed once every file and
    object is gone: a crash in between leaves the row, and the next purge finishes the job."""

    __tablename__ = "camera_purges"

    camera_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
