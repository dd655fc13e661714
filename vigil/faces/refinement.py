"""One refinement run: per owner, re-cluster the faces of the recent window (anchored on every
identity's centroid, so ids stay stable and an old identity can absorb new faces), then apply
the plan (vigil.faces.edits.apply_plan). Labelled identities and those a user merged or split
are held: refinement never merges them away nor takes their faces."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from vigil.db.models import Camera, Face, FaceDetection
from vigil.faces.cluster import FaceSample, refine
from vigil.faces.edits import PlanReport, apply_plan
from vigil.faces.store import clamp_quality, decode, identity_refs
from vigil.logs import get_logger

log = get_logger(__name__)


@dataclass
class RefineReport:
    owners: int = 0
    samples: int = 0
    reassigned: int = 0
    created: int = 0
    merges: list[tuple[int, int]] = field(default_factory=list)
    splits: int = 0
    stale: int = 0

    def add(self, samples: int, plan: PlanReport) -> None:
        self.owners += 1
        self.samples += samples
        self.reassigned += plan.reassigned
        self.created += len(plan.created)
        self.merges += plan.merges
        self.splits += plan.splits
        self.stale += plan.stale


def window_samples(session: Session, owner_id: int, since: datetime) -> list[FaceSample]:
    rows = session.execute(
        select(
            FaceDetection.id,
            FaceDetection.embedding,
            FaceDetection.quality,
            FaceDetection.camera_id,
            FaceDetection.track_id,
            FaceDetection.ts,
            FaceDetection.face_id,
        )
        .join(Camera, Camera.id == FaceDetection.camera_id)
        .where(
            Camera.owner_id == owner_id,
            FaceDetection.ts >= since,
            FaceDetection.embedding.is_not(None),
        )
        .order_by(FaceDetection.ts, FaceDetection.id)
    )
    return [
        FaceSample(did, decode(blob or b""), clamp_quality(q), cam, track, ts, fid)
        for did, blob, q, cam, track, ts, fid in rows
    ]


def refine_owner(
    session: Session, owner_id: int, since: datetime, *, threshold: float | None = None
) -> tuple[int, PlanReport]:
    """Refine one owner's window in the caller's transaction; returns (samples, report)."""
    samples = window_samples(session, owner_id, since)
    if not samples:
        return 0, PlanReport()
    held = set(
        session.scalars(select(Face.id).where(Face.owner_id == owner_id, Face.named | Face.pinned))
    )
    plan = refine(samples, held, threshold=threshold, identities=identity_refs(session, owner_id))
    return len(samples), apply_plan(session, owner_id, plan)


def owners_with_faces(session: Session, since: datetime) -> list[int]:
    return sorted(
        session.scalars(
            select(Camera.owner_id)
            .join(FaceDetection, FaceDetection.camera_id == Camera.id)
            .where(FaceDetection.ts >= since)
            .distinct()
        )
    )


def refine_all(
    sessions: sessionmaker[Session],
    since: datetime,
    *,
    threshold: float | None = None,
    on_owner: Callable[[int, int], None] | None = None,
) -> RefineReport:
    """Every owner with faces since `since`, each in its own transaction."""
    report = RefineReport()
    with sessions() as session:
        owners = owners_with_faces(session, since)
    for index, owner_id in enumerate(owners):
        with sessions() as session:
            samples, plan = refine_owner(session, owner_id, since, threshold=threshold)
            session.commit()
        report.add(samples, plan)
        log.info(
            "faces_refined",
            owner_id=owner_id,
            samples=samples,
            reassigned=plan.reassigned,
            created=len(plan.created),
            merges=len(plan.merges),
            splits=plan.splits,
            stale=plan.stale,
        )
        if on_owner is not None:
            on_owner(index + 1, len(owners))
    return report
