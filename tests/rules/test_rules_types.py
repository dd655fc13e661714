"""Input/output records: UTC instants, value ranges, deterministic event ids, config checks."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta, timezone

import pytest

from vigil.rules import (
    Frame,
    FrameTick,
    MotionObservation,
    PersonObservation,
    RulesConfig,
    event_id_for,
)

from .scenario import CAM, IN_A, OUTSIDE, T0, zone


def test_naive_timestamps_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        PersonObservation(CAM, datetime(2026, 1, 1), 1, 1, 0.9, (0.1, 0.1, 0.2, 0.2))
    with pytest.raises(ValueError, match="timezone-aware"):
        FrameTick(CAM, datetime(2026, 1, 1), 1)
    with pytest.raises(TypeError, match="must be a datetime"):
        MotionObservation(CAM, 12.5, 1, 0.1)  # type: ignore[arg-type]


def test_other_timezones_are_normalised_to_utc():
    paris = timezone(timedelta(hours=1))
    obs = PersonObservation(
        CAM, datetime(2026, 1, 1, 11, 0, tzinfo=paris), 1, 1, 0.9, (0.1, 0.1, 0.2, 0.2)
    )
    assert obs.ts == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert obs.ts.utcoffset() == timedelta(0)
    assert obs.ts.isoformat() == "2026-01-01T10:00:00+00:00"


@pytest.mark.parametrize("score", [-0.1, 1.01, float("nan"), float("inf")])
def test_scores_outside_0_1_are_refused(score):
    with pytest.raises(ValueError, match="score must be between 0 and 1"):
        PersonObservation(CAM, T0, 1, 1, score, (0.1, 0.1, 0.2, 0.2))


@pytest.mark.parametrize(
    ("bbox", "words"),
    [
        ((0.3, 0.1, 0.2, 0.2), "x1 <= x2"),
        ((0.1, 0.3, 0.2, 0.2), "y1 <= y2"),
        ((0.1, float("nan"), 0.2, 0.2), "finite"),
        ((0.1, 0.1, 0.2), "4 finite numbers"),
    ],
)
def test_bad_boxes_are_refused(bbox, words):
    with pytest.raises(ValueError, match=words):
        PersonObservation(CAM, T0, 1, 1, 0.5, bbox)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=words):
        MotionObservation(CAM, T0, 1, 0.5, (bbox,))  # type: ignore[arg-type]


def test_motion_area_range_and_foot_point():
    with pytest.raises(ValueError, match="area_fraction"):
        MotionObservation(CAM, T0, 1, 1.5)
    p = PersonObservation(CAM, T0, 1, 1, 0.5, (0.2, 0.1, 0.4, 0.9))
    assert p.foot == pytest.approx((0.3, 0.9))  # bottom-centre: y grows downwards


def test_frame_refuses_observations_of_another_frame():
    p = PersonObservation(CAM, T0, 7, 1, 0.5, (0.2, 0.1, 0.4, 0.9))
    with pytest.raises(ValueError, match="does not belong to frame 8"):
        Frame(CAM, T0, 8, (p,))
    with pytest.raises(ValueError, match="does not belong"):
        Frame("cam-2", T0, 7, (p,))
    assert FrameTick(CAM, T0, 1, [3, 1]).track_ids == frozenset({1, 3})  # type: ignore[arg-type]


def test_event_ids_are_a_pure_function_of_identity():
    base = event_id_for(CAM, "intrusion", "A", T0, 4)
    assert base == event_id_for(
        CAM, "intrusion", "A", T0.astimezone(timezone(timedelta(hours=-5))), 4
    )
    assert str(base) == str(event_id_for(CAM, "intrusion", "A", T0, 4))
    others = {
        event_id_for("cam-2", "intrusion", "A", T0, 4),
        event_id_for(CAM, "motion", None, T0, None),
        event_id_for(CAM, "intrusion", "B", T0, 4),
        event_id_for(CAM, "intrusion", "A", T0 + timedelta(microseconds=1), 4),
        event_id_for(CAM, "intrusion", "A", T0, 5),
    }
    assert base not in others and len(others) == 5
    assert base.version == 5


def test_records_pickle():
    obs = [
        PersonObservation(CAM, T0, 1, 1, 0.5, (0.2, 0.1, 0.4, 0.9)),
        MotionObservation(CAM, T0, 1, 0.2, ((0.1, 0.1, 0.2, 0.2),)),
        FrameTick(CAM, T0, 1, frozenset({1})),
    ]
    assert pickle.loads(pickle.dumps(obs)) == obs  # noqa: S301 (our own records)
    frame = Frame(CAM, T0, 1, (obs[0],), obs[1], frozenset({1}))  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(frame)) == frame  # noqa: S301
    z = zone()
    assert z.contains(*IN_A)  # the prepared polygon is cached on the zone: it must pickle too
    restored = pickle.loads(pickle.dumps(z))  # noqa: S301
    assert restored == z and restored.contains(*IN_A) and not restored.contains(*OUTSIDE)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("close_timeout_seconds", 0),
        ("motion_full_confidence_seconds", 0),
        ("close_timeout_seconds", -1.0),
        ("presence_gap_seconds", float("nan")),
        ("motion_area_threshold", 0.0),
        ("motion_area_threshold", 1.5),
        ("motion_min_frames", 0),
        ("motion_min_frames", 2.5),
        ("intrusion_full_confidence_frames", True),
        ("motion_enabled", 1),
        ("motion_quiet_timeout_seconds", float("inf")),
    ],
)
def test_config_refuses_bad_values(field, value):
    with pytest.raises(ValueError, match=field):
        RulesConfig(**{field: value})


def test_config_memory_horizon_is_the_longest_timeout():
    assert RulesConfig().memory_horizon == timedelta(seconds=10)
    assert RulesConfig(close_timeout_seconds=30).memory_horizon == timedelta(seconds=30)
    assert "update_interval_seconds" not in RulesConfig().outcome_fields()
