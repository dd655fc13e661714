"""Batch replay: re-derive one camera's events for one time window (an hourly partition).

Which events belong to a window: those whose `start` is in [window_start, window_end).
An event that spans a partition boundary belongs to the partition where it starts, so
re-deriving partitions one by one yields each event exactly once.

How a window is replayed (what the Dagster asset does):
1. Read the camera's observations over read_window(window_start, window_end): from a
   lookback before the window (to rebuild the state the live stream had at window_start) to a
   lookahead after it (to see the end of events that start in the window). Passing an
   open-ended, lazy iterable instead is fine: replay stops reading as soon as every event
   that starts in the window is closed and no pending run could still open one.
2. Sort it (sort_observations) and call replay(). Events that start before window_start are
   computed (they shape the state) but not returned; they belong to the previous window.
3. Replace the window's events in the database with the result (ids are deterministic, so
   unchanged events keep their ids).

When is the result identical to the live stream's? Every piece of pending state dies at most
`config.memory_horizon` after the last evidence (an in-zone sighting or an active motion
frame). So if the input holds an evidence-free stretch longer than that horizon between its
start (`data_start`) and window_start, the live stream and the replay are both idle at the end
of it and agree on everything after: ReplayResult.synchronised says so. If not (someone in a
zone for the whole lookback), read a longer lookback and replay again.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import chain

from vigil.rules.config import RulesConfig
from vigil.rules.engine import CameraRules
from vigil.rules.frames import frames_from_observations
from vigil.rules.types import Event, EventChange, Observation, as_utc
from vigil.rules.zones import ZoneRule

DEFAULT_LOOKBACK = timedelta(minutes=10)
DEFAULT_LOOKAHEAD = timedelta(hours=1)


def read_window(
    window_start: datetime,
    window_end: datetime,
    lookback: timedelta = DEFAULT_LOOKBACK,
    lookahead: timedelta = DEFAULT_LOOKAHEAD,
) -> tuple[datetime, datetime]:
    """The span of observations to read to replay [window_start, window_end)."""
    return as_utc(window_start) - lookback, as_utc(window_end) + lookahead


@dataclass(frozen=True)
class ReplayResult:
    """events: the window's events, by (start, type, zone_id, event_id); open ones (end None)
        as they stood at the last frame read.
    synchronised: the input contained a stretch that proves the state at window_start equals
        the live stream's (see module doc); when False, earlier history might change events
        (unless the input starts where the camera's history starts: then it is exact too).
    complete: the input reached window_end and left nothing of the window pending; when
        False, more input could still close or open some of the window's events.
    frames: frames applied. last_ts: the last frame's ts (None without input).
    """

    events: tuple[Event, ...]
    synchronised: bool
    complete: bool
    frames: int
    last_ts: datetime | None


def _sort_key(e: Event) -> tuple[datetime, str, str, str]:
    return (e.start, e.type, e.zone_id or "", str(e.event_id))


def replay_with_report(
    observations: Iterable[Observation],
    zones: Iterable[ZoneRule],
    config: RulesConfig | None,
    window_start: datetime,
    window_end: datetime,
    *,
    camera_id: str | None = None,
    data_start: datetime | None = None,
    close_at_end: bool = False,
) -> ReplayResult:
    """Replay sorted observations of one camera; see the module doc for the protocol.

    camera_id defaults to the zones' camera, else the first observation's. data_start: the
    instant from which the input is known to be complete (default: its first observation);
    an earlier one lets a quiet lookback prove synchronisation. close_at_end: finish() the
    open events at the last frame instead of returning them open.
    """
    ws, we = as_utc(window_start, "window_start"), as_utc(window_end, "window_end")
    if ws >= we:
        raise ValueError(f"empty window: {ws.isoformat()} >= {we.isoformat()}")
    zone_list = list(zones)
    cfg = config or RulesConfig()
    camera = camera_id or (zone_list[0].camera_id if zone_list else None)
    horizon = cfg.memory_horizon
    found: dict[uuid.UUID, Event] = {}

    def keep(changes: list[EventChange]) -> None:
        for change in changes:
            if ws <= change.event.start < we:
                found[change.event.event_id] = change.event

    frames = frames_from_observations(observations)
    first = next(frames, None)
    if first is None:
        quiet = data_start is not None and ws - as_utc(data_start) > horizon
        return ReplayResult((), quiet, False, 0, None)
    rules = CameraRules(camera or first.camera_id, zone_list, cfg)
    state = rules.initial_state()
    # Start of the current evidence-free stretch (live and replay agree after a long one).
    quiet_since = as_utc(data_start, "data_start") if data_start is not None else first.ts
    synchronised = reached_start = complete = False
    for frame in chain((first,), frames):
        if not reached_start and frame.ts >= ws:
            reached_start = True
            synchronised = synchronised or ws - quiet_since > horizon
        state, changes = rules.step(state, frame)
        keep(changes)
        if not reached_start and state.last_evidence_ts == frame.ts:
            synchronised = synchronised or frame.ts - quiet_since > horizon
            quiet_since = frame.ts
        if frame.ts >= we and not any(ws <= s < we for s in state.pending_starts()):
            complete = True
            break
    if not reached_start:
        synchronised = synchronised or ws - quiet_since > horizon

    if close_at_end and not complete and state.last_ts is not None:
        state, changes = rules.finish(state, state.last_ts)
        keep(changes)
    else:
        keep([EventChange("update", state.last_ts or ws, e) for e in rules.open_events(state)])
    events = tuple(sorted(found.values(), key=_sort_key))
    return ReplayResult(events, synchronised, complete, state.frames, state.last_ts)


def replay(
    observations: Iterable[Observation],
    zones: Iterable[ZoneRule],
    config: RulesConfig | None,
    window_start: datetime,
    window_end: datetime,
    *,
    camera_id: str | None = None,
    data_start: datetime | None = None,
    close_at_end: bool = False,
) -> list[Event]:
    """The events that start in [window_start, window_end); see replay_with_report."""
    return list(
        replay_with_report(
            observations,
            zones,
            config,
            window_start,
            window_end,
            camera_id=camera_id,
            data_start=data_start,
            close_at_end=close_at_end,
        ).events
    )
