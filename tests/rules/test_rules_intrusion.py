"""Intrusion rule on crafted sequences (5 fps, zone A on the floor, timeout 5 s by default)."""

from __future__ import annotations

import pytest

from vigil.rules import RulesConfig, intrusion_confidence
from vigil.rules.state import Evidence

from .scenario import (
    IN_A,
    IN_B,
    OUTSIDE,
    RECT_A,
    RECT_B,
    Script,
    at,
    during,
    final_events,
    kinds,
    rules_for,
    run,
    zone,
)


def stay(track: int, foot: tuple[float, float], *spans: tuple[float, float], score: float = 0.9):
    return lambda t: [(track, foot, score)] if during(t, *spans) else []


def test_dwell_just_under_the_threshold_opens_nothing():
    rules = rules_for(zone(dwell=2.0))
    # Seen in the zone from 0.0 to 1.8 s: 1.8 s of dwell < 2 s.
    state, changes = run(rules, Script(20, stay(1, IN_A, (0.0, 1.8))).frames())
    assert changes == []
    assert rules.finish(state, at(20))[1] == []


def test_dwell_at_the_threshold_opens_at_that_frame():
    rules = rules_for(zone(dwell=2.0))
    _, changes = run(rules, Script(20, stay(1, IN_A, (0.0, 2.0))).frames())
    assert kinds(changes) == [("open", "intrusion", "A"), ("close", "intrusion", "A")]
    opened, closed = changes
    assert opened.at == at(2.0)
    assert opened.event.start == at(0.0)  # start = when the person entered, not when it opened
    assert opened.event.end is None and opened.event.is_open
    assert opened.event.frames_in_zone == 11
    assert closed.at == at(7.0)  # 5 s after the last sighting
    assert closed.event.end == at(2.0)
    assert closed.event.event_id == opened.event.event_id


def test_zero_dwell_opens_on_the_first_sighting():
    _, changes = run(rules_for(zone(dwell=0)), Script(10, stay(1, IN_A, (1.0, 1.0))).frames())
    assert [(c.kind, c.at) for c in changes] == [("open", at(1.0)), ("close", at(6.0))]
    assert changes[1].event.start == changes[1].event.end == at(1.0)


def test_short_gaps_do_not_reset_the_dwell_but_long_ones_do():
    rules = rules_for(zone(dwell=3.0))
    # Missed for 0.6 s (gap between sightings 0.8 s < 1 s presence gap): dwell continues.
    _, changes = run(rules, Script(15, stay(1, IN_A, (0.0, 1.0), (1.8, 3.0))).frames())
    assert (
        changes[0].kind == "open" and changes[0].at == at(3.0) and changes[0].event.start == at(0)
    )
    # Out for 1.0 s (gap between sightings 1.2 s >= 1 s): the dwell restarts at 2.2.
    _, changes = run(rules, Script(15, stay(1, IN_A, (0.0, 1.0), (2.2, 5.4))).frames())
    assert (
        changes[0].kind == "open" and changes[0].at == at(5.2) and changes[0].event.start == at(2.2)
    )


def test_walking_through_the_zone_outside_the_zone_is_ignored():
    _, changes = run(rules_for(zone()), Script(10, stay(1, OUTSIDE, (0, 10))).frames())
    assert changes == []


def test_reentry_within_the_timeout_keeps_the_same_event():
    rules = rules_for(zone(dwell=1.0))
    # In 0-3 s, away 3-7.8 s (last sighting 3.0, back at 7.8: 4.8 s < 5 s), in again 7.8-9 s.
    _, changes = run(rules, Script(20, stay(1, IN_A, (0, 3), (7.8, 9))).frames())
    assert [c.kind for c in changes if c.kind != "update"] == ["open", "close"]
    events = final_events(changes)
    assert len(events) == 1
    (event,) = events.values()
    assert event.start == at(0) and event.end == at(9)
    assert event.frames_in_zone == 16 + 7


def test_reentry_at_or_after_the_timeout_opens_a_new_event():
    rules = rules_for(zone(dwell=1.0))
    # Last sighting 3.0, back at exactly 8.0 (= timeout): the first event closes first.
    _, changes = run(rules, Script(20, stay(1, IN_A, (0, 3), (8.0, 10))).frames())
    assert [(c.kind, c.at) for c in changes if c.kind != "update"] == [
        ("open", at(1.0)),
        ("close", at(8.0)),
        ("open", at(9.0)),  # the new stay needs its own dwell
        ("close", at(15.0)),
    ]
    first, second = (c.event for c in changes if c.kind == "close")
    assert first.end == at(3.0) and second.start == at(8.0)
    assert first.event_id != second.event_id


