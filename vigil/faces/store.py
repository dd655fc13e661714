"""Identities and face rows in the database, and live assignment as face rows are stored.

The dataflow's store sink calls `LiveFaces.insert` inside its transaction: each new face row
(of a camera with face recognition on) gets an identity of its camera's owner at once, through
a `LiveAssigner` per owner loaded from the faces table. The assigner's state is a cache of the
table: it is reloaded when the owner's change log (face_changes: labels, merges, splits,
deletes, refinements) grows, every `reload_seconds` (other workers create identities too), and
after any failed transaction (`reset`), so it never holds an identity the table lacks.
The same transaction adds the face events live assignment opens (vigil.faces.events).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
from prometheus_client import Counter
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from vigil.db.models import Camera, Event, Face, FaceChange, FaceDetection
from vigil.faces.assign import IdentityRef, LiveAssigner, unit
from vigil.faces.events import FACE, Sighting, face_events
from vigil.faces.quality import weight
from vigil.logs import get_logger
from vigil.records.convert import Row
from vigil.retention.journal import Doomed, enqueue

log = get_logger(__name__)

FACES_STORED = Counter("vigil_faces_stored", "Face rows stored by the dataflow")
FACES_ASSIGNED = Counter("vigil_faces_assigned_live", "Stored faces given an identity at once")
IDENTITIES_CREATED = Counter("vigil_face_identities_created_live", "Identities founded live")
FACES_NOT_KEPT = Counter(
    "vigil_faces_not_kept", "Faces of cameras with face recognition off (dropped)"
)

EMBEDDING_DIM = 128


def encode(vector: np.ndarray) -> bytes:
    return np.asarray(vector, np.float32).reshape(-1).tobytes()


def decode(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, np.float32).copy()


def clamp_quality(value: float | None) -> float:
    return 0.0 if value is None else min(max(float(value), 0.0), 1.0)


def detection_of(row: Row, face_id: int | None = None) -> FaceDetection:
    """The face_detections row of a dataflow face record."""
    return FaceDetection(
        id=row["face_detection_id"],
        camera_id=row["camera_id"],
        face_id=face_id,
        ts=row["ts"],
        track_id=row["track_id"],
        bbox=list(row["bbox"]),
        score=row["score"],
        blur=row["blur"],
        quality=row.get("quality"),
        thumbnail_key=row["thumbnail_key"],
        embedding=encode(row["embedding"]),
    )


def new_identity(session: Session, owner_id: int) -> Face:
    face = Face(owner_id=owner_id, label="", named=False, detection_count=0, weight=0.0)
    session.add(face)
    session.flush()
    return face


def identity_refs(session: Session, owner_id: int) -> list[IdentityRef]:
    rows = session.execute(
        select(Face.id, Face.centroid, Face.weight, Face.named).where(
            Face.owner_id == owner_id, Face.centroid.is_not(None)
        )
    )
    return [IdentityRef(i, decode(c or b""), float(w or 0.0), bool(n)) for i, c, w, n in rows]


def change_mark(session: Session, owner_id: int) -> int:
    """The newest change-log entry of an owner (0: none)."""
    mark = session.scalar(select(func.max(FaceChange.id)).where(FaceChange.owner_id == owner_id))
    return int(mark or 0)


def log_change(
    session: Session,
    owner_id: int,
    kind: str,
    face_id: int,
    *,
    source: str = "user",
    into: int | None = None,
    detection_ids: Sequence[str] = (),
) -> None:
    session.add(
        FaceChange(
            owner_id=owner_id,
            kind=kind,
            source=source,
            face_id=face_id,
            into_face_id=into,
            detection_ids=list(detection_ids),
        )
    )


def recount(session: Session, face_ids: Iterable[int]) -> None:
    """Detection count and first/last seen of identities, from their rows."""
    ids = sorted(set(face_ids))
    if not ids:
        return
    stats = {
        fid: (n, first, last)
        for fid, n, first, last in session.execute(
            select(
                FaceDetection.face_id,
                func.count(),
                func.min(FaceDetection.ts),
                func.max(FaceDetection.ts),
            )
            .where(FaceDetection.face_id.in_(ids))
            .group_by(FaceDetection.face_id)
        )
    }
    for fid in ids:
        n, first, last = stats.get(fid, (0, None, None))
        session.execute(
            update(Face)
            .where(Face.id == fid)
            .values(detection_count=n, first_seen_at=first, last_seen_at=last),
            execution_options={"synchronize_session": False},
        )


def recentre(session: Session, face_ids: Iterable[int]) -> None:
    """Centroid and weight of identities, from their faces' embeddings (quality-weighted)."""
    ids = sorted(set(face_ids))
    if not ids:
        return
    sums: dict[int, np.ndarray] = {}
    weights: dict[int, float] = defaultdict(float)
    rows = session.execute(
        select(FaceDetection.face_id, FaceDetection.embedding, FaceDetection.quality).where(
            FaceDetection.face_id.in_(ids), FaceDetection.embedding.is_not(None)
        )
    )
    for face, blob, quality in rows:
        fid, w = int(face or 0), weight(clamp_quality(quality))
        e = unit(decode(blob or b""))
        sums[fid] = sums.get(fid, np.zeros(EMBEDDING_DIM, np.float64)) + w * e
        weights[fid] += w
    for fid in ids:
        total = sums.get(fid)
        centroid = encode(unit(total)) if total is not None else None
        session.execute(
            update(Face).where(Face.id == fid).values(centroid=centroid, weight=weights[fid]),
            execution_options={"synchronize_session": False},
        )


