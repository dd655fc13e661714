"""The Ultralytics backend (extra `vigil[ultralytics]`, installed by the test setup): the same
weights as the ONNX export, so the same people, in the same places, through one interface."""

from __future__ import annotations

from pathlib import Path

import pytest

from vigil.vision import BBox, DetectorConfig, OnnxYoloDetector
from vigil.vision.detector import UltralyticsDetector, create_detector
from vigil.vision.errors import ModelNotFoundError
from vigil.vision.frames import Frame
from vigil.vision.models import DETECTOR_SETTING

from .conftest import image


@pytest.fixture(scope="module")
def ultralytics_detector() -> UltralyticsDetector:
    detector = create_detector("ultralytics", config=DetectorConfig(threads=2))
    assert isinstance(detector, UltralyticsDetector)
    return detector


def people(detections: list, min_score: float = 0.5) -> list:
    return [d for d in detections if d.label == "person" and d.score >= min_score]


def assert_same_people(ours: list, theirs: list) -> None:
    """Every confident ONNX person has an Ultralytics twin with a similar score, nearly always
    in the same place. The export is fp16 and Ultralytics letterboxes to the smallest stride
    multiple, so a person cut by the image edge may differ (IoU 0.64 on bus.jpg)."""
    assert ours
    overlaps = []
    for o in ours:
        twin = max(theirs, key=lambda d: d.bbox.iou(o.bbox))
        overlaps.append(twin.bbox.iou(o.bbox))
        assert overlaps[-1] > 0.6, (o, twin)
        assert abs(twin.score - o.score) < 0.15, (o, twin)
    assert sorted(overlaps)[len(overlaps) // 2] > 0.9  # the median


def test_the_packaged_pt_finds_the_people_the_onnx_export_finds(
    ultralytics_detector: UltralyticsDetector,
    detector: OnnxYoloDetector,
    vtest_frames: list[Frame],
) -> None:
    assert ultralytics_detector.model_path.name == "best.pt"
    assert ultralytics_detector.labels == detector.labels
    for frame in (image("bus.jpg"), image("zidane.jpg"), vtest_frames[20]):
        ours = people(detector.detect(frame))
        theirs = people(ultralytics_detector.detect(frame), min_score=0.3)
        assert_same_people(ours, theirs)


def test_region_detection_returns_frame_coordinates(
    ultralytics_detector: UltralyticsDetector, vtest_frames: list[Frame]
) -> None:
    frame = vtest_frames[20]
    region = BBox(300, 100, 620, 420)
    found = ultralytics_detector.detect(frame, region)
    assert found
    for d in found:
        assert region.x1 - 1 <= d.bbox.x1 < d.bbox.x2 <= region.x2 + 1
        assert region.y1 - 1 <= d.bbox.y1 < d.bbox.y2 <= region.y2 + 1


def test_the_confidence_threshold_applies(ultralytics_detector: UltralyticsDetector) -> None:
    strict = create_detector("ultralytics", config=DetectorConfig(confidence=0.8, threads=2))
    bus = image("bus.jpg")
    assert all(d.score >= 0.8 for d in strict.detect(bus))
    assert len(strict.detect(bus)) < len(ultralytics_detector.detect(bus))


def test_a_missing_weights_file_names_the_setting_instead_of_downloading(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=DETECTOR_SETTING):
        create_detector("ultralytics", tmp_path / "yolov8n.pt")
    assert not (tmp_path / "yolov8n.pt").exists()