def test_lost_track_closes_the_event_after_the_timeout_from_its_last_sighting():
    rules = rules_for(zone(dwell=0))
    # The tracker loses track 1 at 2.0 s while the person is still in the zone; frames go on.
    script = Script(12, stay(1, IN_A, (0, 2.0)), live=lambda t: [1] if t <= 2.0 else [])
    _, changes = run(rules, script.frames())
    closes = [c for c in changes if c.kind == "close"]
    assert len(closes) == 1 and closes[0].at == at(7.0) and closes[0].event.end == at(2.0)
    # Without FrameTicks the same happens: absence is the same as loss for closing.
    _, no_ticks = run(rules, Script(12, stay(1, IN_A, (0, 2.0)), ticks=False).frames())
    assert final_events(no_ticks) == final_events(changes)


def test_a_lost_track_and_an_undetected_one_are_alike():
    rules = rules_for(zone(dwell=2.0))
    # Track 7 is in the zone 0-1.0 and 1.4-4.0; the tracker reports it lost at 1.2 and then
    # re-issues the same id. Only sightings and time count: the 0.4 s gap < presence gap.
    people = stay(7, IN_A, (0, 1.0), (1.4, 4.0))
    lost = Script(6, people, live=lambda t: [] if during(t, (1.2, 1.2)) else [7])
    _, changes = run(rules, lost.frames())
    assert (
        changes[0].kind == "open" and changes[0].event.start == at(0) and changes[0].at == at(2.0)
    )
    _, no_ticks = run(rules, Script(6, people, ticks=False).frames())
    assert no_ticks == changes


@pytest.mark.parametrize(
    "foot",
    [(0.1, 0.7), (0.4, 0.7), (0.25, 0.5), (0.25, 1.0), (0.1, 0.5), (0.4, 1.0)],
    ids=[
        "left-edge",
        "right-edge",
        "top-edge",
        "bottom-edge",
        "top-left-vertex",
        "bottom-right-vertex",
    ],
)
def test_standing_on_the_zone_line_counts_as_inside(foot):
    _, changes = run(rules_for(zone()), Script(1, stay(1, foot, (0, 1))).frames())
    assert changes[0].kind == "open"


def test_just_outside_the_zone_line_does_not_count():
    _, changes = run(rules_for(zone()), Script(1, stay(1, (0.4 + 1e-6, 0.7), (0, 1))).frames())
    assert changes == []


def test_several_persons_share_one_event_per_zone():
    rules = rules_for(zone(dwell=1.0))

    def people(t):
        out = []
        if during(t, (0, 6)):
            out.append((1, IN_A, 0.8))
        if during(t, (3, 10)):
            out.append((2, (0.3, 0.9), 0.6))
        return out

    _, changes = run(rules, Script(20, people).frames())
    # open, the join (at once), then pending news flushed every 5 s (8.0, 13.0), close.
    assert [c.kind for c in changes] == ["open", "update", "update", "update", "close"]
    assert [c.at for c in changes[2:4]] == [at(8.0), at(13.0)]
    opened, joined, _, _, closed = changes
    assert opened.event.track_ids == (1,)
    assert joined.kind == "update" and joined.at == at(3.0)  # a new person is news: sent at once
    assert joined.event.track_ids == (1, 2)
    assert closed.at == at(15.0)  # 5 s after the LAST person left
    assert closed.event.end == at(10.0)
    assert closed.event.first_track_id == 1
    assert closed.event.frames_in_zone == 31 + 36
    assert closed.event.peak_score == 0.8 and closed.event.peak_track_id == 1
    assert closed.event.peak_ts == at(0)  # ties keep the earliest
    mean = (31 * 0.8 + 36 * 0.6) / 67
    assert closed.event.confidence == pytest.approx(mean)


