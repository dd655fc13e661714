"""The pending-deletions journal: drop a reference and queue its object in one transaction,
then delete the objects and their journal entries.

Whoever removes a row that points at an object (retention, a replay deleting an event, a
re-cut clip) calls `enqueue` in the same transaction; `drain` deletes the objects afterwards.
A crash between the two leaves journal entries, which the next `drain` finishes. `drain`
skips a key that some row references again (it never deletes an object in use).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session, sessionmaker

from vigil.db.base import utcnow
from vigil.db.models import Clip, Event, FaceDetection, PendingDeletion
from vigil.logs import get_logger
from vigil.storage.objectstore import ObjectStore, ObjectStoreError

log = get_logger(__name__)


@dataclass(frozen=True)
class Doomed:
    """An object to delete once its reference is gone."""

    key: str
    camera_id: int | None
    size_bytes: int = 0


def drain_quietly(sessions: sessionmaker[Session], store: ObjectStore) -> DrainReport | None:
    """drain(), but an unreachable store only logs: the entries stay for the next sweep."""
    try:
        return drain(sessions, store)
    except (ObjectStoreError, OSError, BotoCoreError, ClientError) as exc:
        log.warning("pending_deletions_left", error=str(exc))
        return None


@dataclass
class DrainReport:
    objects: int = 0
    bytes: int = 0
    kept_in_use: int = 0


def enqueue(session: Session, doomed: Iterable[Doomed], reason: str) -> list[int]:
    """Journal the objects (in the caller's transaction); returns the journal entries' ids."""
    now = utcnow()
    rows = [
        {
            "object_key": d.key,
            "camera_id": d.camera_id,
            "size_bytes": d.size_bytes,
            "reason": reason,
            "created_at": now,
        }
        for d in doomed
    ]
    if not rows:
        return []
    return list(session.scalars(insert(PendingDeletion).returning(PendingDeletion.id), rows))


def referenced_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """Which of `keys` a row refers to (clips, event snapshots, face thumbnails)."""
    if not keys:
        return set()
    found: set[str | None] = set()
    found.update(session.scalars(select(Clip.object_key).where(Clip.object_key.in_(keys))))
    found.update(session.scalars(select(Event.snapshot_key).where(Event.snapshot_key.in_(keys))))
    thumbnails = select(FaceDetection.thumbnail_key).where(FaceDetection.thumbnail_key.in_(keys))
    found.update(session.scalars(thumbnails))
    return {k for k in found if k is not None}


def drain(
    sessions: sessionmaker[Session],
    store: ObjectStore,
    *,
    batch_size: int = 500,
    ids: Sequence[int] | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> DrainReport:
    """Delete the journal's objects (all of them, or only the entries `ids`), in batches."""
    report = DrainReport()
    after_id = 0
    while True:
        with sessions() as session:
            query = select(PendingDeletion).where(PendingDeletion.id > after_id)
            if ids is not None:
                query = query.where(PendingDeletion.id.in_(ids))
            batch = list(session.scalars(query.order_by(PendingDeletion.id).limit(batch_size)))
            if not batch:
                return report
            after_id = batch[-1].id
            in_use = referenced_keys(session, [e.object_key for e in batch])
            doomed = sorted({e.object_key for e in batch} - in_use)
            store.delete_many(doomed)
            session.execute(
                delete(PendingDeletion).where(PendingDeletion.id.in_([e.id for e in batch]))
            )
            session.commit()
        report.objects += len(doomed)
        report.bytes += sum(e.size_bytes for e in batch if e.object_key not in in_use)
        report.kept_in_use += len(in_use)
        if in_use:
            log.warning("pending_deletion_in_use", keys=sorted(in_use)[:5], count=len(in_use))
        if on_batch is not None:
            on_batch(len(batch))
