"""Removing everything a deleted camera leaves behind: live HLS, snapshots, recordings on
disk and its clips, event snapshots and face thumbnails in the object store.

Crash-safe like retention's journal: `journal_purge` writes a camera_purges row in the
transaction that deletes the camera; `finish_purges` removes the media and then the row. A
crash in between leaves the row, and the next caller (the API after a delete, every retention
sweep) finishes it. Removal is idempotent, and ids are never reused, so whatever sits under a
purged camera's id can only be that camera's.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from vigil.db.models import CameraPurge
from vigil.logs import get_logger
from vigil.media.paths import MediaPaths
from vigil.storage.keys import KINDS, camera_prefix
from vigil.storage.objectstore import ObjectStore

log = get_logger(__name__)

TRASH = ".trash"  # under the media root: a directory leaves its place at once, then goes


def journal_purge(session: Session, camera_id: int) -> None:
    """Queue the camera's media for removal, in the caller's (deleting) transaction."""
    if session.get(CameraPurge, camera_id) is None:
        session.add(CameraPurge(camera_id=camera_id))


def remove_local_media(paths: MediaPaths, camera_id: int) -> None:
    """Remove the camera's live, snapshot and recording directories (missing ones are fine)."""
    trash = paths.root / TRASH
    for directory in (
        paths.live_dir(camera_id),
        paths.snapshot_dir(camera_id),
        paths.record_dir(camera_id),
    ):
        if not directory.exists():
            continue
        trash.mkdir(parents=True, exist_ok=True)
        aside = trash / uuid.uuid4().hex
        directory.rename(aside)  # no request can reach a half-removed directory
        shutil.rmtree(aside, ignore_errors=True)  # leftovers: clear_trash


def remove_objects(store: ObjectStore, camera_id: int) -> int:
    """Delete every object of the camera (clips, event snapshots, face thumbnails)."""
    removed = 0
    for kind in KINDS:
        keys = [info.key for info in store.list(camera_prefix(kind, camera_id))]
        store.delete_many(keys)
        removed += len(keys)
    return removed


def finish_purges(
    sessions: sessionmaker[Session],
    paths: MediaPaths,
    store: ObjectStore,
    camera_ids: list[int] | None = None,
) -> list[int]:
    """Remove the media of every journaled camera (or only of `camera_ids`); a camera whose
    files or objects cannot be removed now keeps its row for the next call. Returns the ids
    finished."""
    clear_trash(paths.root)
    with sessions() as session:
        query = select(CameraPurge.camera_id).order_by(CameraPurge.camera_id)
        if camera_ids is not None:
            query = query.where(CameraPurge.camera_id.in_(camera_ids))
        pending = list(session.scalars(query))
    finished = []
    for camera_id in pending:
        try:
            remove_local_media(paths, camera_id)
            objects = remove_objects(store, camera_id)
        except Exception as exc:  # an unreachable store, a busy file: retried next time
            log.warning("camera_purge_left", camera_id=camera_id, error=str(exc))
            continue
        with sessions() as session:
            session.execute(delete(CameraPurge).where(CameraPurge.camera_id == camera_id))
            session.commit()
        finished.append(camera_id)
        log.info("camera_purged", camera_id=camera_id, objects=objects)
    return finished


def clear_trash(media_root: Path) -> None:
    """Finish directories a crash left half-removed in the trash."""
    shutil.rmtree(media_root / TRASH, ignore_errors=True)
