"""Which closed events need a clip (cut) or a new one (their event changed since)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from vigil.db.models import Camera, Clip, Event


@dataclass(frozen=True)
class ClipJob:
    event_id: str
    camera_id: int
    start: datetime
    end: datetime
    event_updated_at: datetime
    clip_id: str | None  # an existing clip to replace
    old_key: str | None
    old_size: int


def clips_to_cut(
    session: Session, now: datetime, *, ready_before: datetime, limit: int | None = None
) -> list[ClipJob]:
    """Closed intrusion and motion events that ended before `ready_before` (their recording
    is complete), within their camera's clip retention, with no clip or a clip older than the
    event's last change (a replay moved its start or end). Oldest first."""
    oldest = session.scalar(select(func.max(Camera.clip_retention_days))) or 0
    query = (
        select(Event, Clip, Camera.clip_retention_days)
        .join(Camera, Camera.id == Event.camera_id)
        .outerjoin(Clip, Clip.event_id == Event.id)
        .where(
            Event.status == "closed",
            Event.type != "face",  # a moment: the face's visit is covered by other events' clips
            Event.end_ts.is_not(None),
            Event.end_ts <= ready_before,
            Event.end_ts >= now - timedelta(days=oldest),
            or_(Clip.id.is_(None), Clip.created_at < Event.updated_at),
        )
        .order_by(Event.end_ts, Event.id)
    )
    jobs: list[ClipJob] = []
    for event, clip, retention_days in session.execute(query):
        assert event.end_ts is not None
        if event.end_ts < now - timedelta(days=retention_days):
            continue  # its clip would be deleted by the next retention sweep
        jobs.append(
            ClipJob(
                event_id=event.id,
                camera_id=event.camera_id,
                start=event.start_ts,
                end=event.end_ts,
                event_updated_at=event.updated_at,
                clip_id=clip.id if clip is not None else None,
                old_key=clip.object_key if clip is not None else None,
                old_size=clip.size_bytes if clip is not None else 0,
            )
        )
        if limit is not None and len(jobs) >= limit:
            break
    return jobs
