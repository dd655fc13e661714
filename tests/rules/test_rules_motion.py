"""Motion rule: threshold, sustain (seconds and frames), merging, quiet timeout, confidence."""

from __future__ import annotations

import pytest

from vigil.rules import RulesConfig, motion_confidence
from vigil.rules.state import Evidence

from .scenario import Script, at, during, final_events, rules_for, run


def moving(area: float, *spans: tuple[float, float], rest: float | None = 0.001):
    return lambda t: area if during(t, *spans) else rest


def closed_events(changes):
    return [c.event for c in changes if c.kind == "close"]


def test_motion_below_the_threshold_is_not_an_event():
    _, changes = run(rules_for(), Script(30, motion=moving(0.019, (0, 30))).frames())
    assert changes == []


def test_sustained_motion_opens_after_min_seconds_with_its_start_at_the_first_active_frame():
    _, changes = run(rules_for(), Script(30, motion=moving(0.1, (1, 5))).frames())
    assert [(c.kind, c.at) for c in changes if c.kind != "update"] == [
        ("open", at(3.0)),
        ("close", at(15.0)),
    ]
    (event,) = closed_events(changes)
    assert event.type == "motion" and event.zone_id is None and event.track_ids == ()
    assert (event.start, event.end) == (at(1), at(5))
    assert event.frames_in_zone == 21
    assert event.peak_bbox == (0.1, 0.1, 0.3, 0.3)


def test_motion_shorter_than_min_seconds_is_ignored():
    _, changes = run(rules_for(), Script(30, motion=moving(0.5, (1, 2.8))).frames())
    assert changes == []


def test_motion_needs_min_frames_too():
    # One analysed frame per second: 0, 1, 2 s are 3 active frames spanning 2 s.
    frames = Script(20, motion=moving(0.1, (0, 4)), fps=1).frames()
    _, three = run(rules_for(motion_gap_seconds=1.5), frames)
    assert three[0].kind == "open" and three[0].at == at(2)
    _, four = run(rules_for(motion_gap_seconds=1.5, motion_min_frames=4), frames)
    assert four[0].kind == "open" and four[0].at == at(3)


def test_a_gap_breaks_a_run_that_is_not_yet_an_event():
    # Active 0-1.6, nothing for 1.0 s (gap >= motion_gap), active 2.8-4.4: neither run lasts 2 s.
    _, changes = run(rules_for(), Script(20, motion=moving(0.1, (0, 1.6), (2.8, 4.4))).frames())
    assert changes == []
    # The same with a 0.6 s hole (gap 0.8 s < 1 s): one run of 4.4 s.
    _, changes = run(rules_for(), Script(20, motion=moving(0.1, (0, 1.6), (2.4, 4.4))).frames())
    assert changes[0].kind == "open" and changes[0].event.start == at(0)


def test_quiet_gaps_shorter_than_the_timeout_are_merged():
    _, changes = run(rules_for(), Script(40, motion=moving(0.1, (0, 3), (12.8, 15))).frames())
    events = final_events(changes)
    assert len(events) == 1
    (event,) = events.values()
    assert (event.start, event.end) == (at(0), at(15))
    assert [c.kind for c in changes].count("open") == 1


def test_the_quiet_timeout_closes_and_new_motion_opens_a_new_event():
    _, changes = run(rules_for(), Script(40, motion=moving(0.1, (0, 3), (13.0, 16))).frames())
    first, second = closed_events(changes)
    assert (first.start, first.end) == (at(0), at(3))
    assert (second.start, second.end) == (at(13), at(16))
    assert first.event_id != second.event_id
    close_first = next(c for c in changes if c.kind == "close")
    assert close_first.at == at(13.0)  # the first frame 10 s after the last active one


def test_motion_that_never_settles_is_split_into_bounded_back_to_back_events():
    frames = Script(130, motion=moving(0.1, (0, 130))).frames()
    _, changes = run(rules_for(motion_max_seconds=60), frames)
    events = sorted(final_events(changes).values(), key=lambda e: e.start)
    assert [(e.start, e.end) for e in events] == [
        (at(0), at(59.8)),  # the last active frame before the limit (5 fps)
        (at(60), at(119.8)),
        (at(120), None),  # still going at the end of the input
    ]
    assert len({e.event_id for e in events}) == 3
    # Each successor opens on the frame that closed its predecessor: no gap, no re-sustain.
    splits = [(c.kind, c.at) for c in changes if c.kind != "update"]
    assert splits[1:5] == [
        ("close", at(60)),
        ("open", at(60)),
        ("close", at(120)),
        ("open", at(120)),
    ]


def test_motion_max_seconds_must_be_positive():
    with pytest.raises(ValueError, match="motion_max_seconds must be > 0"):
        RulesConfig(motion_max_seconds=0)


def test_frames_without_a_motion_measurement_let_time_pass():
    _, changes = run(rules_for(), Script(30, motion=moving(0.1, (0, 3), rest=None)).frames())
    assert [c.kind for c in changes if c.kind != "update"] == ["open", "close"]
    assert changes[-1].at == at(13)


def test_motion_can_be_disabled():
    _, changes = run(
        rules_for(motion_enabled=False), Script(30, motion=moving(0.5, (0, 30))).frames()
    )
    assert changes == []


def test_motion_confidence_formula():
    cfg = RulesConfig(motion_full_confidence_area=0.05, motion_full_confidence_seconds=5)
    ev = Evidence.first(at(0), 0, 0.02, None, None)
    ev.add(at(1), 1, 0.03, None, None)
    ev.add(at(2), 2, 0.04, None, None)
    assert motion_confidence(ev, cfg) == pytest.approx((0.03 / 0.05) * (2 / 5))
    ev.add(at(10), 3, 0.5, None, None)
    assert motion_confidence(ev, cfg) == pytest.approx(1.0)
    _, changes = run(rules_for(), Script(30, motion=moving(0.025, (0, 2))).frames())
    assert changes[0].event.confidence == pytest.approx(0.5 * 0.4)
    assert all(0 <= c.event.confidence <= 1 for c in changes)


def test_peak_is_the_largest_area_earliest_on_ties():
    area = lambda t: 0.3 if during(t, (2, 2), (4, 4)) else (0.1 if t <= 6 else None)  # noqa: E731
    _, changes = run(rules_for(), Script(30, motion=area).frames())
    (event,) = closed_events(changes)
    assert event.peak_score == 0.3 and event.peak_ts == at(2)
