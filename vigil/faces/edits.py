"""Changes to identities: a user's label, merge, split and delete, a refinement plan, and the
expiry of unlabelled identities with retention. Each runs in the caller's transaction and is
logged in face_changes (which makes the live assigners reload). Deleted detections' thumbnails
are journaled (pending_deletions) in the same transaction; the caller drains the returned
journal ids after committing, and a crash in between leaves them for the next retention sweep.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from vigil.db.models import Camera, Event, Face, FaceDetection
from vigil.faces.cluster import RefinePlan
from vigil.faces.store import journal_thumbnails, log_change, new_identity, recentre, recount

MAX_LABEL = 100


class FaceEditError(ValueError):
    """An edit that cannot be done; the message says why (a 4xx for the API)."""


def owned_identity(session: Session, owner_id: int, face_id: int) -> Face | None:
    return session.scalar(select(Face).where(Face.id == face_id, Face.owner_id == owner_id))


def _move(session: Session, detection_ids: Sequence[str], into: int) -> None:
    session.execute(
        update(FaceDetection).where(FaceDetection.id.in_(list(detection_ids))).values(face_id=into),
        execution_options={"synchronize_session": False},
    )


def set_label(session: Session, face: Face, label: str | None) -> Face:
    """Name an identity (new faces then match it and it never expires) or clear its name."""
    label = (label or "").strip()
    if len(label) > MAX_LABEL:
        raise FaceEditError(f"a label has at most {MAX_LABEL} characters")
    face.label, face.named = label, bool(label)
    log_change(session, face.owner_id, "label", face.id)
    session.flush()
    return face


def merge(session: Session, face: Face, into: Face, *, source: str = "user") -> Face:
    """Move every detection of `face` to `into` and delete `face`; a name carries over."""
    if face.id == into.id:
        raise FaceEditError("an identity cannot be merged into itself")
    if face.owner_id != into.owner_id:
        raise FaceEditError("identities of different owners cannot be merged")
    session.execute(
        update(FaceDetection).where(FaceDetection.face_id == face.id).values(face_id=into.id),
        execution_options={"synchronize_session": False},
    )
    session.execute(  # its face events follow (deleting `face` would cascade to them)
        update(Event).where(Event.face_id == face.id).values(face_id=into.id),
        execution_options={"synchronize_session": False},
    )
    if face.named and not into.named:
        into.label, into.named = face.label, True
    into.pinned = into.pinned or face.pinned or source == "user"
    log_change(session, face.owner_id, "merge", face.id, source=source, into=into.id)
    session.delete(face)
    session.flush()
    recount(session, [into.id])
    recentre(session, [into.id])
    session.refresh(into)
    return into


def split(
    session: Session, face: Face, detection_ids: Sequence[str], *, source: str = "user"
) -> Face:
    """Move exactly `detection_ids` (all of `face`) to a new identity, which is returned."""
    wanted = sorted(set(detection_ids))
    if not wanted:
        raise FaceEditError("choose at least one detection to split off")
    found = set(
        session.scalars(
            select(FaceDetection.id).where(
                FaceDetection.id.in_(wanted), FaceDetection.face_id == face.id
            )
        )
    )
    missing = [d for d in wanted if d not in found]
    if missing:
        raise FaceEditError(f"not detections of identity {face.id}: {', '.join(missing[:5])}")
    remaining = session.scalar(
        select(FaceDetection.id)
        .where(FaceDetection.face_id == face.id, FaceDetection.id.not_in(wanted))
        .limit(1)
    )
    if remaining is None:
        raise FaceEditError("a split must leave at least one detection with the identity")
    new = new_identity(session, face.owner_id)
    new.pinned = face.pinned = face.pinned or source == "user"
    _move(session, wanted, new.id)
    pictured = select(FaceDetection.thumbnail_key).where(FaceDetection.id.in_(wanted))
    session.execute(  # a face event goes with the detection that pictures it
        update(Event)
        .where(Event.face_id == face.id, Event.snapshot_key.in_(pictured))
        .values(face_id=new.id),
        execution_options={"synchronize_session": False},
    )
    log_change(
        session, face.owner_id, "split", face.id, source=source, into=new.id, detection_ids=wanted
    )
    session.flush()
    recount(session, [face.id, new.id])
    recentre(session, [face.id, new.id])
    session.refresh(face)
    session.refresh(new)
    return new


def delete_identity(session: Session, face: Face, *, source: str = "user") -> list[int]:
    """Delete an identity and its detections; returns the journal ids of their thumbnails."""
    detections = list(
        session.scalars(select(FaceDetection).where(FaceDetection.face_id == face.id))
    )
    journal = journal_thumbnails(session, detections, "delete")
    session.execute(
        delete(FaceDetection).where(FaceDetection.face_id == face.id),
        execution_options={"synchronize_session": False},
    )
    log_change(session, face.owner_id, "delete", face.id, source=source)
    session.delete(face)
    session.flush()
    return journal


@dataclass
class PlanReport:
    reassigned: int = 0
    created: list[int] = field(default_factory=list)
    merges: list[tuple[int, int]] = field(default_factory=list)
    splits: int = 0
    stale: int = 0  # plan entries naming identities deleted or merged meanwhile

    @property
    def changed(self) -> bool:
        return bool(self.reassigned or self.created or self.merges or self.splits)


def apply_plan(session: Session, owner_id: int, plan: RefinePlan) -> PlanReport:
    """Carry out a refinement plan of one owner's window. Identities changed meanwhile (a
    user's merge or delete) make their entries stale; those are skipped, never forced."""
    report = PlanReport()
    faces = {f.id: f for f in session.scalars(select(Face).where(Face.owner_id == owner_id))}
    created: dict[str, int] = {}
    targets: dict[int, list[str]] = defaultdict(list)
    for detection_id, target in sorted(plan.assignments.items()):
        if isinstance(target, str):
            if target not in created:
                new = new_identity(session, owner_id)
                faces[new.id] = new
                created[target] = new.id
                report.created.append(new.id)
            targets[created[target]].append(detection_id)
        elif target in faces:
            targets[target].append(detection_id)
        else:
            report.stale += 1
    owned_ids = _owned_detections(session, owner_id, [d for ids in targets.values() for d in ids])
    previous = dict(
        session.execute(
            select(FaceDetection.id, FaceDetection.face_id).where(FaceDetection.id.in_(owned_ids))
        )
        .tuples()
        .all()
    )
    touched: set[int] = set(faces) & set(previous.values())
    for face_id, ids in targets.items():
        ids = [d for d in ids if d in owned_ids]
        report.stale += len(targets[face_id]) - len(ids)
        _move(session, ids, face_id)
        report.reassigned += len(ids)
        touched.add(face_id)
    moved_to = {d: fid for fid, ids in targets.items() for d in ids}
    for from_id, ids in plan.splits:
        went = {moved_to[d] for d in ids if d in moved_to}
        log_change(
            session,
            owner_id,
            "split",
            from_id,
            source="refine",
            into=went.pop() if len(went) == 1 else None,
            detection_ids=ids,
        )
        report.splits += 1
    session.flush()
    for from_id, into_id in plan.merges:
        face, into = faces.get(from_id), faces.get(into_id)
        if face is None or into is None or from_id == into_id:
            report.stale += 1
            continue
        merge(session, face, into, source="refine")
        del faces[from_id]
        touched.discard(from_id)
        touched.add(into_id)
        report.merges.append((from_id, into_id))
    touched &= set(faces)
    recount(session, touched)
    recentre(session, touched)
    _drop_empty(session, owner_id, touched)
    if report.changed:
        log_change(session, owner_id, "refine", 0, source="refine")
    session.flush()
    return report


