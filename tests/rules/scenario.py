"""Crafted detection sequences for the rules tests: frames at a fixed rate from a script."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from vigil.rules import (
    CameraRules,
    CameraState,
    Event,
    EventChange,
    Frame,
    FrameTick,
    MotionObservation,
    Observation,
    PersonObservation,
    RulesConfig,
    ZoneRule,
)

CAM = "cam-1"
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
FPS = 5

# Two zones side by side on the floor (lower half of the frame) and a gap between them.
RECT_A = ((0.1, 0.5), (0.4, 0.5), (0.4, 1.0), (0.1, 1.0))
RECT_B = ((0.6, 0.5), (0.9, 0.5), (0.9, 1.0), (0.6, 1.0))
IN_A = (0.25, 0.8)
IN_B = (0.75, 0.8)
OUTSIDE = (0.5, 0.3)


def at(seconds: float) -> datetime:
    return T0 + timedelta(microseconds=round(seconds * 1_000_000))


def zone(
    zone_id: str = "A",
    polygon: Sequence[tuple[float, float]] = RECT_A,
    dwell: float = 0.0,
    enabled: bool = True,
    camera_id: str = CAM,
) -> ZoneRule:
    return ZoneRule(zone_id, camera_id, f"zone {zone_id}", tuple(polygon), enabled, dwell)


def box_with_foot(
    x: float, y: float, w: float = 0.1, h: float = 0.3
) -> tuple[float, float, float, float]:
    """A person box whose bottom-centre is exactly (x, y)."""
    return (x - w / 2, y - h, x + w / 2, y)


# A person in one frame: (track_id, foot point, score).
Person = tuple[int, tuple[float, float], float]


@dataclass
class Script:
    """people(t) -> persons seen at t; motion(t) -> area fraction or None; ticks: send a
    FrameTick listing the tracker's tracks (live(t), default: every track seen so far)."""

    seconds: float
    people: Callable[[float], Iterable[Person]] = lambda t: ()
    motion: Callable[[float], float | None] = lambda t: None
    ticks: bool = True
    live: Callable[[float], Iterable[int]] | None = None
    fps: int = FPS
    start: float = 0.0

    def frames(self) -> list[Frame]:
        out = []
        seen: set[int] = set()
        n = round(self.seconds * self.fps)
        first = round(self.start * self.fps)
        for i in range(first, first + n + 1):
            t = i / self.fps
            ts = at(t)
            persons = tuple(
                PersonObservation(CAM, ts, i, track, score, box_with_foot(*foot))
                for track, foot, score in self.people(t)
            )
            area = self.motion(t)
            motion = (
                None
                if area is None
                else MotionObservation(CAM, ts, i, area, ((0.1, 0.1, 0.3, 0.3),))
            )
            seen.update(p.track_id for p in persons)
            alive: frozenset[int] | None = None
            if self.ticks:
                alive = frozenset(self.live(t)) if self.live else frozenset(seen)
            out.append(Frame(CAM, ts, i, persons, motion, alive))
        return out


def observations_of(frames: Iterable[Frame]) -> list[Observation]:
    """Flatten frames into lake-style rows (persons first, to show order inside a frame is free)."""
    out: list[Observation] = []
    for f in frames:
        out.extend(f.persons)
        if f.motion is not None:
            out.append(f.motion)
        if f.track_ids is not None:
            out.append(FrameTick(f.camera_id, f.ts, f.frame_id, f.track_ids))
    return out


def run(
    rules: CameraRules, frames: Iterable[Frame], state: CameraState | None = None
) -> tuple[CameraState, list[EventChange]]:
    state = state if state is not None else rules.initial_state()
    changes: list[EventChange] = []
    for f in frames:
        state, step_changes = rules.step(state, f)
        changes.extend(step_changes)
    return state, changes


def final_events(changes: Iterable[EventChange]) -> dict[str, Event]:
    """What a live consumer upserting every change ends up with, keyed by str(event_id)."""
    out: dict[str, Event] = {}
    for c in changes:
        out[str(c.event.event_id)] = c.event
    return out


def kinds(changes: Iterable[EventChange]) -> list[tuple[str, str, str | None]]:
    return [(c.kind, c.event.type, c.event.zone_id) for c in changes]


def during(t: float, *spans: tuple[float, float]) -> bool:
    """Is t within one of the closed [start, end] spans (with float slack)?"""
    return any(a - 1e-9 <= t <= b + 1e-9 for a, b in spans)


def rules_for(*zones: ZoneRule, **config: object) -> CameraRules:
    return CameraRules(CAM, zones, RulesConfig(**config))  # type: ignore[arg-type]
