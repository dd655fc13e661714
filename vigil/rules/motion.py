"""Motion: camera-wide sustained motion (zone_id None).

A frame is active when its moving area fraction is >= motion_area_threshold. Per frame
(`step_motion`), in this order:
1. Close: an open event whose last active frame is >= motion_quiet_timeout old closes, with
   end = that frame. Shorter quiet gaps are merged into the event.
2. Break the pending run if its last active frame is >= motion_gap old.
3. An active frame joins the open event, or extends the run; a run spanning
   >= motion_min_seconds (last - first active frame) with >= motion_min_frames active frames
   becomes an event with start = its first active frame.
4. Split: an active frame at >= motion_max_seconds after the open event's start closes it
   (end = its last active frame) and opens the next event at this frame, without waiting for
   motion_min_seconds again: the motion never stopped.
5. Updates: see OpenEvent.due.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from vigil.rules.config import RulesConfig
from vigil.rules.state import Evidence, MotionState, OpenEvent
from vigil.rules.types import BBox, EventChange, MotionObservation, event_id_for


def motion_confidence(evidence: Evidence, config: RulesConfig) -> float:
    """confidence = min(1, mean_area / motion_full_confidence_area)
                  * min(1, duration / motion_full_confidence_seconds)

    mean_area: mean moving-area fraction over the event's active frames; duration: first to
    last active frame. Large and lasting motion scores 1; a short flicker of a few pixels
    scores near 0. Both factors are in [0, 1], so the product is.
    """
    area = min(1.0, evidence.mean_score / config.motion_full_confidence_area)
    seconds = (evidence.last_ts - evidence.first_ts).total_seconds()
    return area * min(1.0, seconds / config.motion_full_confidence_seconds)


def union_box(boxes: Sequence[BBox]) -> BBox | None:
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def step_motion(
    camera_id: str,
    ms: MotionState,
    ts: datetime,
    frame_id: int,
    motion: MotionObservation | None,
    config: RulesConfig,
) -> list[EventChange]:
    """Apply one frame's motion measurement (None: none was made) to the camera's motion."""
    changes: list[EventChange] = []
    event = ms.event
    if event is not None and ts - event.evidence.last_ts >= config.motion_quiet_timeout:
        changes.append(
            event.change("close", ts, camera_id, motion_confidence(event.evidence, config))
        )
        ms.event = event = None
    if ms.run is not None and ts - ms.run.last_ts >= config.motion_gap:
        ms.run = None

    active = motion is not None and motion.area_fraction >= config.motion_area_threshold
    if event is None:
        if motion is None or not active:
            return changes
        box = union_box(motion.boxes)
        run = ms.run
        if run is None:
            run = ms.run = Evidence.first(ts, frame_id, motion.area_fraction, None, box)
        else:
            run.add(ts, frame_id, motion.area_fraction, None, box)
        if (
            run.frames >= config.motion_min_frames
            and run.last_ts - run.first_ts >= config.motion_min_duration
        ):
            ms.run = None
            changes.append(_open(camera_id, ms, run, ts, config))
        return changes

    if motion is not None and active and ts - event.start >= config.motion_max_duration:
        changes.append(
            event.change("close", ts, camera_id, motion_confidence(event.evidence, config))
        )
        box = union_box(motion.boxes)
        successor = Evidence.first(ts, frame_id, motion.area_fraction, None, box)
        changes.append(_open(camera_id, ms, successor, ts, config))
        return changes

    urgent = False
    if motion is not None and active:
        urgent = event.evidence.add(
            ts, frame_id, motion.area_fraction, None, union_box(motion.boxes)
        )
        event.dirty = True
    if event.due(ts, urgent, config.update_interval):
        changes.append(
            event.change("update", ts, camera_id, motion_confidence(event.evidence, config))
        )
    return changes


def _open(
    camera_id: str, ms: MotionState, evidence: Evidence, ts: datetime, config: RulesConfig
) -> EventChange:
    ms.event = OpenEvent(
        event_id=event_id_for(camera_id, "motion", None, evidence.first_ts, None),
        type="motion",
        zone_id=None,
        start=evidence.first_ts,
        first_track_id=None,
        evidence=evidence,
        track_ids=set(),
        last_emit_at=ts,
    )
    return ms.event.change("open", ts, camera_id, motion_confidence(evidence, config))


def close_motion(
    camera_id: str, ms: MotionState, ts: datetime, config: RulesConfig
) -> list[EventChange]:
    """Close the motion event now (end = its last active frame) and drop the pending run."""
    ms.run = None
    event, ms.event = ms.event, None
    if event is None:
        return []
    return [event.change("close", ts, camera_id, motion_confidence(event.evidence, config))]
