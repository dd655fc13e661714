"""Grouping lake rows into frames: any order inside a frame, frame order enforced."""

from __future__ import annotations

import random

import pytest

from vigil.rules import (
    FrameTick,
    MotionObservation,
    PersonObservation,
    frames_from_observations,
    sort_observations,
)

from .scenario import CAM, at


def rows():
    p1 = PersonObservation(CAM, at(0), 0, 2, 0.9, (0.1, 0.1, 0.2, 0.5))
    p2 = PersonObservation(CAM, at(0), 0, 1, 0.8, (0.3, 0.1, 0.4, 0.5))
    return [
        p1,
        FrameTick(CAM, at(0), 0, frozenset({1})),
        MotionObservation(CAM, at(0), 0, 0.1),
        p2,
        FrameTick(CAM, at(0), 0, frozenset({2, 7})),
        FrameTick(CAM, at(0.2), 1),  # an analysed frame with nothing in it
        FrameTick(CAM, at(0.2), 2),  # same instant, next frame
        PersonObservation(CAM, at(0.4), 3, 1, 0.7, (0.3, 0.1, 0.4, 0.5)),  # no tick
    ]


def test_rows_of_one_frame_become_one_frame():
    frames = list(frames_from_observations(rows()))
    assert [(f.ts, f.frame_id) for f in frames] == [
        (at(0), 0),
        (at(0.2), 1),
        (at(0.2), 2),
        (at(0.4), 3),
    ]
    first = frames[0]
    assert sorted(p.track_id for p in first.persons) == [1, 2]
    assert first.motion is not None and first.motion.area_fraction == 0.1
    assert first.track_ids == frozenset({1, 2, 7})  # ticks of one frame are merged
    assert frames[1].persons == () and frames[1].track_ids == frozenset()
    assert frames[3].track_ids is None and len(frames[3].persons) == 1


def test_sorting_restores_frame_order_from_any_shuffle():
    shuffled = rows()
    random.Random(3).shuffle(shuffled)
    frames = list(frames_from_observations(sort_observations(shuffled)))
    expected = list(frames_from_observations(rows()))
    assert [(f.ts, f.frame_id, f.track_ids, f.motion) for f in frames] == [
        (f.ts, f.frame_id, f.track_ids, f.motion) for f in expected
    ]
    assert [sorted(f.persons, key=lambda p: p.track_id) for f in frames] == [
        sorted(f.persons, key=lambda p: p.track_id) for f in expected
    ]


def test_grouping_is_lazy_and_refuses_disorder():
    data = rows()
    data.append(FrameTick(CAM, at(0.1), 9))
    groups = frames_from_observations(iter(data))
    assert next(groups).frame_id == 0  # produced before the bad row is read
    with pytest.raises(ValueError, match=r"out of order: frame 9 at .* after frame 3"):
        list(groups)
