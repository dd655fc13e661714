"""CameraRules: one camera's zones and config applied frame by frame to an explicit state.

    rules = CameraRules("cam-1", zones, RulesConfig())
    state = rules.initial_state()
    for frame in frames:
        state, changes = rules.step(state, frame)

No I/O, no clock: time is the frames' ts. The same frames give the same changes (ids
included) in the live stream, in a replay, and after a restore from a pickled state.
`step` takes ownership of the state it is given and updates it in place (copying it every
frame would cost more than the rules); pickle it to keep a snapshot.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from vigil.rules import intrusion, motion
from vigil.rules.config import RulesConfig
from vigil.rules.geometry import PreparedPolygon
from vigil.rules.state import CameraState, ZoneState
from vigil.rules.types import Event, EventChange, Frame, PersonObservation, as_utc
from vigil.rules.zones import ZoneRule, fingerprint, zone_fingerprint


def _one_per_track(persons: Iterable[PersonObservation]) -> list[PersonObservation]:
    """Ascending track id, one detection per track (the best one), so that the order in which
    a frame's detections arrive never matters."""
    best: dict[int, PersonObservation] = {}
    for p in persons:
        seen = best.get(p.track_id)
        if seen is None or (p.score, p.bbox) > (seen.score, seen.bbox):
            best[p.track_id] = p
    return [best[t] for t in sorted(best)]


class CameraRules:
    """The rules of one camera. Cheap to rebuild from (camera_id, zones, config); the state is
    the only thing that needs keeping."""

    def __init__(
        self, camera_id: str, zones: Iterable[ZoneRule] = (), config: RulesConfig | None = None
    ) -> None:
        self.camera_id = camera_id
        self.config = config or RulesConfig()
        all_zones = sorted(zones, key=lambda z: z.zone_id)
        ids = [z.zone_id for z in all_zones]
        if len(set(ids)) != len(ids):
            raise ValueError(f"duplicate zone ids for camera {camera_id}: {ids}")
        for z in all_zones:
            if z.camera_id != camera_id:
                raise ValueError(
                    f"zone {z.zone_id} belongs to camera {z.camera_id}, not {camera_id}"
                )
        self.zones: tuple[ZoneRule, ...] = tuple(all_zones)
        self.fingerprint = fingerprint(all_zones, self.config)
        active = [z for z in all_zones if z.intrusion_enabled]
        self._zone_set = fingerprint(active, RulesConfig())  # geometry only, config-independent
        self._active: list[tuple[str, str, timedelta, PreparedPolygon]] = [
            (z.zone_id, zone_fingerprint(z), timedelta(seconds=z.min_dwell_seconds), z.prepared)
            for z in active
        ]

    def initial_state(self) -> CameraState:
        return CameraState(
            camera_id=self.camera_id,
            zones_fingerprint=self._zone_set,
            zones={zid: ZoneState(fp) for zid, fp, _, _ in self._active},
        )

    def _reconcile(self, state: CameraState, ts: datetime) -> list[EventChange]:
        """The zones were edited since the state was made: close the events of zones that
        changed or went away (end = their last sighting), start new zones empty."""
        changes: list[EventChange] = []
        wanted = {zid: fp for zid, fp, _, _ in self._active}
        for zid in sorted(state.zones):
            zs = state.zones[zid]
            if wanted.get(zid) != zs.fingerprint:
                changes += intrusion.close_zone(self.camera_id, zs, ts, self.config)
                del state.zones[zid]
        for zid, fp in wanted.items():
            state.zones.setdefault(zid, ZoneState(fp))
        state.zones_fingerprint = self._zone_set
        return changes

    def _step_zones(self, state: CameraState, frame: Frame, changes: list[EventChange]) -> bool:
        """Intrusion for every zone; True if someone was in a zone."""
        persons = _one_per_track(frame.persons)
        feet = [p.foot for p in persons]
        evidence = False
        for zid, _, dwell, polygon in self._active:
            zs = state.zones[zid]
            inside = [p for p, (x, y) in zip(persons, feet, strict=True) if polygon.contains(x, y)]
            if not inside and zs.event is None and not zs.candidates:
                continue  # idle zone, nobody in it: nothing to do (most frames of a day)
            evidence = evidence or bool(inside)
            changes += intrusion.step_zone(
                self.camera_id, zid, dwell, zs, frame.ts, frame.frame_id, inside, self.config
            )
        return evidence

    def step(self, state: CameraState, frame: Frame) -> tuple[CameraState, list[EventChange]]:
        """Apply one analysed frame. Changes come out in a fixed order: zones by id, then
        motion. Frames are ordered by (ts, frame_id); one not after the last one applied (a
        late or repeated frame) is skipped and counted in state.skipped_frames, so input
        delivered twice after a recovery cannot corrupt the state."""
        if frame.camera_id != self.camera_id or state.camera_id != self.camera_id:
            raise ValueError(
                f"rules for camera {self.camera_id} got frame of {frame.camera_id} "
                f"and state of {state.camera_id}"
            )
        ts = frame.ts
        if state.last_ts is not None and (ts, frame.frame_id) <= (
            state.last_ts,
            state.last_frame_id or 0,
        ):
            state.skipped_frames += 1
            return state, []
        changes: list[EventChange] = []
        if state.zones_fingerprint != self._zone_set:
            changes += self._reconcile(state, ts)

        evidence = self._step_zones(state, frame, changes)
        if self.config.motion_enabled:
            m = frame.motion
            evidence = evidence or (
                m is not None and m.area_fraction >= self.config.motion_area_threshold
            )
            changes += motion.step_motion(
                self.camera_id, state.motion, ts, frame.frame_id, m, self.config
            )

        state.last_ts, state.last_frame_id = ts, frame.frame_id
        state.frames += 1
        if evidence:
            state.last_evidence_ts = ts
        return state, changes

    def finish(self, state: CameraState, ts: datetime) -> tuple[CameraState, list[EventChange]]:
        """Close every open event now (end of a stream, a camera removed): each ends at its
        last evidence, and 'close' changes carry at=ts. Pending candidates and runs are
        dropped. The state is left idle and can go on stepping."""
        ts = as_utc(ts)
        changes: list[EventChange] = []
        for zid in sorted(state.zones):
            changes += intrusion.close_zone(self.camera_id, state.zones[zid], ts, self.config)
        changes += motion.close_motion(self.camera_id, state.motion, ts, self.config)
        return state, changes

    def open_events(self, state: CameraState) -> list[Event]:
        """The open events as they stand now (fresher than the last throttled 'update')."""
        out: list[Event] = []
        for zid in sorted(state.zones):
            event = state.zones[zid].event
            if event is not None:
                conf = intrusion.intrusion_confidence(event.evidence, self.config)
                out.append(event.snapshot(self.camera_id, conf, closed=False))
        if state.motion.event is not None:
            conf = motion.motion_confidence(state.motion.event.evidence, self.config)
            out.append(state.motion.event.snapshot(self.camera_id, conf, closed=False))
        return out
