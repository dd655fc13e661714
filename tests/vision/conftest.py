"""Vision fixtures: real footage and photos from ../shared/data, real shipped models.

Models are loaded once per session; vtest.avi frames are decoded once (the first 40 only)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from vigil.vision import (
    DetectorConfig,
    OnnxYoloDetector,
    OpenCVFaceBackend,
)
from vigil.vision.frames import Frame

DATA = Path(
    os.environ.get("VIGIL_TEST_DATA_DIR", Path(__file__).resolve().parents[3] / "shared" / "data")
)
VTEST = DATA / "footage" / "vtest.avi"
FACES = DATA / "faces"
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
VTEST_FPS = 10


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def image(name: str) -> Frame:
    path = FACES / name
    img = cv2.imread(str(path))
    if img is None:
        pytest.fail(f"test image {path} is missing (see shared/data/SOURCES.md)")
    return np.ascontiguousarray(img)


@pytest.fixture(scope="session")
def vtest_frames() -> list[Frame]:
    if not VTEST.is_file():
        pytest.fail(f"{VTEST} is missing (see shared/data/SOURCES.md)")
    cap = cv2.VideoCapture(str(VTEST))
    frames: list[Frame] = []
    while len(frames) < 40:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    assert len(frames) == 40
    return frames


@pytest.fixture(scope="session")
def detector() -> OnnxYoloDetector:
    return OnnxYoloDetector(config=DetectorConfig(threads=2))


@pytest.fixture(scope="session")
def face_backend() -> OpenCVFaceBackend:
    return OpenCVFaceBackend()


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cache of resized and INT8 detector files for the whole session (builds are slow)."""
    return tmp_path_factory.mktemp("model-cache")
