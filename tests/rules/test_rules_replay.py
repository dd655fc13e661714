"""Batch replay over hourly partitions equals the live stream: same events, same ids."""

from __future__ import annotations

from datetime import timedelta

import pytest

from vigil.rules import (
    CameraRules,
    Event,
    FrameTick,
    RulesConfig,
    read_window,
    replay,
    replay_with_report,
    sort_observations,
)

from .scenario import (
    CAM,
    IN_A,
    IN_B,
    RECT_A,
    RECT_B,
    T0,
    Script,
    at,
    during,
    final_events,
    observations_of,
    run,
    zone,
)

HOUR = 3600.0
ZONES = (zone("A", RECT_A, dwell=2), zone("B", RECT_B, dwell=2))
CONFIG = RulesConfig()


def three_hours() -> Script:
    """10:00-13:00 at 2 fps, with events inside hours, across a boundary and open at the end."""

    def people(t):
        out = []
        if during(t, (300, 360)):  # 10:05-10:06
            out.append((1, IN_A, 0.9))
        if during(t, (HOUR - 20, HOUR + 40)):  # 10:59:40-11:00:40: spans 11:00
            out.append((2, IN_A, 0.8))
        if during(t, (HOUR, HOUR + 30)):  # starts exactly at 11:00:00
            out.append((3, IN_B, 0.7))
        if during(t, (2 * HOUR - 2, 2 * HOUR + 60)):  # starts 11:59:58, opens 12:00:00
            out.append((4, IN_B, 0.85))
        if t >= 2 * HOUR + 1200:  # from 12:20 to the end of the data, never leaves
            out.append((5, IN_A, 0.6))
        return out

    def motion(t):
        return 0.1 if during(t, (5400, 5410), (HOUR - 5, HOUR + 5)) else 0.0

    return Script(3 * HOUR - 0.5, people, motion, fps=2)


@pytest.fixture(scope="module")
def recorded():
    frames = three_hours().frames()
    rules = CameraRules(CAM, ZONES, CONFIG)
    state, changes = run(rules, frames)
    live = {**final_events(changes), **{str(e.event_id): e for e in rules.open_events(state)}}
    return observations_of(frames), live


def test_one_replay_of_everything_equals_the_live_stream(recorded):
    observations, live = recorded
    events = replay(observations, ZONES, CONFIG, T0, at(3 * HOUR))
    assert {str(e.event_id): e for e in events} == live
    assert [e.start for e in events] == sorted(e.start for e in events)
    assert len(events) == 7
    assert sum(e.is_open for e in events) == 1


def test_hourly_partitions_give_each_live_event_exactly_once(recorded):
    observations, live = recorded
    seen: list[Event] = []
    for hour in range(3):
        ws, we = at(hour * HOUR), at((hour + 1) * HOUR)
        start, until = read_window(ws, we)
        rows = [o for o in observations if start <= o.ts < until]
        result = replay_with_report(rows, ZONES, CONFIG, ws, we, data_start=start)
        assert result.synchronised, f"hour {hour}"
        assert all(ws <= e.start < we for e in result.events)
        seen.extend(result.events)
        if hour == 0:
            spanning = [e for e in result.events if e.first_track_id == 2]
            # Starts in the first hour, so it is the first hour's, with its end from the lookahead.
            assert len(spanning) == 1 and spanning[0].end == at(HOUR + 40)
        if hour == 1:
            at_boundary = [e for e in result.events if e.first_track_id in (3, 4)]
            assert [e.start for e in at_boundary] == [at(HOUR), at(2 * HOUR - 2)]
    assert len(seen) == len(live)
    assert {str(e.event_id): e for e in seen} == live


def test_replay_stops_reading_once_the_window_is_settled(recorded):
    observations, _ = recorded
    ws, we = at(0), at(HOUR)
    consumed = []

    def lake():
        for obs in observations:
            consumed.append(obs)
            yield obs

    result = replay_with_report(lake(), ZONES, CONFIG, ws, we)
    assert result.complete
    # The boundary-spanning intrusion closes at 11:00:45 and the motion run at 11:00:15:
    # reading stops there instead of at the end of the data.
    assert result.last_ts == at(HOUR + 45)
    assert len(consumed) < len(observations) / 2


