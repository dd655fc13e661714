"""CameraAnalyzer end to end on real footage and photos: gate, tracks, faces, recovery."""

from __future__ import annotations

import pickle
from collections import Counter
from dataclasses import replace

import cv2
import numpy as np
import pytest

from vigil.vision import (
    AnalyzerConfig,
    CameraAnalyzer,
    FrameAnalysis,
    MotionConfig,
    OnnxYoloDetector,
    TrackerConfig,
)
from vigil.vision.faces import OpenCVFaceBackend
from vigil.vision.frames import Frame

from .conftest import VTEST_FPS, at, image

SNAPSHOT_AT = 15
RUN = 25


@pytest.fixture(scope="module")
def vtest_run(
    detector: OnnxYoloDetector, face_backend: OpenCVFaceBackend, vtest_frames: list[Frame]
) -> tuple[list[FrameAnalysis], list[FrameAnalysis]]:
    """The first 2.5 s of vtest, and the same frames again from a snapshot taken at 1.5 s.
    Whole frames only: a restored analyzer recalibrates motion, so it would search the whole
    frame where the original searched regions, and the boxes could not be compared exactly."""
    analyzer = CameraAnalyzer(
        "plaza", detector, face_backend, AnalyzerConfig(region_detection=False)
    )
    results, snapshot = [], b""
    for i, frame in enumerate(vtest_frames[:RUN]):
        if i == SNAPSHOT_AT:
            snapshot = pickle.dumps(analyzer.state_snapshot())
        results.append(analyzer.process(frame, at(i / VTEST_FPS)))
    restored = CameraAnalyzer.from_snapshot(
        pickle.loads(snapshot),  # noqa: S301 - our own snapshot
        detector,
        face_backend,
    )
    resumed = [
        restored.process(frame, at(i / VTEST_FPS))
        for i, frame in enumerate(vtest_frames[SNAPSHOT_AT:RUN], start=SNAPSHOT_AT)
    ]
    return results, resumed


def test_track_ids_persist_across_consecutive_frames(
    vtest_run: tuple[list[FrameAnalysis], list[FrameAnalysis]],
) -> None:
    results, _ = vtest_run
    seen = Counter(p.track_id for r in results for p in r.persons if p.track_id is not None)
    steady = [tid for tid, n in seen.items() if n >= RUN - 5]
    assert len(steady) >= 3  # at least three people keep one id for (nearly) all 25 frames
    assert all(r.analysed for r in results)  # people keep moving: the gate never closes


def test_frame_analysis_describes_the_frame(
    vtest_run: tuple[list[FrameAnalysis], list[FrameAnalysis]],
) -> None:
    results, _ = vtest_run
    assert [r.frame_index for r in results] == list(range(RUN))
    last = results[-1]
    assert (last.camera_id, last.width, last.height, last.ts) == ("plaza", 768, 576, at(2.4))
    assert last.motion_boxes
    assert 0 < last.motion_area < 1
    assert not last.motion_calibrating
    assert len(last.motion_boxes_norm) == len(last.motion_boxes)
    for p in last.persons:
        assert p.bbox_norm == p.bbox.normalised(768, 576)
        assert 0 <= p.bbox_norm.x1 < p.bbox_norm.x2 <= 1
        assert p.detected
        moving = any(p.bbox.intersection_area(m) > 0 for m in last.motion_boxes)
        assert moving or p.track_id is None or p.score < 0.5
    assert last.inference_ms > 0
    assert last.total_ms >= last.inference_ms
    assert all(r.faces == () for r in results)  # people far away: faces too small to keep


def test_snapshot_resumes_tracks_and_frame_numbers(
    vtest_run: tuple[list[FrameAnalysis], list[FrameAnalysis]],
) -> None:
    results, resumed = vtest_run
    assert [r.frame_index for r in resumed] == list(range(SNAPSHOT_AT, RUN))
    assert resumed[0].motion_calibrating  # the background model restarts after a restore
    for original, again in zip(results[SNAPSHOT_AT:], resumed, strict=True):
        ids = {p.track_id: p.bbox for p in original.persons if p.track_id is not None}
        ids_again = {p.track_id: p.bbox for p in again.persons if p.track_id is not None}
        assert ids_again == ids


