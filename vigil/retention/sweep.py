"""The retention sweep: per-camera ages, a global size cap (oldest first), orphans.

One sweep:
1. finishes the deletions a crashed sweep left in the journal, and the media of deleted
   cameras still journaled in camera_purges (vigil.cameras.purge);
2. takes an inventory (vigil.retention.inventory) and plans: orphans; items older than their
   camera's retention days (recordings, clips, snapshots) or the lake retention; then, while
   the total is over the cap, the oldest remaining items of any kind (never those of the last
   `protect` minutes: the segment being recorded, the clip being cut);
3. deletes the plan in batches. Per batch: one transaction drops the rows (clips) or clears
   the references (snapshot and thumbnail keys) and journals their objects; then files and
   lake partitions are removed and the journaled objects deleted.

Consistency: no row ever points at a deleted object (references go first, in a committed
transaction); an object whose reference is gone is in the journal until it is deleted, so a
crash at any point leaves work the next sweep finishes (step 1), never a row pointing at a
missing file nor, once a sweep completes, a file without a row.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from vigil.cameras.purge import finish_purges
from vigil.db.models import Clip, Event, FaceDetection
from vigil.lake.store import LakeRoot, LakeStore, as_store
from vigil.logs import get_logger
from vigil.media.paths import MediaPaths
from vigil.retention.inventory import Inventory, Item, take_inventory
from vigil.retention.journal import Doomed, drain, enqueue
from vigil.storage.objectstore import ObjectStore

log = get_logger(__name__)

TRASH = ".trash"  # under the lake root: partitions leave the table atomically, then go


@dataclass(frozen=True)
class RetentionPolicy:
    lake_days: int = 30
    cap_bytes: int = 0  # 0: no cap
    batch_size: int = 500
    orphan_grace: timedelta = timedelta(hours=1)
    protect: timedelta = timedelta(minutes=10)
    alert_delivery_days: int = 90  # the alert delivery log (sent, failed, skipped, merged)

    def __post_init__(self) -> None:
        if self.lake_days < 1:
            raise ValueError(f"lake retention must be at least 1 day, got {self.lake_days}")
        if self.cap_bytes < 0:
            raise ValueError(f"the storage cap must be >= 0 bytes, got {self.cap_bytes}")
        if self.batch_size < 1:
            raise ValueError(f"the batch size must be >= 1, got {self.batch_size}")
        if self.alert_delivery_days < 1:
            raise ValueError(
                f"alert deliveries must be kept at least 1 day, got {self.alert_delivery_days}"
            )


@dataclass(frozen=True)
class Planned:
    item: Item
    reason: str  # orphan | age | cap


@dataclass
class SweepReport:
    dry_run: bool = False
    recovered_objects: int = 0  # finished from a previous, interrupted sweep
    purged_cameras: int = 0  # deleted cameras whose media a crash or an outage left behind
    deleted: Counter[str] = field(default_factory=Counter)  # kind -> items
    freed_bytes: Counter[str] = field(default_factory=Counter)  # kind -> bytes
    reasons: Counter[str] = field(default_factory=Counter)
    bytes_before: int = 0
    bytes_after: int = 0
    cap_bytes: int = 0
    batches: int = 0

    @property
    def items(self) -> int:
        return sum(self.deleted.values())

    @property
    def cap_met(self) -> bool:
        return self.cap_bytes == 0 or self.bytes_after <= self.cap_bytes

    def summary(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "items": self.items,
            "freed_bytes": sum(self.freed_bytes.values()),
            "deleted": dict(self.deleted),
            "freed_bytes_by_kind": dict(self.freed_bytes),
            "reasons": dict(self.reasons),
            "recovered_objects": self.recovered_objects,
            "purged_cameras": self.purged_cameras,
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
            "cap_bytes": self.cap_bytes,
            "cap_met": self.cap_met,
            "batches": self.batches,
        }


def _age_limit(item: Item, inventory: Inventory, policy: RetentionPolicy) -> int:
    """Days an item is kept (<= 0: kept until the cap needs the space)."""
    if item.kind == "lake_hour":
        return policy.lake_days
    camera = inventory.cameras.get(item.camera_id) if item.camera_id is not None else None
    if camera is None:
        return 0
    if item.kind == "recording":
        return camera.record_retention_days
    if item.kind == "clip":
        return camera.clip_retention_days
    return camera.snapshot_retention_days  # event snapshots, face thumbnails


def plan(inventory: Inventory, policy: RetentionPolicy, now: datetime) -> list[Planned]:
    """What to delete, orphans first, then by age, then oldest first down to the cap."""
    planned: list[Planned] = []
    kept: list[Item] = []
    for item in inventory.items:
        if item.kind.startswith("orphan"):
            planned.append(Planned(item, "orphan"))
            continue
        days = _age_limit(item, inventory, policy)
        end = item.ts + (timedelta(hours=1) if item.kind == "lake_hour" else timedelta(0))
        if days > 0 and end < now - timedelta(days=days):
            planned.append(Planned(item, "age"))
        else:
            kept.append(item)
    if policy.cap_bytes:
        total = sum(i.size for i in kept)
        for item in sorted(kept, key=lambda i: (i.ts, i.kind, i.ref)):
            if total <= policy.cap_bytes:
                break
            if item.ts >= now - policy.protect:
                continue
            planned.append(Planned(item, "cap"))
            total -= item.size
    return planned


def _drop_references(session: Session, batch: Sequence[Planned]) -> list[int]:
    """Delete clip rows and clear snapshot/thumbnail keys of the batch, journal every object;
    returns the journal ids. Rows are re-read here: a clip re-cut since the inventory is
    journaled under its current key."""
    doomed: dict[str, list[Doomed]] = {}
    by_kind: dict[str, list[Planned]] = {}
    for p in batch:
        by_kind.setdefault(p.item.kind, []).append(p)
        if p.item.kind == "orphan_object" or (p.item.is_object and not p.item.row_id):
            # No row refers to it (an orphan, a thumbnail whose row is not written yet).
            doomed.setdefault(p.reason, []).append(
                Doomed(p.item.ref, p.item.camera_id, p.item.size)
            )
    clips = {p.item.row_id: p for p in by_kind.get("clip", []) if p.item.row_id}
    if clips:
        clip_rows = session.execute(
            select(Clip.id, Clip.object_key, Clip.camera_id, Clip.size_bytes).where(
                Clip.id.in_(list(clips))
            )
        ).all()
        session.execute(
            delete(Clip).where(Clip.id.in_(list(clips))),
            execution_options={"synchronize_session": False},
        )
        for clip_id, key, camera_id, size in clip_rows:
            doomed.setdefault(clips[clip_id].reason, []).append(Doomed(key, camera_id, size))
    for kind, model, column in (
        ("event_snapshot", Event, Event.snapshot_key),
        ("face_thumbnail", FaceDetection, FaceDetection.thumbnail_key),
    ):
        rows = {p.item.row_id: p for p in by_kind.get(kind, []) if p.item.row_id}
        if not rows:
            continue
        current = session.execute(
            select(model.id, column).where(model.id.in_(list(rows)), column.is_not(None))
        ).all()
        values: dict[str, Any] = {column.key: None}
        if model is Event:
            values["updated_at"] = Event.updated_at  # not a change of the event itself
        session.execute(
            update(model).where(model.id.in_(list(rows))).values(**values),
            execution_options={"synchronize_session": False},
        )
        for row_id, ref in current:
            p = rows[row_id]
            doomed.setdefault(p.reason, []).append(Doomed(str(ref), p.item.camera_id, p.item.size))
    return [i for reason, entries in doomed.items() for i in enqueue(session, entries, reason)]


def _remove_files(batch: Sequence[Planned], lake: LakeStore, media_root: Path) -> None:
    lake_root = Path(lake.root)
    trash = lake_root / TRASH
    for p in batch:
        path = Path(p.item.ref)
        if p.item.kind == "recording" or (p.item.kind == "orphan_files" and path.is_file()):
            path.unlink(missing_ok=True)
            _prune_empty(path.parent, media_root)
        elif p.item.kind in ("lake_hour", "orphan_files") and not lake.local:
            lake.delete_dir(p.item.ref)  # an S3 prefix: no directory to move aside
        elif p.item.kind in ("lake_hour", "orphan_files") and path.is_dir():
            trash.mkdir(parents=True, exist_ok=True)
            aside = trash / uuid.uuid4().hex
            os.rename(path, aside)  # readers see the whole partition or none of it
            shutil.rmtree(aside, ignore_errors=True)
            _prune_empty(path.parent, lake_root)


def _prune_empty(directory: Path, root: Path) -> None:
    """Remove directories left empty up to (not including) root."""
    root = root.resolve()
    current = directory.resolve()
    while current != root and current.is_relative_to(root):
        try:
            current.rmdir()
        except OSError:
            return
        current = current.parent


def sweep(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    paths: MediaPaths,
    lake_root: LakeRoot,
    policy: RetentionPolicy,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    on_batch: Callable[[int, int, int], None] | None = None,
) -> SweepReport:
    """One retention sweep (see the module doc). on_batch(batch index, items done, items
    planned) runs after each batch's references are committed and its files deleted."""
    now = now or datetime.now(UTC)
    lake = as_store(lake_root)
    report = SweepReport(dry_run=dry_run, cap_bytes=policy.cap_bytes)
    if not dry_run:
        if lake.local:
            shutil.rmtree(Path(lake.root) / TRASH, ignore_errors=True)
        report.recovered_objects = drain(sessions, store, batch_size=policy.batch_size).objects
        report.purged_cameras = len(finish_purges(sessions, paths, store))
        _expire_identities(sessions, store, now, report, policy.batch_size)
        _expire_deliveries(sessions, now - timedelta(days=policy.alert_delivery_days), report)
    with sessions() as session:
        inventory = take_inventory(
            session, store, paths, lake, now=now, orphan_grace=policy.orphan_grace
        )
    planned = plan(inventory, policy, now)
    report.bytes_before = inventory.total_bytes
    report.bytes_after = report.bytes_before - sum(p.item.size for p in planned)
    log.info("retention_planned", items=len(planned), bytes_before=report.bytes_before)
    for start in range(0, len(planned), policy.batch_size):
        batch = planned[start : start + policy.batch_size]
        if not dry_run:
            with sessions() as session:
                journal_ids = _drop_references(session, batch)
                session.commit()
            _remove_files(batch, lake, paths.root)
            if on_batch is not None:  # between the commit and the object deletes
                on_batch(report.batches, start, len(planned))
            drain(sessions, store, batch_size=policy.batch_size, ids=journal_ids)
        report.batches += 1
        for p in batch:
            report.deleted[p.item.kind] += 1
            report.freed_bytes[p.item.kind] += p.item.size
            report.reasons[p.reason] += 1
    log.info("retention_swept", **report.summary())
    return report


