"""Motion: boxes where people walk, none on a still scene, recalibration on a scene change."""

from __future__ import annotations

import numpy as np
import pytest

from vigil.vision import MotionConfig, MotionDetector, OnnxYoloDetector
from vigil.vision.frames import Frame

CALIBRATION = MotionConfig().calibration_frames


def run(detector: MotionDetector, frames: list[Frame]) -> list:
    return [detector.detect(f) for f in frames]


def test_still_scene_has_no_motion(vtest_frames: list[Frame]) -> None:
    results = run(MotionDetector(), [vtest_frames[0]] * 20)
    assert all(r.calibrating for r in results[: CALIBRATION + 1])
    settled = results[CALIBRATION + 1 :]
    assert settled
    assert all(not r.calibrating for r in settled)
    assert all(r.boxes == () and r.area_fraction == 0.0 for r in settled)


def test_walking_people_make_motion_boxes_on_them(
    vtest_frames: list[Frame], detector: OnnxYoloDetector
) -> None:
    results = run(MotionDetector(), vtest_frames[:30])
    settled = results[CALIBRATION + 1 :]
    assert all(r.boxes for r in settled)
    assert all(0 < r.area_fraction < 0.5 for r in settled)
    h, w = vtest_frames[0].shape[:2]
    for box in settled[-1].boxes:
        assert 0 <= box.x1 < box.x2 <= w
        assert 0 <= box.y1 < box.y2 <= h
    # The people the detector sees in that frame are inside motion boxes.
    people = [d for d in detector.detect(vtest_frames[29]) if d.score >= 0.4]
    assert len(people) >= 2
    overlapped = [
        p for p in people if any(p.bbox.intersection_area(m) > 0 for m in settled[-1].boxes)
    ]
    assert overlapped == people


def test_brightness_jump_recalibrates_instead_of_flooding(vtest_frames: list[Frame]) -> None:
    motion = MotionDetector()
    run(motion, vtest_frames[:15])
    brighter = [np.clip(f.astype(np.int16) + 80, 0, 255).astype(np.uint8) for f in vtest_frames]
    jump = motion.detect(brighter[15])
    assert jump.scene_change
    assert jump.calibrating
    assert jump.boxes == ()
    after = run(motion, brighter[16:35])
    assert all(r.calibrating and not r.boxes for r in after[:CALIBRATION])
    settled = after[CALIBRATION:]
    assert all(not r.scene_change for r in after)
    # People keep walking in the brighter scene: some motion, never a full-frame flood.
    assert any(r.boxes for r in settled)
    assert max(r.area_fraction for r in settled) < 0.5


def test_full_mask_suppresses_all_motion(vtest_frames: list[Frame]) -> None:
    everything = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))
    results = run(MotionDetector(MotionConfig(masks=(everything,))), vtest_frames[:30])
    assert all(r.boxes == () for r in results)


def test_half_mask_keeps_motion_out_of_the_masked_half(vtest_frames: list[Frame]) -> None:
    left = ((0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0))
    masked = run(MotionDetector(MotionConfig(masks=(left,))), vtest_frames[:30])
    unmasked = run(MotionDetector(), vtest_frames[:30])
    w = vtest_frames[0].shape[1]
    # Without the mask there is motion on the left; with it, none (dilation may spill ~2 px).
    assert any(b.x1 < w / 2 - 20 for r in unmasked for b in r.boxes)
    boxes = [b for r in masked for b in r.boxes]
    assert boxes
    assert all(b.x1 >= w / 2 - 16 for b in boxes)


def test_resolution_change_recalibrates(vtest_frames: list[Frame]) -> None:
    motion = MotionDetector()
    run(motion, vtest_frames[:10])
    assert not motion.calibrating
    assert motion.detect(vtest_frames[10][:288, :384]).calibrating


@pytest.mark.parametrize(
    "kwargs",
    [
        {"masks": (((0.0, 0.0), (1.0, 0.0)),)},
        {"masks": (((0.0, 0.0), (2.0, 0.0), (1.0, 1.0)),)},
        {"blur_kernel": 4},
        {"learning_rate": 0.0},
        {"frame_height": 4},
    ],
)
def test_bad_motion_config_is_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError, match=r"motion|mask|scene"):
        MotionConfig(**kwargs)
