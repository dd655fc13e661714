"""Upserting events from the rules into the database, the same way for live and replay."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from vigil.db.models import Event as EventRow
from vigil.rules.types import Event

Source = Literal["live", "replay"]


def upsert_event(
    session: Session,
    event: Event,
    *,
    source: Source,
    rules_fingerprint: str | None = None,
    snapshot_key: str | None = None,
) -> EventRow:
    """Insert or update the row with the event's deterministic id. A missing snapshot key
    never erases one already stored; a row's `source` records who wrote it last."""
    row = session.get(EventRow, str(event.event_id))
    if row is None:
        row = EventRow(id=str(event.event_id), camera_id=int(event.camera_id))
        session.add(row)
    row.zone_id = int(event.zone_id) if event.zone_id is not None else None
    row.type = event.type
    row.status = "open" if event.is_open else "closed"
    row.start_ts = event.start
    row.end_ts = event.end
    row.confidence = event.confidence
    row.peak_ts = event.peak_ts
    row.peak_score = event.peak_score
    row.track_ids = list(event.track_ids)
    row.frames = event.frames_in_zone
    row.source = source
    if rules_fingerprint is not None:
        row.rules_fingerprint = rules_fingerprint
    if snapshot_key is not None:
        row.snapshot_key = snapshot_key
    return row
