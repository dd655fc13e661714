"""Properties over random detection histories: live == replay, snapshots change nothing,
partitioned replays agree with the live stream whenever they say they are synchronised."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vigil.rules import CameraRules, Frame, RulesConfig, replay_with_report

from .scenario import CAM, RECT_A, RECT_B, T0, Script, at, final_events, observations_of, run, zone

SPOTS = [
    (0.25, 0.8),
    (0.75, 0.8),
    (0.5, 0.3),
    (0.4, 0.7),
    (0.1, 0.5),
]  # A, B, outside, edge, vertex


@dataclass(frozen=True)
class Visit:
    track: int
    start: float
    length: float
    spot: int
    score: float
    miss_every: int  # 0: never missed; k: missed on every k-th frame


@dataclass(frozen=True)
class History:
    seconds: float
    fps: int
    visits: tuple[Visit, ...]
    bursts: tuple[tuple[float, float, float], ...]  # (start, length, area)
    ticks: bool
    dwell_a: float
    dwell_b: float

    def script(self) -> Script:
        def people(t):
            out = []
            for v in self.visits:
                frame = round(t * self.fps)
                missed = v.miss_every and frame % v.miss_every == 0
                if v.start <= t <= v.start + v.length and not missed:
                    out.append((v.track, SPOTS[v.spot], v.score))
            return out

        def motion(t):
            return max((a for s, n, a in self.bursts if s <= t <= s + n), default=0.0)

        return Script(self.seconds, people, motion, ticks=self.ticks, fps=self.fps)

    def zones(self):
        return (zone("A", RECT_A, dwell=self.dwell_a), zone("B", RECT_B, dwell=self.dwell_b))


@st.composite
def histories(draw) -> History:
    seconds = draw(st.integers(20, 150))
    visits = tuple(
        Visit(
            track=i,
            start=draw(st.integers(0, seconds * 5)) / 5,
            length=draw(st.integers(0, 20 * 5)) / 5,
            spot=draw(st.integers(0, len(SPOTS) - 1)),
            score=draw(st.sampled_from([0.3, 0.55, 0.8, 0.99])),
            miss_every=draw(st.sampled_from([0, 0, 2, 3, 7])),
        )
        for i in range(draw(st.integers(0, 6)))
    )
    bursts = tuple(
        (
            draw(st.integers(0, seconds)) * 1.0,
            draw(st.integers(0, 15)) * 1.0,
            draw(st.sampled_from([0.01, 0.03, 0.2])),
        )
        for _ in range(draw(st.integers(0, 3)))
    )
    return History(
        seconds=float(seconds),
        fps=draw(st.sampled_from([2, 5])),
        visits=visits,
        bursts=bursts,
        ticks=draw(st.booleans()),
        dwell_a=draw(st.sampled_from([0.0, 1.0, 2.0])),
        dwell_b=draw(st.sampled_from([0.0, 3.0])),
    )


CONFIG = RulesConfig(update_interval_seconds=2)
FAST = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def live(history: History) -> tuple[list[Frame], CameraRules, dict]:
    frames = history.script().frames()
    rules = CameraRules(CAM, history.zones(), CONFIG)
    state, changes = run(rules, frames)
    events = {**final_events(changes), **{str(e.event_id): e for e in rules.open_events(state)}}
    return frames, rules, events


@FAST
@given(histories())
def test_replay_of_the_whole_history_equals_live(history):
    frames, _, events = live(history)
    replayed = replay_with_report(
        observations_of(frames), history.zones(), CONFIG, T0, at(history.seconds + 1)
    )
    assert {str(e.event_id): e for e in replayed.events} == events
    for e in replayed.events:
        assert 0.0 <= e.confidence <= 1.0
        assert e.end is None or e.start <= e.end
        assert e.start <= e.peak_ts <= e.last_seen


@FAST
@given(histories(), st.floats(0, 1))
def test_restoring_a_pickled_state_changes_nothing(history, where):
    frames = history.script().frames()
    rules = CameraRules(CAM, history.zones(), CONFIG)
    _, whole = run(rules, frames)
    cut = int(where * len(frames))
    state, head = run(rules, frames[:cut])
    _, tail = run(
        CameraRules(CAM, history.zones(), CONFIG),
        frames[cut:],
        pickle.loads(pickle.dumps(state)),  # noqa: S301
    )
    assert head + tail == whole


@FAST
@given(histories(), st.floats(0.1, 0.9), st.integers(0, 60))
def test_partitioned_replay_agrees_with_live_when_synchronised(history, split, lookback):
    frames, _, events = live(history)
    boundary = at(round(history.seconds * split))
    start = boundary - (at(lookback) - T0)
    end = at(history.seconds + 1)
    rows = [o for o in observations_of(frames) if o.ts >= start]
    result = replay_with_report(rows, history.zones(), CONFIG, boundary, end, data_start=start)
    expected = {k: e for k, e in events.items() if e.start >= boundary}
    if result.synchronised:
        assert {str(e.event_id): e for e in result.events} == expected
    # The first partition is replayed from the start of the history: always exact.
    first = replay_with_report(observations_of(frames), history.zones(), CONFIG, T0, boundary)
    assert {str(e.event_id): e for e in first.events} == {
        k: e for k, e in events.items() if e.start < boundary
    }


def test_the_partition_property_is_not_vacuous():
    # A history with a quiet stretch before the boundary: the replay must say it is synchronised.
    h = History(
        60.0,
        5,
        (Visit(1, 5, 10, 0, 0.8, 0), Visit(2, 40, 10, 1, 0.8, 3)),
        ((41.0, 5.0, 0.2),),
        True,
        1.0,
        0.0,
    )
    frames, _, events = live(h)
    rows = [o for o in observations_of(frames) if o.ts >= at(10)]
    result = replay_with_report(rows, h.zones(), CONFIG, at(35), at(61), data_start=at(10))
    assert result.synchronised
    assert len(result.events) == 2
    assert {str(e.event_id): e for e in result.events} == {
        k: e for k, e in events.items() if e.start >= at(35)
    }