def test_gate_skips_a_still_empty_scene(detector: OnnxYoloDetector) -> None:
    street = image("bus.jpg")[:300]  # sky and buildings above the bus: nobody there
    config = AnalyzerConfig(motion=MotionConfig(calibration_frames=1))
    gated = CameraAnalyzer("c", detector, config=config)
    ungated = CameraAnalyzer("c", detector, config=replace(config, gating=False))
    out = [gated.process(street, at(i)) for i in range(5)]
    assert [r.analysed for r in out] == [True, True, False, False, False]
    assert all(r.skipped_by_gate and r.inference_ms == 0 and r.persons == () for r in out[2:])
    assert all(ungated.process(street, at(i)).analysed for i in range(3))


def test_stationary_people_are_carried_without_detection(detector: OnnxYoloDetector) -> None:
    bus = image("bus.jpg")
    config = AnalyzerConfig(
        motion=MotionConfig(calibration_frames=1),
        tracker=TrackerConfig(stationary_seconds=2.0),
        stationary_recheck_seconds=4.0,
        faces_enabled=False,
    )
    analyzer = CameraAnalyzer("bus-stop", detector, config=config)
    out = [analyzer.process(bus, at(i)) for i in range(9)]  # one still frame a second
    # calibrating x2, moving (not still for 2 s yet) x2, carried, recheck after 4 s, carried
    assert [r.analysed for r in out] == [True, True, True, True, False, False, False, True, False]
    ids = {p.track_id for p in out[3].persons}
    assert len(ids) >= 3
    assert None not in ids
    for r in out[4:]:
        assert {p.track_id for p in r.persons} == ids
        assert r.ended_track_ids == ()
    skipped = out[4]
    assert all(p.stationary and not p.detected for p in skipped.persons)


def test_faces_on_person_crops_wait_for_the_best_of_each_second(
    detector: OnnxYoloDetector, face_backend: OpenCVFaceBackend
) -> None:
    zidane = image("zidane.jpg")
    analyzer = CameraAnalyzer("pitch", detector, face_backend)
    first = analyzer.process(zidane, at(0.0))
    assert first.faces
    assert all(f.track_id is None for f in first.faces)
    second = analyzer.process(zidane, at(0.1))
    assert second.faces == ()  # tracked now: held for the best of the second
    third = analyzer.process(zidane, at(1.2))
    assert third.faces
    assert all(f.track_id is not None for f in third.faces)
    assert {f.ts for f in third.faces} == {at(0.1)}
    assert {f.frame_index for f in third.faces} == {1}
    tracked = {p.track_id for p in third.persons}
    assert {f.track_id for f in third.faces} <= tracked
    rest = analyzer.flush_faces()
    assert {f.ts for f in rest} == {at(1.2)}
    assert analyzer.flush_faces() == ()


def test_face_mode_embeds_every_face_in_a_group_photo(
    detector: OnnxYoloDetector, face_backend: OpenCVFaceBackend
) -> None:
    group = image("t1.jpg")
    analyzer = CameraAnalyzer("door", detector, face_backend, AnalyzerConfig(face_mode=True))
    result = analyzer.process(group, at(0))
    assert len(result.faces) >= 5
    for f in result.faces:
        assert f.embedding.shape == (128,)
        assert f.thumbnail_jpeg[:2] == b"\xff\xd8"
        assert f.blur >= 40
        assert min(f.bbox.width, f.bbox.height) >= 32
        assert f.bbox_norm == f.bbox.normalised(1280, 886)
        thumb = cv2.imdecode(np.frombuffer(f.thumbnail_jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert thumb is not None
        assert max(thumb.shape[:2]) <= 128
