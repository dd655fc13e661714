"""CameraRules as a stream operator: determinism, snapshots, finish, bad input, zone edits."""

from __future__ import annotations

import pickle
import random
from dataclasses import replace

import pytest

from vigil.rules import CameraRules, Frame, RulesConfig, ZoneRule

from .scenario import (
    CAM,
    IN_A,
    IN_B,
    RECT_A,
    RECT_B,
    Script,
    at,
    during,
    final_events,
    rules_for,
    run,
    zone,
)


def busy_script() -> Script:
    """Two zones, several people coming and going, motion bursts: every rule gets exercised."""

    def people(t):
        out = []
        if during(t, (1, 9), (12, 14)):
            out.append((1, IN_A, 0.9))
        if during(t, (3, 20)):
            out.append((2, (0.3, 0.7), 0.6 + 0.01 * (int(t) % 7)))
        if during(t, (5, 11), (30, 33)):
            out.append((3, IN_B, 0.8))
        if during(t, (8, 40)):
            out.append((4, (0.5, 0.2), 0.95))  # never in a zone
        return out

    def motion(t):
        return 0.08 if during(t, (0, 6), (14, 18), (35, 45)) else 0.005

    return Script(60, people, motion)


def test_same_input_same_output_whatever_the_order_inside_frames():
    rules = rules_for(zone("A", RECT_A, dwell=1), zone("B", RECT_B, dwell=0.5))
    frames = busy_script().frames()
    _, first = run(rules, frames)
    _, again = run(rules_for(zone("B", RECT_B, dwell=0.5), zone("A", RECT_A, dwell=1)), frames)
    rng = random.Random(7)
    shuffled = [replace(f, persons=tuple(rng.sample(f.persons, len(f.persons)))) for f in frames]
    _, reordered = run(rules, shuffled)
    assert len(first) > 10
    assert first == again == reordered
    assert {c.event.type for c in first} == {"intrusion", "motion"}


def test_pickled_state_restored_mid_sequence_gives_identical_output():
    zones = (zone("A", RECT_A, dwell=1), zone("B", RECT_B, dwell=0.5))
    frames = busy_script().frames()
    _, uninterrupted = run(CameraRules(CAM, zones), frames)
    for cut in (1, 17, 45, 63, 150, 201):
        state, before = run(CameraRules(CAM, zones), frames[:cut])
        blob = pickle.dumps(state)
        # A new process: rules rebuilt from their definition, state from the snapshot.
        _, after = run(CameraRules(CAM, zones), frames[cut:], pickle.loads(blob))  # noqa: S301 (our own snapshot)
        assert before + after == uninterrupted, f"cut at frame {cut}"


def test_finish_closes_everything_at_its_last_evidence():
    rules = rules_for(zone("A", RECT_A), zone("B", RECT_B))
    people = lambda t: [(1, IN_A, 0.9), (2, IN_B, 0.8)] if t <= 4 else []  # noqa: E731
    state, changes = run(rules, Script(4, people, motion=lambda t: 0.2).frames())
    assert {c.kind for c in changes} == {"open"}
    assert len(rules.open_events(state)) == 3
    state, closes = rules.finish(state, at(4.5))
    assert [(c.kind, c.event.type, c.event.zone_id) for c in closes] == [
        ("close", "intrusion", "A"),
        ("close", "intrusion", "B"),
        ("close", "motion", None),
    ]
    assert all(c.at == at(4.5) and c.event.end == at(4) for c in closes)
    assert state.pending_starts() == [] and rules.open_events(state) == []
    assert rules.finish(state, at(5))[1] == []


def test_old_and_repeated_frames_are_skipped():
    rules = rules_for(zone())
    frames = Script(3, lambda t: [(1, IN_A, 0.9)]).frames()
    state, _ = run(rules, frames)
    state, late = rules.step(state, frames[5])
    state, repeated = rules.step(state, frames[-1])
    assert late == repeated == []
    assert state.skipped_frames == 2
    same_ts_earlier_frame = Frame(CAM, frames[-1].ts, frames[-1].frame_id - 1)
    state, _ = rules.step(state, same_ts_earlier_frame)
    assert state.skipped_frames == 3
    same_ts_next_frame = Frame(CAM, frames[-1].ts, frames[-1].frame_id + 1)
    state, _ = rules.step(state, same_ts_next_frame)
    assert state.skipped_frames == 3 and state.frames == len(frames) + 1


def test_wrong_camera_is_refused():
    rules = rules_for(zone())
    with pytest.raises(ValueError, match="got frame of cam-2"):
        rules.step(rules.initial_state(), Frame("cam-2", at(0), 0))
    with pytest.raises(ValueError, match="belongs to camera cam-2"):
        CameraRules(CAM, [zone(camera_id="cam-2")])
    with pytest.raises(ValueError, match="duplicate zone ids"):
        CameraRules(CAM, [zone("A"), zone("A", RECT_B)])


def test_a_zone_edit_closes_the_edited_zones_event_and_keeps_the_others():
    a, b = zone("A", RECT_A), zone("B", RECT_B)
    people = lambda t: [(1, IN_A, 0.9), (2, IN_B, 0.9)]  # noqa: E731
    frames = Script(6, people).frames()
    state, changes = run(CameraRules(CAM, [a, b]), frames[:10])
    ids = {c.event.zone_id: c.event.event_id for c in changes if c.kind == "open"}
    # The user moves zone A (the person's foot is still inside) and renames B.
    moved_a = ZoneRule("A", CAM, "A", ((0.05, 0.5), (0.4, 0.5), (0.4, 1.0), (0.05, 1.0)))
    renamed_b = ZoneRule("B", CAM, "loading bay", b.polygon)
    edited = CameraRules(CAM, [moved_a, renamed_b])
    state, after = run(edited, frames[10:], state)
    first = [(c.kind, c.event.zone_id) for c in after[:2]]
    assert first == [("close", "A"), ("open", "A")]
    assert after[0].event.event_id == ids["A"] and after[0].event.end == frames[9].ts
    assert after[1].event.event_id != ids["A"]
    assert all(c.event.event_id == ids["B"] for c in after if c.event.zone_id == "B")
    # Removing a zone closes its event too.
    state, gone = run(
        CameraRules(CAM, [renamed_b]), [Script(0, people, start=7).frames()[0]], state
    )
    assert [(c.kind, c.event.zone_id) for c in gone if c.kind != "update"] == [("close", "A")]


def test_config_can_change_between_steps_without_losing_events():
    rules = rules_for(zone())
    frames = Script(20, lambda t: [(1, IN_A, 0.9)] if t <= 5 else []).frames()
    state, before = run(rules, frames[:30])
    longer = CameraRules(CAM, [zone()], RulesConfig(close_timeout_seconds=12))
    _, after = run(longer, frames[30:], state)
    events = final_events(before + after)
    assert len(events) == 1
    (closing,) = [c for c in after if c.kind == "close"]
    assert closing.at == at(17)
