"""Vigil's vision layer: motion, person detection, tracking and faces, as plain Python.

Nothing here knows about Bytewax, Kafka or the database; configuration comes in as dataclasses.
"""

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
