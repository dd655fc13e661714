"""Bad frames and timestamps are refused with a clear error, and leave no trace."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pytest

from vigil.vision import CameraAnalyzer, InvalidFrameError, MotionDetector, OnnxYoloDetector
from vigil.vision.faces import OpenCVFaceBackend
from vigil.vision.frames import Frame

from .conftest import at

BAD_FRAMES = [
    pytest.param(np.zeros((0, 0, 3), np.uint8), "empty", id="empty"),
    pytest.param(np.zeros((576, 768), np.uint8), "HxWx3", id="grey"),
    pytest.param(np.zeros((576, 768, 4), np.uint8), "HxWx3", id="bgra"),
    pytest.param(np.zeros((576, 768, 3), np.float32), "uint8", id="float"),
    pytest.param([[0, 0, 0]], "numpy array", id="list"),
    pytest.param(None, "numpy array", id="none"),
]


@pytest.mark.parametrize(("frame", "message"), BAD_FRAMES)
def test_bad_frames_are_refused_everywhere(
    frame: Any, message: str, detector: OnnxYoloDetector, face_backend: OpenCVFaceBackend
) -> None:
    for call in (
        MotionDetector().detect,
        detector.detect,
        face_backend.detect,
        lambda f: CameraAnalyzer("cam", detector).process(f, at(0)),
    ):
        with pytest.raises(InvalidFrameError, match=message):
            call(frame)


def test_refused_input_leaves_the_analyzer_untouched(
    detector: OnnxYoloDetector, vtest_frames: list[Frame]
) -> None:
    analyzer = CameraAnalyzer("cam", detector)
    with pytest.raises(InvalidFrameError, match="timezone-aware"):
        analyzer.process(vtest_frames[0], datetime(2026, 1, 1))
    with pytest.raises(InvalidFrameError, match="uint8"):
        analyzer.process(vtest_frames[0].astype(np.float32), at(0))  # type: ignore[arg-type]
    result = analyzer.process(vtest_frames[0], at(0))
    assert result.frame_index == 0
    assert result.analysed