def _expire_identities(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    now: datetime,
    report: SweepReport,
    batch_size: int,
) -> None:
    """Unlabelled face identities (their faces, embeddings and thumbnails) age out with their
    cameras' snapshot retention; labelled ones stay."""
    from vigil.faces.edits import expire  # vigil.faces imports the journal: import at use

    with sessions() as session:
        expired = expire(session, now, batch_size=batch_size)
        session.commit()
    drain(sessions, store, batch_size=batch_size, ids=expired.journal_ids)
    if expired.detections:
        report.deleted["face_detection"] += expired.detections
        report.reasons["age"] += expired.detections
    if expired.identities:
        report.deleted["face_identity"] += expired.identities


def _expire_deliveries(
    sessions: sessionmaker[Session], cutoff: datetime, report: SweepReport
) -> None:
    """The alert delivery log ages out (test messages included); a delivery still pending is
    kept whatever its age, so the alert service never loses one it has yet to send."""
    from vigil.alerts.store import PENDING
    from vigil.db.models import AlertDelivery

    with sessions() as session:
        result = session.execute(
            delete(AlertDelivery).where(
                AlertDelivery.attempted_at < cutoff, AlertDelivery.status != PENDING
            )
        )
        session.commit()
    expired = int(getattr(result, "rowcount", 0) or 0)
    if expired:
        report.deleted["alert_delivery"] += expired
        report.reasons["age"] += expired
