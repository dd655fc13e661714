"""Vigil's vision layer: motion, person detection, tracking and faces, as plain Python.

Nothing here knows about Bytewax, Kafka or the database; configuration comes in as dataclasses.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the names below resolve on first use, so importing vigil.vision.types
    # (records, the API) does not load OpenCV, onnxruntime and SciPy into every service.
    from vigil.vision.analyzer import AnalyzerConfig, AnalyzerSnapshot, CameraAnalyzer
    from vigil.vision.detector import (
        Detector,
        DetectorConfig,
        OnnxYoloDetector,
        UltralyticsDetector,
        create_detector,
    )
    from vigil.vision.errors import (
        BackendUnavailableError,
        InvalidFrameError,
        ModelNotFoundError,
        VisionError,
    )
    from vigil.vision.face_quality import BestFacePerTrack, FaceQualityConfig
    from vigil.vision.faces import (
        SFACE_THRESHOLD,
        FaceBackend,
        FaceDetector,
        FaceEmbedder,
        InsightFaceBackend,
        OpenCVFaceBackend,
        cosine_similarity,
        create_face_backend,
    )
    from vigil.vision.motion import MotionConfig, MotionDetector
    from vigil.vision.tracker import PersonTracker, TrackerConfig
    from vigil.vision.types import (
        BBox,
        Detection,
        FaceObservation,
        FrameAnalysis,
        MotionResult,
        PersonObservation,
    )

_SOURCES = {
    "AnalyzerConfig": "vigil.vision.analyzer",
    "AnalyzerSnapshot": "vigil.vision.analyzer",
    "CameraAnalyzer": "vigil.vision.analyzer",
    "Detector": "vigil.vision.detector",
    "DetectorConfig": "vigil.vision.detector",
    "OnnxYoloDetector": "vigil.vision.detector",
    "UltralyticsDetector": "vigil.vision.detector",
    "create_detector": "vigil.vision.detector",
    "BackendUnavailableError": "vigil.vision.errors",
    "InvalidFrameError": "vigil.vision.errors",
    "ModelNotFoundError": "vigil.vision.errors",
    "VisionError": "vigil.vision.errors",
    "BestFacePerTrack": "vigil.vision.face_quality",
    "FaceQualityConfig": "vigil.vision.face_quality",
    "SFACE_THRESHOLD": "vigil.vision.faces",
    "FaceBackend": "vigil.vision.faces",
    "FaceDetector": "vigil.vision.faces",
    "FaceEmbedder": "vigil.vision.faces",
    "InsightFaceBackend": "vigil.vision.faces",
    "OpenCVFaceBackend": "vigil.vision.faces",
    "cosine_similarity": "vigil.vision.faces",
    "create_face_backend": "vigil.vision.faces",
    "MotionConfig": "vigil.vision.motion",
    "MotionDetector": "vigil.vision.motion",
    "PersonTracker": "vigil.vision.tracker",
    "TrackerConfig": "vigil.vision.tracker",
    "BBox": "vigil.vision.types",
    "Detection": "vigil.vision.types",
    "FaceObservation": "vigil.vision.types",
    "FrameAnalysis": "vigil.vision.types",
    "MotionResult": "vigil.vision.types",
    "PersonObservation": "vigil.vision.types",
}


def __getattr__(name: str) -> Any:
    if name not in _SOURCES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_SOURCES[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "SFACE_THRESHOLD",
    "AnalyzerConfig",
    "AnalyzerSnapshot",
    "BBox",
    "BackendUnavailableError",
    "BestFacePerTrack",
    "CameraAnalyzer",
    "Detection",
    "Detector",
    "DetectorConfig",
    "FaceBackend",
    "FaceDetector",
    "FaceEmbedder",
    "FaceObservation",
    "FaceQualityConfig",
    "FrameAnalysis",
    "InsightFaceBackend",
    "InvalidFrameError",
    "ModelNotFoundError",
    "MotionConfig",
    "MotionDetector",
    "MotionResult",
    "OnnxYoloDetector",
    "OpenCVFaceBackend",
    "PersonObservation",
    "PersonTracker",
    "TrackerConfig",
    "UltralyticsDetector",
    "VisionError",
    "cosine_similarity",
    "create_detector",
    "create_face_backend",
]
