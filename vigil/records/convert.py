"""Conversions between the vision layer's results, lake/Kafka rows and the rules' inputs.

The live dataflow and the Dagster replay must feed the rules exactly the same observations, so
both go through rows: the live path builds the rows it stores (values rounded to the float32
the lake keeps) and derives the rules' frame from those rows with the same function the replay
uses on rows read back from Parquet.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import numpy as np

from vigil.rules.types import Event, EventChange, FrameTick, MotionObservation, Observation
from vigil.rules.types import Frame as RuleFrame
from vigil.rules.types import PersonObservation as RulePerson
from vigil.vision.types import BBox, FaceObservation, FrameAnalysis

Row = dict[str, Any]
FACE_NAMESPACE = uuid.UUID("5b0c3f0e-9d4c-4b8e-a3f1-6f0d2a7c9e11")


def f32(value: float) -> float:
    """The value as the lake stores it (float32), so live and replay see identical numbers."""
    return float(np.float32(value))


def _box(box: BBox) -> list[float]:
    return [f32(min(max(v, 0.0), 1.0)) for v in box.as_tuple()]


def frame_row(analysis: FrameAnalysis, camera_id: int) -> Row:
    return {
        "camera_id": camera_id,
        "ts": analysis.ts,
        "frame_index": analysis.frame_index,
        "width": analysis.width,
        "height": analysis.height,
        "analysed": analysis.analysed,
        "skipped_by_gate": analysis.skipped_by_gate,
        "motion_area": f32(min(max(analysis.motion_area, 0.0), 1.0)),
        "motion_calibrating": analysis.motion_calibrating,
        "scene_change": analysis.scene_change,
        "motion_boxes": [_box(b) for b in analysis.motion_boxes_norm],
        "track_ids": sorted({p.track_id for p in analysis.persons if p.track_id is not None}),
        "persons": len(analysis.persons),
        "inference_ms": f32(analysis.inference_ms),
        "total_ms": f32(analysis.total_ms),
    }


def detection_rows(analysis: FrameAnalysis, camera_id: int) -> list[Row]:
    return [
        {
            "camera_id": camera_id,
            "ts": analysis.ts,
            "frame_index": analysis.frame_index,
            "index": index,
            "label": "person",
            "class_name": person.class_name,
            "track_id": person.track_id,
            "score": f32(person.score),
            "bbox": _box(person.bbox_norm),
            "stationary": person.stationary,
            "detected": person.detected,
        }
        for index, person in enumerate(analysis.persons)
    ]


def face_detection_id(camera_id: int, face: FaceObservation) -> str:
    """Deterministic: the same face of the same frame always gets the same id."""
    key = f"{camera_id}\x1f{face.ts.isoformat()}\x1f{face.frame_index}\x1f{face.bbox.as_tuple()}"
    return str(uuid.uuid5(FACE_NAMESPACE, key))


def face_row(face: FaceObservation, camera_id: int, thumbnail_key: str | None) -> Row:
    return {
        "face_detection_id": face_detection_id(camera_id, face),
        "camera_id": camera_id,
        "ts": face.ts,
        "frame_index": face.frame_index,
        "track_id": face.track_id,
        "bbox": _box(face.bbox_norm),
        "score": f32(face.score),
        "blur": f32(face.blur),
        "quality": f32(face.quality),
        "embedding": [float(v) for v in np.asarray(face.embedding, dtype=np.float32)],
        "thumbnail_key": thumbnail_key,
    }


# --- rows -> rules ---------------------------------------------------------------------------
def rule_persons(frame: Row, detections: Iterable[Row]) -> tuple[RulePerson, ...]:
    """Tracked persons only: an unconfirmed detection (track_id None) is not yet a person the
    rules can follow. Tracker-carried boxes (detected=False) count: a person standing still
    in a zone is still there."""
    camera = str(frame["camera_id"])
    return tuple(
        RulePerson(
            camera,
            frame["ts"],
            int(frame["frame_index"]),
            int(d["track_id"]),
            min(max(float(d["score"]), 0.0), 1.0),
            tuple(float(v) for v in d["bbox"]),  # type: ignore[arg-type]
        )
        for d in detections
        if d["track_id"] is not None
    )


def rule_motion(frame: Row) -> MotionObservation:
    return MotionObservation(
        str(frame["camera_id"]),
        frame["ts"],
        int(frame["frame_index"]),
        float(frame["motion_area"]),
        tuple(tuple(float(v) for v in box) for box in frame["motion_boxes"]),  # type: ignore[misc]
    )


def rule_frame(frame: Row, detections: Iterable[Row]) -> RuleFrame:
    """One analysed frame as the rules' live input."""
    return RuleFrame(
        camera_id=str(frame["camera_id"]),
        ts=frame["ts"],
        frame_id=int(frame["frame_index"]),
        persons=rule_persons(frame, detections),
        motion=rule_motion(frame),
        track_ids=frozenset(int(t) for t in frame["track_ids"]),
    )


def rule_observations(frames: Iterable[Row], detections: Iterable[Row]) -> Iterator[Observation]:
    """Lake rows (both sorted by ts) as the rules' batch input: per frame a FrameTick, its
    motion, then its persons. Detections of frames missing from `frames` are ignored, as the
    live path never saw them either."""
    pending = iter(detections)
    detection = next(pending, None)
    for frame in frames:
        ts: datetime = frame["ts"]
        while detection is not None and detection["ts"] < ts:
            detection = next(pending, None)
        same_frame = []
        while detection is not None and detection["ts"] == ts:
            same_frame.append(detection)
            detection = next(pending, None)
        yield FrameTick(
            str(frame["camera_id"]),
            ts,
            int(frame["frame_index"]),
            frozenset(int(t) for t in frame["track_ids"]),
        )
        yield rule_motion(frame)
        yield from rule_persons(frame, same_frame)


# --- rules -> rows ---------------------------------------------------------------------------
def event_row(change: EventChange) -> Row:
    event = change.event
    return {
        "event_id": str(event.event_id),
        "change": change.kind,
        "at": change.at,
        "camera_id": int(event.camera_id),
        "ts": event.start,
        "type": event.type,
        "zone_id": int(event.zone_id) if event.zone_id is not None else None,
        "start": event.start,
        "end": event.end,
        "last_seen": event.last_seen,
        "confidence": f32(event.confidence),
        "peak_ts": event.peak_ts,
        "peak_frame_index": event.peak_frame_id,
        "peak_score": f32(event.peak_score),
        "peak_track_id": event.peak_track_id,
        "peak_bbox": list(event.peak_bbox) if event.peak_bbox is not None else None,
        "track_ids": list(event.track_ids),
        "frames_in_zone": event.frames_in_zone,
    }


def event_summary(event: Event) -> Row:
    """The fields an alert or a log line needs."""
    return {
        "event_id": str(event.event_id),
        "type": event.type,
        "camera_id": int(event.camera_id),
        "zone_id": event.zone_id,
        "start": event.start,
        "confidence": round(event.confidence, 3),
    }
