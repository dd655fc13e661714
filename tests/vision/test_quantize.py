"""The INT8 detector: built from the shipped YOLOv8s and vtest.avi, it finds the same people as
fp32 on frames it was not calibrated on and on photos; it is cached; failures are clear.

The model is quantized once per session (~30 s) into a temporary cache directory."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import onnx
import pytest
from structlog.testing import capture_logs
from typer.testing import CliRunner

from vigil.cli import app
from vigil.settings import get_settings
from vigil.vision import DetectorConfig, ModelNotFoundError, OnnxYoloDetector
from vigil.vision.frames import Frame
from vigil.vision.models import DETECTOR_SETTING, resolve_detector_model
from vigil.vision.quantize import (
    CALIBRATION_SETTING,
    QuantizationError,
    calibration_indices,
    detector_model,
    head_nodes_to_exclude,
    int8_model,
)

from .conftest import VTEST, image

TRACKER_CONFIDENCE = 0.4  # VIGIL_DETECTOR_CONFIDENCE: the boxes that start tracks


@pytest.fixture(scope="session")
def int8_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Laid out like a user cache: $XDG_CACHE_HOME/vigil/models."""
    models = tmp_path_factory.mktemp("xdg-cache") / "vigil" / "models"
    models.mkdir(parents=True)
    return models


@pytest.fixture(scope="session")
def int8_path(int8_cache: Path) -> Path:
    return int8_model(resolve_detector_model(), VTEST, [int8_cache], progress=False)


@pytest.fixture(scope="session")
def int8_detector(int8_path: Path) -> OnnxYoloDetector:
    return OnnxYoloDetector(int8_path, DetectorConfig(threads=2))


