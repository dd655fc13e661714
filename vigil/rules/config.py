"""Tuning of the event rules. One frozen value shared by the live stream and batch replay."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from datetime import timedelta
from functools import cached_property


@dataclass(frozen=True)
class RulesConfig:
    """All durations are in seconds of input time (the observations' `ts`), never wall-clock.

    Intrusion:
      close_timeout_seconds: an intrusion event closes once none of its persons has been seen
        in the zone for this long; a re-entry before that continues the same event.
      presence_gap_seconds: a person's stay in a zone (for the dwell time) survives gaps
        shorter than this between in-zone sightings (missed detections, jitter on the line).
      intrusion_full_confidence_frames: in-zone sightings needed for full confidence.
    Motion:
      motion_enabled: derive motion events at all.
      motion_area_threshold: a frame is "active" when its moving area fraction is >= this.
      motion_min_seconds / motion_min_frames: an active run must span at least this long and
        hold at least this many active frames to open a motion event.
      motion_gap_seconds: an active run (before it opens an event) breaks on a gap this long.
      motion_quiet_timeout_seconds: an open motion event closes after this long without an
        active frame; shorter gaps are merged into it.
      motion_max_seconds: a motion event that is still active this long after its start
        closes and a new one continues from the next active frame, so a scene that never
        settles (a busy street, trees in wind) yields bounded events and clips.
      motion_full_confidence_area / motion_full_confidence_seconds: saturation points of the
        motion confidence (see motion.motion_confidence).
    Output:
      update_interval_seconds: an open event emits at most one 'update' per interval, except
        immediately when its peak changes or a person joins it.
    """

    close_timeout_seconds: float = 5.0
    presence_gap_seconds: float = 1.0
    intrusion_full_confidence_frames: int = 10
    motion_enabled: bool = True
    motion_area_threshold: float = 0.02
    motion_min_seconds: float = 2.0
    motion_min_frames: int = 3
    motion_gap_seconds: float = 1.0
    motion_quiet_timeout_seconds: float = 10.0
    motion_max_seconds: float = 300.0
    motion_full_confidence_area: float = 0.05
    motion_full_confidence_seconds: float = 5.0
    update_interval_seconds: float = 5.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type in ("float", float) and not (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and value >= 0
            ):
                raise ValueError(f"{f.name} must be a finite number >= 0, got {value!r}")
            if f.type in ("int", int) and not (
                isinstance(value, int) and not isinstance(value, bool) and value >= 1
            ):
                raise ValueError(f"{f.name} must be an integer >= 1, got {value!r}")
            if f.type in ("bool", bool) and not isinstance(value, bool):
                raise ValueError(f"{f.name} must be true or false, got {value!r}")
        for name in ("motion_area_threshold", "motion_full_confidence_area"):
            if not 0 < getattr(self, name) <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {getattr(self, name)!r}")
        for name in (
            "close_timeout_seconds",
            "presence_gap_seconds",
            "motion_gap_seconds",
            "motion_quiet_timeout_seconds",
            "motion_max_seconds",
            "motion_full_confidence_seconds",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")

    # timedeltas computed once: the engine compares them on every frame.
    @cached_property
    def close_timeout(self) -> timedelta:
        return timedelta(seconds=self.close_timeout_seconds)

    @cached_property
    def presence_gap(self) -> timedelta:
        return timedelta(seconds=self.presence_gap_seconds)

    @cached_property
    def motion_min_duration(self) -> timedelta:
        return timedelta(seconds=self.motion_min_seconds)

    @cached_property
    def motion_gap(self) -> timedelta:
        return timedelta(seconds=self.motion_gap_seconds)

    @cached_property
    def motion_quiet_timeout(self) -> timedelta:
        return timedelta(seconds=self.motion_quiet_timeout_seconds)

    @cached_property
    def motion_max_duration(self) -> timedelta:
        return timedelta(seconds=self.motion_max_seconds)

    @cached_property
    def update_interval(self) -> timedelta:
        return timedelta(seconds=self.update_interval_seconds)

    @cached_property
    def memory_horizon(self) -> timedelta:
        """No pending state outlives its last evidence by more than this (see replay)."""
        return max(
            self.close_timeout, self.presence_gap, self.motion_gap, self.motion_quiet_timeout
        )

    def outcome_fields(self) -> dict[str, object]:
        """The fields that change which events exist and their content (for fingerprints).

        update_interval_seconds only paces live 'update' messages, so it is left out.
        """
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name != "update_interval_seconds"
        }
