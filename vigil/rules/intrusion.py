"""Intrusion: a tracked person standing in an intrusion-enabled zone for the zone's dwell time.

Per zone, per frame (`step_zone`), in this order:
1. Close: an open event whose last in-zone sighting is >= close_timeout old closes, with
   end = that sighting. This runs before the frame's sightings, so a person coming back after
   exactly the timeout starts a new event (after its own dwell), never extends the old one.
2. Forget candidates (persons not yet past the dwell) not seen in the zone for
   >= presence_gap. A track the tracker lost and one it still holds but did not detect are
   treated alike: only in-zone sightings and time count, so a tracker that reports briefly
   missed tracks as lost cannot make dwell times flicker.
3. Sightings (the person's foot, the box's bottom-centre, is in the zone):
   - event open: the sighting joins it (a new track is added to track_ids);
   - otherwise it extends that track's candidate run. When a run sighted now spans
     >= min_dwell_seconds (last - first sighting), the event opens with every current
     candidate as a member: start = their earliest first sighting, first_track_id = that
     track (lowest id on ties).
4. Updates: see OpenEvent.due.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from vigil.rules.config import RulesConfig
from vigil.rules.state import Evidence, OpenEvent, ZoneState
from vigil.rules.types import EventChange, PersonObservation, event_id_for


def intrusion_confidence(evidence: Evidence, config: RulesConfig) -> float:
    """confidence = mean_score * min(1, frames_in_zone / intrusion_full_confidence_frames).

    mean_score is the mean detection score over every in-zone sighting of the event's persons
    (so each person weighs by the frames it spent in the zone); the second factor discounts
    events seen on only a few frames. Both are in [0, 1], so the product is.
    """
    factor = min(1.0, evidence.frames / config.intrusion_full_confidence_frames)
    return min(1.0, evidence.mean_score * factor)


def _open(
    camera_id: str, zone_id: str, zs: ZoneState, ts: datetime, config: RulesConfig
) -> EventChange:
    members = sorted(zs.candidates.items(), key=lambda kv: (kv[1].first_ts, kv[0]))
    first_track, first = members[0]
    evidence = replace(first)
    for _, other in members[1:]:
        evidence.absorb(other)
    event = OpenEvent(
        event_id=event_id_for(camera_id, "intrusion", zone_id, evidence.first_ts, first_track),
        type="intrusion",
        zone_id=zone_id,
        start=evidence.first_ts,
        first_track_id=first_track,
        evidence=evidence,
        track_ids={track for track, _ in members},
        last_emit_at=ts,
    )
    zs.candidates = {}
    zs.event = event
    return event.change("open", ts, camera_id, intrusion_confidence(evidence, config))


def step_zone(
    camera_id: str,
    zone_id: str,
    dwell: timedelta,
    zs: ZoneState,
    ts: datetime,
    frame_id: int,
    inside: Sequence[PersonObservation],
    config: RulesConfig,
) -> list[EventChange]:
    """Apply one frame to one zone. `inside`: the frame's persons whose foot is in the zone,
    one per track, ascending track id."""
    changes: list[EventChange] = []
    event = zs.event
    if event is not None and ts - event.evidence.last_ts >= config.close_timeout:
        changes.append(
            event.change("close", ts, camera_id, intrusion_confidence(event.evidence, config))
        )
        zs.event = event = None

    if zs.candidates:
        gap = config.presence_gap
        stale = [track for track, run in zs.candidates.items() if ts - run.last_ts >= gap]
        for track in stale:
            del zs.candidates[track]

    if event is None:
        dwelled = False
        for p in inside:
            run = zs.candidates.get(p.track_id)
            if run is None:
                run = zs.candidates[p.track_id] = Evidence.first(
                    ts, frame_id, p.score, p.track_id, p.bbox
                )
            else:
                run.add(ts, frame_id, p.score, p.track_id, p.bbox)
            dwelled = dwelled or run.last_ts - run.first_ts >= dwell
        if dwelled:
            changes.append(_open(camera_id, zone_id, zs, ts, config))
        return changes

    urgent = False
    for p in inside:
        urgent |= event.evidence.add(ts, frame_id, p.score, p.track_id, p.bbox)
        if p.track_id not in event.track_ids:
            event.track_ids.add(p.track_id)
            urgent = True
        event.dirty = True
    if event.due(ts, urgent, config.update_interval):
        changes.append(
            event.change("update", ts, camera_id, intrusion_confidence(event.evidence, config))
        )
    return changes


def close_zone(
    camera_id: str, zs: ZoneState, ts: datetime, config: RulesConfig
) -> list[EventChange]:
    """Close the zone's event now (end = its last sighting) and forget its candidates."""
    zs.candidates = {}
    event, zs.event = zs.event, None
    if event is None:
        return []
    return [event.change("close", ts, camera_id, intrusion_confidence(event.evidence, config))]