def held_out_frames(count: int = 10) -> list[Frame]:
    """vtest frames spread over the clip, none of them a calibration frame."""
    cap = cv2.VideoCapture(str(VTEST))
    total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    wanted = {i * total // count + 7 for i in range(count)}
    assert not wanted & set(calibration_indices(total, 40))
    frames = []
    for index in range(max(wanted) + 1):
        ok, frame = cap.read()
        assert ok
        if index in wanted:
            frames.append(np.asarray(frame, np.uint8))
    cap.release()
    return frames


def test_int8_finds_the_same_people_as_fp32(
    detector: OnnxYoloDetector, int8_detector: OnnxYoloDetector
) -> None:
    frames = [*held_out_frames(), image("bus.jpg"), image("zidane.jpg")]
    boxes = matched = 0
    for frame in frames:
        full = [d for d in detector.detect(frame) if d.score >= TRACKER_CONFIDENCE]
        quantized = int8_detector.detect(frame)  # down to the detector's own 0.25
        counted = [d for d in quantized if d.score >= TRACKER_CONFIDENCE]
        assert abs(len(counted) - len(full)) <= 1
        for d in full:
            boxes += 1
            best = max(quantized, key=lambda q: q.bbox.iou(d.bbox), default=None)
            if best is not None and best.bbox.iou(d.bbox) >= 0.7:
                matched += 1
                assert abs(best.score - d.score) <= 0.15
                assert best.label == d.label == "person"
    assert boxes >= 40  # the comparison is about real crowds, not empty frames
    assert matched >= 0.9 * boxes


def test_a_cached_build_is_reused(int8_path: Path, int8_cache: Path, tmp_path: Path) -> None:
    before = int8_path.stat()
    assert {p.name for p in int8_cache.iterdir()} == {int8_path.name, f".{int8_path.name}.lock"}
    again = int8_model(resolve_detector_model(), VTEST, [int8_cache])
    assert again == int8_path
    after = again.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    # A fresh data dir finds it in a second (shared) cache dir and writes nothing of its own.
    fresh = tmp_path / "models"
    assert int8_model(resolve_detector_model(), VTEST, [fresh, int8_cache]) == int8_path
    assert not fresh.exists()
    # Without calibration footage, an earlier build of the same model still serves.
    assert int8_model(resolve_detector_model(), None, [int8_cache]) == int8_path


def test_int8_is_the_dataflows_model(int8_path: Path, int8_cache: Path) -> None:
    from vigil.streaming.backends import BackendConfig, VisionBackends

    backends = VisionBackends(
        BackendConfig(
            detector_threads=1,
            detector_precision="int8",
            calibration=VTEST,
            model_cache_dirs=(int8_cache,),
            face_backend=None,
        )
    )
    detector, _ = backends.get()
    assert isinstance(detector, OnnxYoloDetector)
    assert detector.model_path == int8_path


def test_vigil_models_prepare(
    int8_path: Path, int8_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(int8_cache.parents[1]))
    monkeypatch.setenv("VIGIL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("VIGIL_LOG_JSON", "false")
    monkeypatch.setenv("VIGIL_DETECTOR_CALIBRATION_PATH", str(VTEST))
    monkeypatch.setenv("VIGIL_DETECTOR_REGION_SIZE", "0")  # 320 regions: test_resize_model
    runner = CliRunner()
    get_settings.cache_clear()
    try:
        ready = runner.invoke(app, ["models", "prepare"])
        assert ready.exit_code == 0, ready.output
        assert f"INT8 detector ready (640 px): {int8_path}" in ready.output  # in the user cache
        monkeypatch.setenv("VIGIL_DETECTOR_CALIBRATION_PATH", str(tmp_path / "none.avi"))
        get_settings.cache_clear()
        missing = runner.invoke(app, ["models", "prepare"])
        assert missing.exit_code == 1
        assert CALIBRATION_SETTING in missing.output
        monkeypatch.setenv("VIGIL_DETECTOR_PRECISION", "fp32")
        get_settings.cache_clear()
        fp32 = runner.invoke(app, ["models", "prepare"])
        assert fp32.exit_code == 0 and "nothing to prepare" in fp32.output
        # fp32 regions at 320 need the rewritten graph: built into the data dir.
        monkeypatch.setenv("VIGIL_DETECTOR_REGION_SIZE", "320")
        get_settings.cache_clear()
        resized = runner.invoke(app, ["models", "prepare"])
        assert resized.exit_code == 0, resized.output
        assert f"fp32 detector ready (320 px): {tmp_path / 'models'}" in resized.output
    finally:
        get_settings.cache_clear()


@pytest.mark.parametrize("precision", ["int8", "fp32"])
def test_a_missing_source_model_names_the_setting(precision: str, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=DETECTOR_SETTING):
        detector_model(precision, tmp_path / "nope.onnx", VTEST, [tmp_path])  # type: ignore[arg-type]


def test_a_corrupt_source_model_names_the_setting(tmp_path: Path) -> None:
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"\x08\x07not an onnx model" * 100)
    cache = tmp_path / "models"
    with pytest.raises(ValueError, match=DETECTOR_SETTING):
        detector_model("int8", broken, VTEST, [cache])
    assert not list(cache.glob("*.onnx"))


def test_without_calibration_footage_fp32_is_used_with_a_warning(tmp_path: Path) -> None:
    few = tmp_path / "two-images"
    few.mkdir()
    for name in ("bus.jpg", "zidane.jpg"):
        cv2.imwrite(str(few / name), image(name))
    fp32 = resolve_detector_model()
    for calibration in (None, few, tmp_path / "missing.avi"):
        with capture_logs() as logs:
            model = detector_model("int8", None, calibration, [tmp_path / "models"])
        assert model == fp32
        warnings = [e for e in logs if e["log_level"] == "warning"]
        assert [e["event"] for e in warnings] == ["int8_model_unavailable"]
        assert CALIBRATION_SETTING in warnings[0]["error"]
        assert warnings[0]["fallback"] == str(fp32)
    with pytest.raises(QuantizationError, match="gave 2 readable frames"):
        int8_model(fp32, few, [tmp_path / "models"])
    # A cache that cannot be written (here: a path under a file) is the same: fp32, a warning.
    (tmp_path / "a-file").write_text("")
    with capture_logs() as logs:
        assert detector_model("int8", None, VTEST, [tmp_path / "a-file" / "models"]) == fp32
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == ["int8_model_unavailable"]


def test_the_float_head_is_found_by_name_or_by_ancestry() -> None:
    model = onnx.load(str(resolve_detector_model()))
    graph = model.graph
    by_name = set(head_nodes_to_exclude(graph))
    ops = {n.name: n.op_type for n in graph.node}
    assert "/model.22/Concat_5" in by_name  # boxes in pixels + scores in 0..1: must stay float
    assert all(name.startswith("/model.22/") and ops[name] != "Conv" for name in by_name)
    # An export without Ultralytics names: everything from the output back to the last Convs.
    for i, node in enumerate(graph.node):
        node.name = f"node{i}"
    renamed = {n.name: n for n in graph.node}
    by_ancestry = set(head_nodes_to_exclude(graph))
    output = next(n for n in graph.node if graph.output[0].name in n.output)
    assert output.name in by_ancestry
    assert {renamed[n].op_type for n in by_ancestry} >= {"Concat", "Sigmoid", "Split", "Mul"}
    assert all(renamed[n].op_type != "Conv" for n in by_ancestry)