def _owned_detections(session: Session, owner_id: int, detection_ids: list[str]) -> set[str]:
    if not detection_ids:
        return set()
    return set(
        session.scalars(
            select(FaceDetection.id)
            .join(Camera, Camera.id == FaceDetection.camera_id)
            .where(FaceDetection.id.in_(detection_ids), Camera.owner_id == owner_id)
        )
    )


def _drop_empty(session: Session, owner_id: int, face_ids: set[int]) -> None:
    """Identities a plan emptied (unnamed, unpinned) are gone: their faces live elsewhere."""
    if not face_ids:
        return
    empty = list(
        session.scalars(
            select(Face).where(
                Face.id.in_(face_ids),
                Face.detection_count == 0,
                Face.named.is_(False),
                Face.pinned.is_(False),
            )
        )
    )
    for face in empty:
        log_change(session, owner_id, "delete", face.id, source="refine")
        session.delete(face)


@dataclass
class ExpiryReport:
    detections: int = 0
    identities: int = 0
    journal_ids: list[int] = field(default_factory=list)


def expire(session: Session, now: datetime, *, batch_size: int = 5000) -> ExpiryReport:
    """Delete faces of unlabelled (or no) identity older than their camera's snapshot
    retention, with their thumbnails, then the unlabelled identities left without faces.
    Labelled identities and their faces stay."""
    report = ExpiryReport()
    touched: set[int] = set()
    cameras = session.execute(select(Camera.id, Camera.snapshot_retention_days)).all()
    for camera_id, days in cameras:
        cutoff = now - timedelta(days=days)
        while True:
            rows = list(
                session.scalars(
                    select(FaceDetection)
                    .outerjoin(Face, Face.id == FaceDetection.face_id)
                    .where(
                        FaceDetection.camera_id == camera_id,
                        FaceDetection.ts < cutoff,
                        (Face.id.is_(None)) | (Face.named.is_(False)),
                    )
                    .limit(batch_size)
                )
            )
            if not rows:
                break
            report.journal_ids += journal_thumbnails(session, rows, "age")
            touched.update(r.face_id for r in rows if r.face_id is not None)
            session.execute(
                delete(FaceDetection).where(FaceDetection.id.in_([r.id for r in rows])),
                execution_options={"synchronize_session": False},
            )
            report.detections += len(rows)
            session.expunge_all()
    recount(session, touched)
    recentre(session, touched)
    # Also those left empty otherwise (their camera was deleted, and its faces with it).
    has_faces = select(FaceDetection.id).where(FaceDetection.face_id == Face.id).exists()
    gone = list(
        session.scalars(
            select(Face).where(
                Face.named.is_(False),
                (Face.id.in_(touched) & (Face.detection_count == 0)) | ~has_faces,
            )
        )
    )
    for face in gone:
        log_change(session, face.owner_id, "delete", face.id, source="expiry")
        session.delete(face)
    report.identities = len(gone)
    session.flush()
    return report
