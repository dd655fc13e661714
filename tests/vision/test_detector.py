"""The ONNX person detector on real photos and footage: whole frame, region and 320 input."""

from __future__ import annotations

import pytest

from vigil.vision import BBox, DetectorConfig, OnnxYoloDetector
from vigil.vision.detector import default_class_map
from vigil.vision.frames import Frame

from .conftest import image


def inside(box: BBox, w: int, h: int) -> bool:
    return 0 <= box.x1 < box.x2 <= w and 0 <= box.y1 < box.y2 <= h


def test_people_by_the_bus(detector: OnnxYoloDetector) -> None:
    bus = image("bus.jpg")
    h, w = bus.shape[:2]
    people = [d for d in detector.detect(bus) if d.score >= 0.4]
    assert len(people) >= 3
    assert all(d.label == "person" and inside(d.bbox, w, h) for d in people)
    assert all(d.class_name in ("Normal", "Fall") for d in people)
    assert all(d.bbox.height > d.bbox.width for d in people)  # standing people


def test_pedestrians_on_the_plaza(detector: OnnxYoloDetector, vtest_frames: list[Frame]) -> None:
    people = [d for d in detector.detect(vtest_frames[20]) if d.score >= 0.4]
    assert len(people) >= 3
    assert all(inside(d.bbox, 768, 576) for d in people)


def test_region_boxes_come_back_in_frame_coordinates(
    detector: OnnxYoloDetector, vtest_frames: list[Frame]
) -> None:
    frame = vtest_frames[20]
    whole = detector.detect(frame)
    region = BBox(300, 100, 620, 420)
    part = detector.detect(frame, region)
    assert part
    for d in part:
        assert d.bbox.x1 >= region.x1 - 1
        assert d.bbox.x2 <= region.x2 + 1
        assert d.bbox.y1 >= region.y1 - 1
        assert d.bbox.y2 <= region.y2 + 1
    # People the whole-frame pass found inside the region are found again, in the same place,
    # and with more confidence: the region is upscaled 2x into the 640 input.
    inner = [
        o
        for o in whole
        if o.class_name == "Normal" and region.intersection_area(o.bbox) == o.bbox.area
    ]
    assert len(inner) >= 2
    for o in inner:
        match = max(part, key=lambda d: d.bbox.iou(o.bbox))
        assert match.bbox.iou(o.bbox) > 0.6
        assert match.score > o.score


def test_fall_class_needs_more_confidence(
    detector: OnnxYoloDetector, vtest_frames: list[Frame]
) -> None:
    # vtest has no falls, but the model sees a lying person in a bench at ~0.5.
    lenient = OnnxYoloDetector(config=DetectorConfig(class_confidence={}, threads=2))
    assert any(d.class_name == "Fall" for d in lenient.detect(vtest_frames[0]))
    assert all(d.class_name != "Fall" or d.score >= 0.6 for d in detector.detect(vtest_frames[0]))


def test_320_input_keeps_full_frame_coordinates(detector: OnnxYoloDetector) -> None:
    bus = image("bus.jpg")
    small = OnnxYoloDetector(config=DetectorConfig(input_width=320, threads=2))
    full = [d for d in detector.detect(bus) if d.score >= 0.4]
    low = [d for d in small.detect(bus) if d.score >= 0.4]
    assert len(low) >= 2
    for d in low:
        assert max(d.bbox.iou(o.bbox) for o in full) > 0.6


def test_class_map_relabels_and_filters(detector: OnnxYoloDetector) -> None:
    bus = image("bus.jpg")
    relabelled = OnnxYoloDetector(
        config=DetectorConfig(class_map={"Normal": "pedestrian"}, min_box_area=20000, threads=2)
    )
    found = relabelled.detect(bus)
    assert found
    assert all(d.label == "pedestrian" and d.class_name == "Normal" for d in found)
    assert all(d.bbox.area >= 20000 for d in found)
    assert relabelled.labels == frozenset({"pedestrian"})


def test_default_class_maps() -> None:
    assert default_class_map({0: "person", 1: "bicycle"}) == {"person": "person"}
    assert default_class_map({0: "Normal", 1: "Fall"}) == {"Normal": "person", "Fall": "person"}
    with pytest.raises(ValueError, match="class_map"):
        default_class_map({0: "cat", 1: "dog"})


def test_bad_detector_config_is_refused() -> None:
    with pytest.raises(ValueError, match="confidence"):
        DetectorConfig(confidence=1.5)
    with pytest.raises(ValueError, match="input_width"):
        DetectorConfig(input_width=8)