def journal_thumbnails(
    session: Session, detections: Sequence[FaceDetection], reason: str
) -> list[int]:
    """Queue the thumbnails of detections about to be deleted (same transaction); the face
    events they picture go too, or the thumbnails would stay in use (biometric data)."""
    doomed = [Doomed(d.thumbnail_key, d.camera_id) for d in detections if d.thumbnail_key]
    if doomed:
        session.execute(
            delete(Event).where(
                Event.type == FACE, Event.snapshot_key.in_([d.key for d in doomed])
            ),
            execution_options={"synchronize_session": False},
        )
    return enqueue(session, doomed, reason)


@dataclass
class _OwnerState:
    assigner: LiveAssigner
    mark: int  # change-log position the assigner was loaded at
    loaded_at: float


@dataclass(frozen=True)
class LiveResult:
    inserted: int
    assigned: int
    new_identities: int
    skipped: int  # faces of cameras with face recognition off (not stored)
    thumbnails_dropped: list[int]  # journal ids of their thumbnails, to drain after commit
    events: list[Row] = field(default_factory=list)  # face events, to publish after commit

    def count(self) -> None:
        """Add to the metrics, once the transaction is committed."""
        FACES_STORED.inc(self.inserted)
        FACES_ASSIGNED.inc(self.assigned)
        IDENTITIES_CREATED.inc(self.new_identities)
        FACES_NOT_KEPT.inc(self.skipped)


class LiveFaces:
    """Live assignment state of one store sink (one per dataflow partition)."""

    def __init__(
        self,
        *,
        threshold: float | None = None,
        reload_seconds: float = 60.0,
        visit_gap_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.visit_gap = timedelta(seconds=visit_gap_seconds)
        self.reload_seconds = reload_seconds
        self.clock = clock
        self._owners: dict[int, _OwnerState] = {}

    def reset(self) -> None:
        """Forget every owner's state (a transaction failed: reload from the table)."""
        self._owners.clear()

    def _assigner(self, session: Session, owner_id: int) -> LiveAssigner:
        mark = change_mark(session, owner_id)
        state = self._owners.get(owner_id)
        now = self.clock()
        if state is None or state.mark != mark or now - state.loaded_at >= self.reload_seconds:
            assigner = LiveAssigner(identity_refs(session, owner_id), threshold=self.threshold)
            state = self._owners[owner_id] = _OwnerState(assigner, mark, now)
        return state.assigner

    def insert(self, session: Session, rows: Iterable[Row]) -> LiveResult:
        """Insert face rows not stored yet, each with its identity (the caller commits)."""
        by_id = {row["face_detection_id"]: row for row in rows}
        if not by_id:
            return LiveResult(0, 0, 0, 0, [])
        present = set(
            session.scalars(select(FaceDetection.id).where(FaceDetection.id.in_(list(by_id))))
        )
        fresh = sorted(
            (r for fid, r in by_id.items() if fid not in present),
            key=lambda r: (r["ts"], r["face_detection_id"]),
        )
        cameras = {
            cid: (owner, enabled)
            for cid, owner, enabled in session.execute(
                select(Camera.id, Camera.owner_id, Camera.face_recognition).where(
                    Camera.id.in_({r["camera_id"] for r in fresh})
                )
            )
        }
        skipped: list[Row] = []
        touched: dict[tuple[int, int], list[Row]] = defaultdict(list)
        sightings: list[Sighting] = []
        created = assigned = 0
        assigners: dict[int, LiveAssigner] = {}
        for row in fresh:
            camera = cameras.get(row["camera_id"])
            if camera is None:  # deleted meanwhile: the insert fails and the sink drops it
                session.add(detection_of(row))
                continue
            owner_id, enabled = camera
            if not enabled:
                skipped.append(row)
                continue
            assigner = assigners.get(owner_id)
            if assigner is None:  # fresh once per batch: one change-log query per owner
                assigner = assigners[owner_id] = self._assigner(session, owner_id)
            quality = clamp_quality(row.get("quality"))
            track = (row["camera_id"], row["track_id"]) if row["track_id"] is not None else None
            choice = assigner.assign(row["embedding"], quality, track)
            face_id = choice.identity_id
            founded = face_id is None and choice.accepted
            if founded:
                face_id = new_identity(session, owner_id).id
                created += 1
            if face_id is not None:
                assigner.add(face_id, row["embedding"], quality, track)
                touched[(owner_id, face_id)].append(row)
                sightings.append(Sighting(row, face_id, choice.similarity, founded))
                assigned += 1
            session.add(detection_of(row, face_id))
        session.flush()
        for (owner_id, face_id), face_rows in touched.items():
            self._store_identity(session, owner_id, face_id, face_rows)
        events = face_events(session, sightings, gap=self.visit_gap)
        dropped = enqueue(
            session,
            [Doomed(r["thumbnail_key"], r["camera_id"]) for r in skipped if r["thumbnail_key"]],
            "orphan",
        )
        return LiveResult(
            len(fresh) - len(skipped), assigned, created, len(skipped), dropped, events
        )

    def _store_identity(
        self, session: Session, owner_id: int, face_id: int, rows: list[Row]
    ) -> None:
        ref = self._owners[owner_id].assigner.centroid(face_id)
        first = min(r["ts"] for r in rows)
        last = max(r["ts"] for r in rows)
        session.execute(
            update(Face)
            .where(Face.id == face_id)
            .values(
                centroid=encode(ref.centroid),
                weight=ref.weight,
                detection_count=Face.detection_count + len(rows),
                first_seen_at=case(
                    (Face.first_seen_at.is_(None) | (Face.first_seen_at > first), first),
                    else_=Face.first_seen_at,
                ),
                last_seen_at=case(
                    (Face.last_seen_at.is_(None) | (Face.last_seen_at < last), last),
                    else_=Face.last_seen_at,
                ),
            ),
            execution_options={"synchronize_session": False},
        )