def test_an_event_still_open_at_the_end_of_the_data(recorded):
    observations, live = recorded
    result = replay_with_report(observations, ZONES, CONFIG, at(2 * HOUR), at(3 * HOUR))
    assert not result.complete
    (loiterer,) = [e for e in result.events if e.is_open]
    assert loiterer.first_track_id == 5 and loiterer.start == at(2 * HOUR + 1200)
    assert loiterer == live[str(loiterer.event_id)]
    closed = replay(observations, ZONES, CONFIG, at(2 * HOUR), at(3 * HOUR), close_at_end=True)
    (finished,) = [e for e in closed if e.first_track_id == 5]
    assert finished.event_id == loiterer.event_id and finished.end == at(3 * HOUR - 0.5)


def test_without_a_quiet_stretch_the_replay_says_it_may_differ():
    # X dwells in A from 10:59:00 to 10:59:58; Y stands in A 11:00:02-11:00:05, joining X's event.
    def people(t):
        out = [(1, IN_A, 0.9)] if during(t, (-60, -2)) else []
        return out + ([(2, IN_A, 0.9)] if during(t, (2, 5)) else [])

    frames = Script(80, people, start=-60).frames()
    rules = CameraRules(CAM, ZONES, CONFIG)
    _, changes = run(rules, frames)
    live_in_window = [e for e in final_events(changes).values() if e.start >= T0]
    assert live_in_window == []  # Y joined the event that started at 10:59:00

    rows = [o for o in observations_of(frames) if o.ts >= at(-1)]  # a 1 s lookback
    short = replay_with_report(rows, ZONES, CONFIG, T0, at(3600), data_start=at(-1))
    assert not short.synchronised
    assert len(short.events) == 1  # it cannot know about X, so Y gets an event of its own
    # From the start of the camera's history the replay is exact (its flag stays conservative).
    full = replay_with_report(observations_of(frames), ZONES, CONFIG, T0, at(3600))
    assert full.events == ()


def test_bad_input_is_refused():
    frames = Script(5, lambda t: [(1, IN_A, 0.9)]).frames()
    rows = observations_of(frames)
    with pytest.raises(ValueError, match="out of order"):
        replay(list(reversed(rows)), ZONES, CONFIG, T0, at(10))
    assert replay(sort_observations(reversed(rows)), ZONES, CONFIG, T0, at(10)) == replay(
        rows, ZONES, CONFIG, T0, at(10)
    )
    with pytest.raises(ValueError, match="empty window"):
        replay(rows, ZONES, CONFIG, at(10), at(10))
    with pytest.raises(ValueError, match="timezone-aware"):
        replay(rows, ZONES, CONFIG, T0.replace(tzinfo=None), at(10))
    mixed = [*rows, FrameTick("cam-2", at(6), 999)]
    with pytest.raises(ValueError, match="mixed"):
        replay(mixed, ZONES, CONFIG, T0, at(10))
    one = observations_of(Script(3, motion=lambda t: 0.1).frames())
    other = observations_of(Script(3, motion=lambda t: 0.2).frames())
    with pytest.raises(ValueError, match="two different motion observations"):
        replay(sort_observations(one + other), (), CONFIG, T0, at(10))


def test_rows_written_twice_change_nothing(recorded):
    observations, _ = recorded
    hour = [o for o in observations if o.ts < at(HOUR + 600)]
    once = replay(hour, ZONES, CONFIG, T0, at(HOUR))
    twice = replay(sort_observations(hour + hour), ZONES, CONFIG, T0, at(HOUR))
    assert len(once) == 3 and twice == once


def test_empty_input():
    result = replay_with_report([], ZONES, CONFIG, T0, at(10), data_start=at(-60))
    assert result.events == () and result.frames == 0 and result.synchronised
    assert replay([], (), None, T0, at(10)) == []


def test_read_window_defaults():
    assert read_window(T0, at(HOUR)) == (T0 - timedelta(minutes=10), at(HOUR) + timedelta(hours=1))
