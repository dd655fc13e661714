"""Re-derive one camera's events for one window from the lake and reconcile the database.

Used by the Dagster `events` asset (one hour partition of one camera) and `vigil replay`.
Idempotent: an event the replay finds exactly as stored is not touched (its row, its
`rules_fingerprint` and its `updated_at` stay), so re-running a window changes nothing unless
the zones or the rules changed, and then exactly the affected events change.

What happens to the window's events (those whose start is in [window_start, window_end)):
- found by the replay and closed: inserted, or updated where any field differs;
- found but still open (the lake does not yet hold their end): left alone, reported pending
  (the live stream owns them until they close);
- in the database but not found: deleted, with their clips and snapshot objects queued for
  deletion (vigil.retention.journal), but only when the lake covers their start (an event the
  lake has no frames for yet, or no longer, is never judged).
Only the rules' types are judged: face events come from live face assignment, not the rules.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from sqlalchemy import select
from sqlalchemy.orm import Session

from vigil.db.models import Clip
from vigil.db.models import Event as EventRow
from vigil.events.observations import LakeReader
from vigil.events.store import upsert_event
from vigil.events.zones import zone_rules
from vigil.lake.store import LakeRoot
from vigil.logs import get_logger
from vigil.retention.journal import Doomed, enqueue
from vigil.rules import RulesConfig, fingerprint, read_window, replay_with_report
from vigil.rules.replay import DEFAULT_LOOKBACK, ReplayResult
from vigil.rules.types import Event, EventType, as_utc
from vigil.rules.zones import ZoneRule

log = get_logger(__name__)

MAX_LOOKBACK = timedelta(hours=24)
#: Lake files are published every lake_roll_seconds; data older than this is final.
DEFAULT_SETTLE = timedelta(minutes=5)


@dataclass
class ReconcileReport:
    camera_id: int
    window_start: datetime
    window_end: datetime
    fingerprint: str = ""
    inserted: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    synchronised: bool = True
    complete: bool = True
    frames: int = 0
    detections: int = 0
    lookback_seconds: float = 0.0

    @property
    def changed(self) -> int:
        return len(self.inserted) + len(self.updated) + len(self.deleted)

    def counts(self) -> dict[str, int]:
        return {
            "inserted": len(self.inserted),
            "updated": len(self.updated),
            "deleted": len(self.deleted),
            "unchanged": len(self.unchanged),
            "pending": len(self.pending),
        }

    def summary(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            **self.counts(),
            "synchronised": self.synchronised,
            "complete": self.complete,
            "frames": self.frames,
            "detections": self.detections,
            "fingerprint": self.fingerprint,
        }


@dataclass(frozen=True)
class _Replayed:
    result: ReplayResult
    frames: int
    detections: int
    first_ts: datetime | None
    last_ts: datetime | None
    read_start: datetime
    lookback: timedelta


def _replay(
    lake_root: LakeRoot,
    camera_id: int,
    zones: list[ZoneRule],
    config: RulesConfig,
    ws: datetime,
    we: datetime,
    lookback: timedelta,
    close_at_end: bool,
) -> _Replayed:
    read_start, read_end = read_window(ws, we, lookback=lookback)
    reader = LakeReader(lake_root, camera_id)
    try:
        result = replay_with_report(
            reader.observations(read_start, read_end),
            zones,
            config,
            ws,
            we,
            camera_id=str(camera_id),
            data_start=read_start,  # the lake holds every frame from there on
            close_at_end=close_at_end,
        )
    finally:
        reader.close()
    return _Replayed(
        result,
        reader.frames_read,
        reader.detections_read,
        reader.first_ts,
        reader.last_ts,
        read_start,
        lookback,
    )


def replay_window(
    session: Session,
    lake_root: LakeRoot,
    camera_id: int,
    window_start: datetime,
    window_end: datetime,
    *,
    config: RulesConfig | None = None,
    now: datetime | None = None,
    settle: timedelta = DEFAULT_SETTLE,
) -> tuple[_Replayed, str]:
    """Replay the window with the camera's current zones, reading a longer lookback until the
    state at window_start is proven equal to the live stream's (or MAX_LOOKBACK is reached).

    A camera whose lake data stops before the read span ends, in a past that is settled (no
    file can still arrive), had its stream stop: its open events are closed at the last frame.
    """
    cfg = config or RulesConfig()
    ws, we = as_utc(window_start, "window_start"), as_utc(window_end, "window_end")
    now = as_utc(now or datetime.now(UTC), "now")
    zones = zone_rules(session, camera_id)
    lookback = DEFAULT_LOOKBACK
    while True:
        replayed = _replay(lake_root, camera_id, zones, cfg, ws, we, lookback, False)
        if replayed.result.synchronised or lookback >= MAX_LOOKBACK:
            break
        lookback = min(lookback * 4, MAX_LOOKBACK)
    read_end = read_window(ws, we, lookback=lookback)[1]
    stream_stopped = replayed.last_ts is None or replayed.last_ts + cfg.memory_horizon < read_end
    if not replayed.result.complete and read_end + settle <= now and stream_stopped:
        replayed = _replay(lake_root, camera_id, zones, cfg, ws, we, lookback, True)
    return replayed, fingerprint(zones, cfg)


def _expected(event: Event) -> dict[str, Any]:
    """The row fields upsert_event writes, for comparison with a stored row."""
    return {
        "zone_id": int(event.zone_id) if event.zone_id is not None else None,
        "type": event.type,
        "status": "open" if event.is_open else "closed",
        "start_ts": event.start,
        "end_ts": event.end,
        "confidence": event.confidence,
        "peak_ts": event.peak_ts,
        "peak_score": event.peak_score,
        "track_ids": list(event.track_ids),
        "frames": event.frames_in_zone,
    }


def _same(row: EventRow, event: Event) -> bool:
    for name, want in _expected(event).items():
        have = getattr(row, name)
        if isinstance(want, float) and isinstance(have, float):
            if not math.isclose(have, want, rel_tol=1e-9, abs_tol=1e-9):
                return False
        elif have != want:
            return False
    return True


def reconcile_events(
    session: Session,
    camera_id: int,
    window_start: datetime,
    window_end: datetime,
    events: tuple[Event, ...] | list[Event],
    *,
    rules_fingerprint: str,
    covered: tuple[datetime, datetime] | None,
) -> ReconcileReport:
    """Make the database's events of the window match `events` (see the module doc).

    covered: the span of the lake the replay read frames from (None: no frames at all); only
    stored events starting inside it may be deleted.
    """
    ws, we = as_utc(window_start, "window_start"), as_utc(window_end, "window_end")
    report = ReconcileReport(camera_id, ws, we, rules_fingerprint)
    stored = {
        row.id: row
        for row in session.scalars(
            select(EventRow).where(
                EventRow.camera_id == camera_id,
                EventRow.start_ts >= ws,
                EventRow.start_ts < we,
                EventRow.type.in_(RULE_TYPES),  # face events are live only: never judged here
            )
        )
    }
    found: set[str] = set()
    for event in events:
        if not ws <= event.start < we:
            raise ValueError(f"event {event.event_id} starts outside the window")
        event_id = str(event.event_id)
        found.add(event_id)
        row = stored.get(event_id) or session.get(EventRow, event_id)
        if event.is_open:
            report.pending.append(event_id)
        elif row is None:
            upsert_event(session, event, source="replay", rules_fingerprint=rules_fingerprint)
            report.inserted.append(event_id)
        elif _same(row, event):
            report.unchanged.append(event_id)
        else:
            upsert_event(session, event, source="replay", rules_fingerprint=rules_fingerprint)
            report.updated.append(event_id)
    gone = [
        row
        for event_id, row in sorted(stored.items())
        if event_id not in found
        and covered is not None
        and covered[0] <= row.start_ts <= covered[1]
    ]
    if gone:
        _delete_events(session, gone)
        report.deleted.extend(row.id for row in gone)
    session.flush()
    return report


RULE_TYPES: tuple[EventType, ...] = get_args(EventType)


def _delete_events(session: Session, rows: list[EventRow]) -> None:
    ids = [row.id for row in rows]
    clips = list(session.scalars(select(Clip).where(Clip.event_id.in_(ids))))
    doomed = [Doomed(c.object_key, c.camera_id, c.size_bytes) for c in clips]
    doomed += [Doomed(r.snapshot_key, r.camera_id) for r in rows if r.snapshot_key]
    enqueue(session, doomed, "replay")
    for clip in clips:
        session.delete(clip)
    for row in rows:
        session.delete(row)


def replay_and_reconcile(
    session: Session,
    lake_root: LakeRoot,
    camera_id: int,
    window_start: datetime,
    window_end: datetime,
    *,
    config: RulesConfig | None = None,
    now: datetime | None = None,
    settle: timedelta = DEFAULT_SETTLE,
) -> ReconcileReport:
    """Replay one camera's window from the lake and reconcile the database (not committed)."""
    replayed, fp = replay_window(
        session,
        lake_root,
        camera_id,
        window_start,
        window_end,
        config=config,
        now=now,
        settle=settle,
    )
    covered = (
        (replayed.first_ts, replayed.last_ts)
        if replayed.first_ts is not None and replayed.last_ts is not None
        else None
    )
    report = reconcile_events(
        session,
        camera_id,
        window_start,
        window_end,
        replayed.result.events,
        rules_fingerprint=fp,
        covered=covered,
    )
    report.synchronised = replayed.result.synchronised
    report.complete = replayed.result.complete or not report.pending
    report.frames = replayed.frames
    report.detections = replayed.detections
    report.lookback_seconds = replayed.lookback.total_seconds()
    log.info("events_reconciled", **report.summary())
    return report
