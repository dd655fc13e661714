"""Face events: a named identity appearing at a camera, or a new unknown identity founded.

Decided by live assignment, inside the store sink's transaction (vigil.faces.store), so the
event row, its face rows and its identity commit together; the sink then publishes the
returned records to the events topic through its outbox (vigil.streaming.outbox), like the
rules' events, for the alert service. One per
identity per camera per visit (appearances less than the visit gap apart are one visit, as
on the timeline), never for every frame. The rules never derive them, so a replay leaves them
alone; they go with their identity (the events.face_id foreign key cascades).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from vigil.db.models import Event, Face, FaceDetection
from vigil.records.convert import Row

FACE = "face"
FACE_EVENT_NAMESPACE = uuid.UUID("5b0d6f3e-3f5c-4a55-9a53-2f6f3d1c7e21")


@dataclass(frozen=True)
class Sighting:
    """A face row just given an identity by live assignment."""

    row: Row
    face_id: int
    similarity: float  # to the identity it joined (for a founding face: to the nearest other)
    founded: bool  # this face founded its identity


def face_event_id(camera_id: int, face_id: int, face_detection_id: str) -> str:
    """Deterministic: the face row that opened the visit names the event."""
    return str(uuid.uuid5(FACE_EVENT_NAMESPACE, f"{camera_id}\x1f{face_id}\x1f{face_detection_id}"))


def _visit_starts(group: list[Sighting], gap: timedelta) -> list[list[Sighting]]:
    visits: list[list[Sighting]] = []
    for s in group:
        if not visits or s.row["ts"] - visits[-1][-1].row["ts"] > gap:
            visits.append([])
        visits[-1].append(s)
    return visits


def _seen_before(session: Session, sighting: Sighting, exclude: list[str]) -> datetime | None:
    return session.scalar(
        select(func.max(FaceDetection.ts)).where(
            FaceDetection.face_id == sighting.face_id,
            FaceDetection.camera_id == sighting.row["camera_id"],
            FaceDetection.ts <= sighting.row["ts"],
            FaceDetection.id.not_in(exclude),
        )
    )


def face_events(session: Session, sightings: Iterable[Sighting], *, gap: timedelta) -> list[Row]:
    """Add the face events `sightings` open (their face rows are flushed already); returns
    their events-topic records, to publish once the transaction commits."""
    groups: dict[tuple[int, int], list[Sighting]] = defaultdict(list)
    for s in sightings:
        groups[(int(s.row["camera_id"]), s.face_id)].append(s)
    if not groups:
        return []
    identities = {
        fid: (bool(named), label)
        for fid, named, label in session.execute(
            select(Face.id, Face.named, Face.label).where(Face.id.in_({f for _, f in groups}))
        )
    }
    records: list[Row] = []
    for (_camera, face_id), group in sorted(groups.items()):
        named, label = identities.get(face_id, (False, ""))
        founded = any(s.founded for s in group)
        if not named and not founded:
            continue  # an unknown identity alerts once, when it is founded
        group.sort(key=lambda s: (s.row["ts"], s.row["face_detection_id"]))
        visits = _visit_starts(group, gap)
        if founded:
            visits = visits[:1]
        else:
            before = _seen_before(session, group[0], [s.row["face_detection_id"] for s in group])
            if before is not None and group[0].row["ts"] - before <= gap:
                visits = visits[1:]  # the first rows continue a visit already under way
        for visit in visits:
            records.append(_add_event(session, visit, label if named else None, founded))
    return records


def _add_event(session: Session, visit: list[Sighting], label: str | None, founded: bool) -> Row:
    first = visit[0]
    row = first.row
    camera_id, ts = int(row["camera_id"]), row["ts"]
    pictured = next((s.row for s in visit if s.row.get("thumbnail_key")), row)
    quality = float(row.get("quality") or 0.0)
    confidence = min(max(quality if founded else first.similarity, 0.0), 1.0)
    event_id = face_event_id(camera_id, first.face_id, row["face_detection_id"])
    tracks = sorted({int(s.row["track_id"]) for s in visit if s.row["track_id"] is not None})
    if session.get(Event, event_id) is None:
        session.add(
            Event(
                id=event_id,
                camera_id=camera_id,
                zone_id=None,
                type=FACE,
                status="closed",  # a moment, not a span: the timeline holds the visit
                start_ts=ts,
                end_ts=ts,
                confidence=confidence,
                peak_ts=pictured["ts"],
                peak_score=float(pictured["score"]),
                snapshot_key=pictured.get("thumbnail_key"),
                track_ids=tracks,
                frames=len(visit),
                source="live",
                face_id=first.face_id,
            )
        )
    return {
        "event_id": event_id,
        "change": "open",
        "at": ts,
        "camera_id": camera_id,
        "ts": ts,
        "type": FACE,
        "zone_id": None,
        "start": ts,
        "end": ts,
        "last_seen": visit[-1].row["ts"],
        "confidence": confidence,
        "peak_ts": pictured["ts"],
        "peak_frame_index": int(pictured.get("frame_index") or 0),
        "peak_score": float(pictured["score"]),
        "peak_track_id": pictured["track_id"],
        "peak_bbox": list(pictured["bbox"]),
        "track_ids": tracks,
        "frames_in_zone": len(visit),
        "face_id": first.face_id,
        "label": label,
        "new_identity": founded,
    }