def test_persons_waiting_together_all_join_when_one_has_dwelled():
    rules = rules_for(zone(dwell=2.0))

    def people(t):
        out = [(5, IN_A, 0.9)] if during(t, (0.4, 4)) else []
        if during(t, (0.0, 1.6)):  # entered first but left before dwelling
            out.append((9, (0.2, 0.6), 0.7))
        if during(t, (1.0, 4)):
            out.append((3, (0.3, 0.9), 0.7))
        return out

    _, changes = run(rules, Script(12, people).frames())
    opened = changes[0]
    assert opened.kind == "open" and opened.at == at(2.4)
    # Track 9 was seen 0.8 s ago (< presence gap): still a candidate, so it joins and its
    # entry at 0.0 is the event's start.
    assert opened.event.track_ids == (3, 5, 9)
    assert opened.event.start == at(0.0) and opened.event.first_track_id == 9


def test_two_zones_give_two_independent_events():
    rules = rules_for(zone("A", RECT_A), zone("B", RECT_B))

    def people(t):
        if during(t, (0, 2)):
            return [(1, IN_A, 0.9)]
        if during(t, (2.2, 4)):
            return [(1, OUTSIDE, 0.9)]
        if during(t, (4.2, 6)):
            return [(1, IN_B, 0.9)]
        return []

    _, changes = run(rules, Script(15, people).frames())
    changes = [c for c in changes if c.kind != "update"]
    assert kinds(changes) == [
        ("open", "intrusion", "A"),
        ("open", "intrusion", "B"),
        ("close", "intrusion", "A"),
        ("close", "intrusion", "B"),
    ]
    a, b = (c.event for c in changes if c.kind == "close")
    assert a.event_id != b.event_id
    assert (a.start, a.end, b.start, b.end) == (at(0), at(2), at(4.2), at(6))


def test_a_person_on_a_shared_edge_is_in_both_zones():
    left = zone("L", ((0.1, 0.5), (0.5, 0.5), (0.5, 1.0), (0.1, 1.0)))
    right = zone("R", ((0.5, 0.5), (0.9, 0.5), (0.9, 1.0), (0.5, 1.0)))
    _, changes = run(rules_for(left, right), Script(1, stay(1, (0.5, 0.75), (0, 1))).frames())
    assert kinds(changes) == [("open", "intrusion", "L"), ("open", "intrusion", "R")]


def test_disabled_zones_produce_nothing():
    _, changes = run(rules_for(zone(enabled=False)), Script(10, stay(1, IN_A, (0, 10))).frames())
    assert changes == []


def test_updates_are_throttled_but_a_new_peak_goes_out_at_once():
    rules = rules_for(zone(), update_interval_seconds=5)

    def people(t):
        return [(1, IN_A, 0.95 if during(t, (12.2, 12.2)) else 0.7)] if t <= 30 else []

    _, changes = run(rules, Script(40, people).frames())
    updates = [c for c in changes if c.kind == "update"]
    peak = [u for u in updates if u.at == at(12.2)]
    assert len(peak) == 1 and peak[0].event.peak_score == 0.95 and peak[0].event.peak_ts == at(12.2)
    # One message per 5 s while the person stays (not one per frame: 150), the new peak at
    # once, then the interval restarts from it; news after the last sighting is flushed at 32.2.
    assert [(c.kind, c.at) for c in changes] == [
        ("open", at(0)),
        ("update", at(5)),
        ("update", at(10)),
        ("update", at(12.2)),
        ("update", at(17.2)),
        ("update", at(22.2)),
        ("update", at(27.2)),
        ("update", at(32.2)),
        ("close", at(35)),
    ]


def test_confidence_formula():
    cfg = RulesConfig(intrusion_full_confidence_frames=10)
    ev = Evidence.first(at(0), 0, 0.5, 1, None)
    ev.add(at(0.2), 1, 0.7, 1, None)
    ev.add(at(0.4), 2, 0.6, 1, None)
    assert intrusion_confidence(ev, cfg) == pytest.approx(0.6 * 3 / 10)
    for i in range(3, 20):
        ev.add(at(i / 5), i, 1.0, 1, None)
    assert intrusion_confidence(ev, cfg) == pytest.approx((1.8 + 17) / 20)
    _, changes = run(rules_for(zone()), Script(1, stay(1, IN_A, (0, 0.4), score=0.5)).frames())
    assert changes[0].event.confidence == pytest.approx(0.5 * 1 / 10)


def test_confidence_stays_within_0_and_1():
    _, changes = run(rules_for(zone()), Script(30, stay(1, IN_A, (0, 20), score=1.0)).frames())
    assert changes and all(0.0 <= c.event.confidence <= 1.0 for c in changes)
    assert changes[-1].event.confidence == 1.0
