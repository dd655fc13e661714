"""The detector and face backend of each dataflow worker thread.

A Bytewax worker is a thread that runs every camera it owns one after the other, so one
detector per worker is enough; YuNet is not thread-safe, so two workers never share one.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from vigil.vision import Detector, DetectorConfig, FaceBackend, create_detector, create_face_backend
from vigil.vision.detector import TieredDetector
from vigil.vision.quantize import Precision, detector_model


@dataclass(frozen=True)
class BackendConfig:
    detector_backend: Literal["onnx", "ultralytics"] = "onnx"
    detector_model_path: Path | None = None
    detector_threads: int = 0  # inference threads (onnxruntime or torch); 0: the default
    # The ONNX backend's weights: fp32 as shipped, or an INT8 copy calibrated on `calibration`
    # and cached in the first of `model_cache_dirs` (the dataflow passes the settings' int8).
    detector_precision: Precision = "fp32"
    calibration: Path | None = None
    model_cache_dirs: tuple[Path, ...] = ()
    # ONNX input sizes (None: the export's own): regions run at `region_size`, whole frames at
    # `frame_size`; the export is rewritten for other sizes and cached in `model_cache_dirs`.
    region_size: int | None = None
    frame_size: int | None = None
    face_backend: Literal["opencv", "insightface"] | None = "opencv"  # None: no faces
    face_model_dir: Path | None = None
    insightface_model_pack: Path | None = None


class VisionBackends:
    def __init__(self, config: BackendConfig) -> None:
        self.config = config
        self._local = threading.local()
        self._model_lock = threading.Lock()
        self._models: dict[int | None, Path | None] = {}  # size -> weights, once per process

    def get(self) -> tuple[Detector, FaceBackend | None]:
        """This thread's backends, built on first use."""
        found: tuple[Detector, FaceBackend | None] | None = getattr(self._local, "backends", None)
        if found is None:
            found = self._local.backends = self.build()
        return found

    def detector_model(self, size: int | None = None) -> Path | None:
        """The detector's weights for an input size, resolved once for every worker thread:
        an INT8 build is ~30 s of CPU, and the threads would otherwise each start one."""
        cfg = self.config
        if cfg.detector_backend != "onnx":
            return cfg.detector_model_path
        if cfg.detector_precision == "fp32" and size is None:
            return cfg.detector_model_path
        with self._model_lock:
            if size not in self._models:
                self._models[size] = detector_model(
                    cfg.detector_precision,
                    cfg.detector_model_path,
                    cfg.calibration,
                    cfg.model_cache_dirs,
                    size=size,
                )
            return self._models[size]

    def build(self) -> tuple[Detector, FaceBackend | None]:
        cfg = self.config
        # The detector's own threshold stays low (ByteTrack keeps tracks alive on weak boxes);
        # VIGIL_DETECTOR_CONFIDENCE is the tracker's threshold to start a track.
        config = DetectorConfig(threads=cfg.detector_threads)
        whole = self.detector_model(cfg.frame_size)
        detector = create_detector(cfg.detector_backend, whole, config)
        side = cfg.region_size
        if cfg.detector_backend == "onnx" and side is not None and side != cfg.frame_size:
            regions = create_detector("onnx", self.detector_model(side), config)
            detector = TieredDetector(detector, regions, side)
        faces = None
        if cfg.face_backend is not None:
            faces = create_face_backend(
                cfg.face_backend, cfg.face_model_dir, cfg.insightface_model_pack
            )
        return detector, faces
