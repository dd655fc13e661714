"""Tracker state on its own: stationary flag, ended tracks, snapshot/restore.

(Track persistence on real footage is checked through the analyzer in test_analyzer.py.)"""

from __future__ import annotations

import pickle

from vigil.vision import BBox, Detection, PersonTracker, TrackerConfig

from .conftest import at


def person(x: float, y: float, score: float = 0.8) -> Detection:
    return Detection(BBox(x, y, x + 40, y + 100), score, "person", "Normal")


def test_ids_persist_and_a_standing_person_becomes_stationary() -> None:
    tracker = PersonTracker(TrackerConfig(stationary_seconds=2.0))
    ids = []
    for i in range(40):  # walker moves 5 px a frame; stander stays put; 10 fps
        objs, ended = tracker.update([person(10 + 5 * i, 50), person(400, 300)], at(i / 10), i)
        assert ended == []
        ids.append({o.track_id: o for o in objs if o.track_id is not None})
    walker, stander = sorted(ids[-1])  # ids count from 1
    assert walker >= 1
    assert all(set(frame) == {walker, stander} for frame in ids[1:])
    assert not ids[-1][walker].stationary
    assert ids[-1][stander].stationary
    assert not ids[15][stander].stationary
    state = tracker.tracks[stander]
    assert state.hits == 39
    assert state.first_frame == 1
    assert state.last_frame == 39
    assert state.first_seen == at(0.1)
    assert state.last_seen == at(3.9)


def test_lost_tracks_end_after_the_buffer() -> None:
    tracker = PersonTracker(TrackerConfig(lost_track_seconds=1.0))
    for i in range(5):
        tracker.update([person(100, 100)], at(i / 10), i)
    ended_at = None
    for i in range(5, 40):
        _, ended = tracker.update([], at(i / 10), i)
        if ended:
            ended_at = i
            assert ended == [1]
            break
    assert ended_at is not None
    assert 14 <= ended_at <= 16
    assert tracker.tracks == {}


def test_unconfirmed_and_weak_detections() -> None:
    tracker = PersonTracker(TrackerConfig(confidence=0.5))
    first, _ = tracker.update([person(100, 100, 0.9), person(300, 100, 0.3)], at(0), 0)
    assert all(o.track_id is None for o in first)  # needs two consecutive hits
    second, _ = tracker.update([person(100, 100, 0.9), person(300, 100, 0.3)], at(0.1), 1)
    assert {o.detection.score: o.track_id for o in second} == {0.9: 1, 0.3: None}


def test_snapshot_restores_ids_and_state() -> None:
    tracker = PersonTracker()
    for i in range(10):
        tracker.update([person(10 + 5 * i, 50), person(400, 300)], at(i / 10), i)
    restored = PersonTracker.restore(pickle.loads(pickle.dumps(tracker.snapshot())))  # noqa: S301
    objs, _ = restored.update([person(60, 50), person(400, 300), person(600, 20)], at(1.0), 10)
    assert sorted(o.track_id for o in objs if o.track_id is not None) == [1, 2]
    assert restored.tracks[1].hits == tracker.tracks[1].hits + 1
    again, _ = restored.update([person(65, 50), person(400, 300), person(600, 20)], at(1.1), 11)
    assert sorted(o.track_id for o in again if o.track_id is not None) == [1, 2, 3]
    assert sorted(tracker.tracks) == [1, 2]  # the original is untouched by the restored copy


def test_out_of_order_timestamps_do_not_drop_an_update() -> None:
    tracker = PersonTracker()
    tracker.update([person(100, 100)], at(1.0), 0)
    objs, _ = tracker.update([person(102, 100)], at(0.5), 1)  # camera clock stepped back
    assert [o.track_id for o in objs] == [1]
