"""Person detectors: the Detector protocol, YOLO ONNX on onnxruntime, and ultralytics (optional).

Every backend maps the model's class names to Vigil labels through a class map (classes not in
the map are dropped) and can run on a region of the frame, returning boxes in full-frame pixels.
"""

from __future__ import annotations

import ast
import importlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import cv2
import numpy as np
import numpy.typing as npt

from vigil.logs import get_logger
from vigil.vision.errors import BackendUnavailableError
from vigil.vision.frames import Frame, crop, resize, validate_frame
from vigil.vision.models import DETECTOR_SETTING, resolve_detector_model
from vigil.vision.types import BBox, Detection

log = get_logger(__name__)

PERSON = "person"
# The shipped fall-detection YOLOv8s knows two postures; both are a person.
FALL_MODEL_CLASS_MAP: Mapping[str, str] = {"Normal": PERSON, "Fall": PERSON}
COCO_CLASS_MAP: Mapping[str, str] = {"person": PERSON}
# Its 'Fall' class fires on static lying shapes (a bench in vtest.avi at a steady 0.5, a dog in
# person.jpg at 0.5): demand more before a lying shape counts.
FALL_MODEL_CLASS_CONFIDENCE: Mapping[str, float] = {"Fall": 0.6}


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    # Low on purpose: the tracker starts tracks only above its own (higher) confidence and uses
    # the weaker boxes to keep existing tracks alive (ByteTrack).
    confidence: float = 0.25
    iou_threshold: float = 0.45  # NMS
    min_box_area: float = 64.0  # full-frame pixels; drops specks
    # Downscale the frame (or region) to this width before the letterbox. With the shipped
    # static 640x640 export this saves nothing (the model still runs at 640); it pays with a
    # smaller export.
    input_width: int | None = None
    class_map: Mapping[str, str] | None = None  # None: derived from the model's class names
    # Per-class minimum scores above `confidence`; None: the model's default (see above).
    class_confidence: Mapping[str, float] | None = None
    threads: int = 0  # inference threads (onnxruntime intra-op, torch); 0 = the backend's default
    extra: Mapping[str, Any] = field(default_factory=dict)  # backend-specific options

    def __post_init__(self) -> None:
        if not 0 <= self.confidence <= 1 or not 0 < self.iou_threshold <= 1:
            raise ValueError("detector confidence and iou_threshold must be within 0..1")
        if self.input_width is not None and self.input_width < 32:
            raise ValueError("detector input_width must be at least 32 pixels")


class Detector(Protocol):
    """Finds objects in a BGR frame; `region` restricts the search (boxes stay frame-relative).
    `detect_regions` searches several regions at once and merges what they find."""

    labels: frozenset[str]

    def detect(self, frame_bgr: Frame, region: BBox | None = None) -> list[Detection]: ...

    def detect_regions(self, frame_bgr: Frame, regions: Sequence[BBox]) -> list[Detection]: ...


def default_class_map(names: Mapping[int, str]) -> dict[str, str]:
    """The class map for a model: COCO's 'person', or the fall model's two postures."""
    values = set(names.values())
    if PERSON in values:
        return dict(COCO_CLASS_MAP)
    if values == set(FALL_MODEL_CLASS_MAP):
        return dict(FALL_MODEL_CLASS_MAP)
    raise ValueError(
        f"model classes {sorted(values)[:10]} include no 'person': pass a class_map "
        "(model class name -> 'person')"
    )


def default_class_confidence(class_map: Mapping[str, str]) -> dict[str, float]:
    return dict(FALL_MODEL_CLASS_CONFIDENCE) if set(class_map) == set(FALL_MODEL_CLASS_MAP) else {}


@dataclass(frozen=True, slots=True)
class Found:
    """Raw boxes of one model input: xyxy in the prepared image's pixels, and how that image
    maps back to the frame (divide by `scale`, then shift by `offset`)."""

    boxes: npt.NDArray[np.float32]
    scores: npt.NDArray[np.float32]
    class_ids: npt.NDArray[np.int64]
    scale: float
    offset: tuple[int, int]
    window: BBox  # the part of the frame the image shows


CUT_OVERLAP = 0.6  # share of a box inside a bigger box of another region: the same person, cut
EDGE_PX = 2.0


def is_cut(box: BBox, window: BBox, width: int, height: int) -> bool:
    """Whether `box` touches an edge of `window` inside the frame (so it may be cut there)."""
    return (
        (window.x1 > 0 and box.x1 <= window.x1 + EDGE_PX)
        or (window.y1 > 0 and box.y1 <= window.y1 + EDGE_PX)
        or (window.x2 < width and box.x2 >= window.x2 - EDGE_PX)
        or (window.y2 < height and box.y2 >= window.y2 - EDGE_PX)
    )


def merge_cut_boxes(boxes: Sequence[BBox], group: Sequence[int], cut: Sequence[bool]) -> list[bool]:
    """Which boxes to keep when regions overlap: a person at one region's edge is found cut
    in half there and whole in the next region; NMS misses the pair (low IoU), so a box cut by
    its region's edge and mostly inside a bigger box from another region is dropped (a person
    half hidden behind another, found whole in its own region, stays)."""
    keep = [True] * len(boxes)
    for j, small in enumerate(boxes):
        if not cut[j]:
            continue
        for i, big in enumerate(boxes):
            if group[i] == group[j] or big.area <= small.area or not keep[i]:
                continue
            if big.intersection_area(small) >= CUT_OVERLAP * small.area:
                keep[j] = False
                break
    return keep


def _prepare(
    frame: Frame, region: BBox | None, input_width: int | None
) -> tuple[Frame, float, int, int]:
    """Crop to the region and downscale to `input_width`; return image, scale, offset."""
    image, ox, oy = crop(frame, region) if region is not None else (frame, 0, 0)
    scale = 1.0
    if input_width is not None and image.shape[1] > input_width:
        scale = input_width / image.shape[1]
        image = resize(image, input_width, max(1, round(image.shape[0] * scale)))
    return image, scale, ox, oy


def letterbox(
    image: Frame, size: tuple[int, int]
) -> tuple[npt.NDArray[np.float32], float, tuple[int, int]]:
    """The model input: `image` scaled to fit `size` (w, h), padded grey, RGB 0..1 NCHW; and the
    scale and padding to map boxes back. INT8 calibration feeds frames through this too."""
    tw, th = size
    h, w = image.shape[:2]
    ratio = min(tw / w, th / h)
    nw, nh = round(w * ratio), round(h * ratio)
    canvas = np.full((th, tw, 3), 114, np.uint8)
    px, py = (tw - nw) // 2, (th - nh) // 2
    canvas[py : py + nh, px : px + nw] = resize(image, nw, nh)
    blob = np.asarray(cv2.dnn.blobFromImage(canvas, 1 / 255.0, swapRB=True), np.float32)
    return blob, ratio, (px, py)


class _Classes:
    """The model's classes, what they map to, and the shared post-processing."""

    def __init__(self, names: Mapping[int, str], cfg: DetectorConfig) -> None:
        self.names = dict(names)
        self.cfg = cfg
        self.class_map = dict(cfg.class_map or default_class_map(self.names))
        self.min_score = dict(
            cfg.class_confidence
            if cfg.class_confidence is not None
            else default_class_confidence(self.class_map)
        )
        self.labels = frozenset(self.class_map.values())
        self._label_ids = {label: i for i, label in enumerate(sorted(self.labels))}

    def finish_regions(
        self, found: Sequence[Found], frame_size: tuple[int, int]
    ) -> list[Detection]:
        """`finish` over what several regions found: NMS across them, and a box cut by one
        region's edge yields to the whole one another region saw (see merge_cut_boxes)."""
        cfg = self.cfg
        kept: list[tuple[BBox, float, str, str]] = []
        group: list[int] = []
        cut: list[bool] = []
        for i, part in enumerate(found):
            for box, score, cid in zip(part.boxes, part.scores, part.class_ids, strict=True):
                name = self.names.get(int(cid), str(cid))
                if name in self.class_map and score >= self.min_score.get(name, cfg.confidence):
                    bbox = BBox(*(float(v) for v in box))
                    bbox = bbox.scaled(1 / part.scale, 1 / part.scale).shifted(*part.offset)
                    kept.append((bbox, float(score), self.class_map[name], name))
                    group.append(i)
                    cut.append(is_cut(bbox, part.window, *frame_size))
        if len(found) > 1:
            keep = merge_cut_boxes([k[0] for k in kept], group, cut)
            kept = [k for k, ok in zip(kept, keep, strict=True) if ok]
        if not kept:
            return []
        picked = cv2.dnn.NMSBoxesBatched(
            [[b.x1, b.y1, b.width, b.height] for b, *_ in kept],
            [score for _, score, *_ in kept],
            [self._label_ids[label] for _, _, label, _ in kept],
            cfg.confidence,
            cfg.iou_threshold,
        )
        out: list[Detection] = []
        for pick in np.asarray(picked, dtype=np.int64).reshape(-1):
            box, score, label, name = kept[pick]
            if box.area >= cfg.min_box_area:
                out.append(Detection(box, score, label, name))
        out.sort(key=lambda d: -d.score)
        return out


class OnnxYoloDetector:
    """A YOLOv8/11 ONNX export (output [1, 4 + classes, anchors]) on onnxruntime's CPU provider."""

    def __init__(
        self, model_path: str | Path | None = None, config: DetectorConfig | None = None
    ) -> None:
        import onnxruntime as ort  # deferred: importing it costs ~0.3 s

        self.config = config or DetectorConfig()
        self.model_path = resolve_detector_model(model_path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.config.threads
        options.inter_op_num_threads = 1
        # Idle pool threads sleep instead of spinning. The same speed on 1 thread or on an idle
        # machine; with 2 threads beside a busy core (another worker, ffmpeg) INT8 runs 1.5x
        # and fp32 1.25x faster: spinning burns the CPU the others need
        # (bench/bench_detector_precision.py).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self._session = ort.InferenceSession(
                str(self.model_path), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own untyped errors
            raise ValueError(
                f"{self.model_path} is not a loadable ONNX model ({exc}); check {DETECTOR_SETTING}"
            ) from exc
        meta = self._session.get_modelmeta().custom_metadata_map
        names = ast.literal_eval(meta["names"]) if "names" in meta else {0: PERSON}
        self.classes = _Classes(names, self.config)
        self.labels = self.classes.labels
        rows = self._session.get_outputs()[0].shape[1]
        if isinstance(rows, int) and rows != 4 + len(self.classes.names):
            raise ValueError(
                f"{self.model_path}: output {self._session.get_outputs()[0].shape} is not a "
                "YOLOv8/11 export [1, 4 + classes, anchors] (export with nms=False); "
                f"check {DETECTOR_SETTING}"
            )
        inp = self._session.get_inputs()[0]
        self._input_name = inp.name
        # A resized copy (vigil.vision.resize_model) takes any batch: regions run together.
        self.batched = not isinstance(inp.shape[0], int)
        h, w = inp.shape[2], inp.shape[3]
        # Static exports fix the size; dynamic ones report a name, so use the exported imgsz.
        fallback = ast.literal_eval(meta.get("imgsz", "[640, 640]"))
        self.input_size = (
            int(w) if isinstance(w, int) else int(fallback[1]),
            int(h) if isinstance(h, int) else int(fallback[0]),
        )
        log.info(
            "detector_loaded",
            model=str(self.model_path),
            input=self.input_size,
            classes=self.classes.names,
            threads=self.config.threads,
        )

    def detect(self, frame_bgr: Frame, region: BBox | None = None) -> list[Detection]:
        return self.detect_regions(frame_bgr, [region] if region is not None else [])

    def detect_regions(self, frame_bgr: Frame, regions: Sequence[BBox]) -> list[Detection]:
        """Every region in one inference when the model takes a batch; none: the whole frame."""
        frame = validate_frame(frame_bgr)
        targets: Sequence[BBox | None] = regions or [None]
        prepared = [_prepare(frame, r, self.config.input_width) for r in targets]
        prepared = [p for p in prepared if p[0].shape[0] >= 2 and p[0].shape[1] >= 2]
        if not prepared:
            return []
        found = self.infer([p[0] for p in prepared], prepared)
        return self.classes.finish_regions(found, (frame.shape[1], frame.shape[0]))

    def infer(
        self, images: Sequence[Frame], placement: Sequence[tuple[Frame, float, int, int]]
    ) -> list[Found]:
        """Raw boxes of each image; `placement[i]` maps image i back to its frame."""
        boxes = [self._letterbox(image) for image in images]
        if self.batched:
            blob = np.concatenate([b[0] for b in boxes])
            raws = list(self._session.run(None, {self._input_name: blob})[0])
        else:
            raws = [self._session.run(None, {self._input_name: b[0]})[0][0] for b in boxes]
        return [
            self._decode(raw, ratio, pad, image.shape[:2], scale, (ox, oy))
            for raw, (_, ratio, pad), (image, scale, ox, oy) in zip(
                raws, boxes, placement, strict=True
            )
        ]

    def _decode(
        self,
        raw: npt.NDArray[np.float32],
        ratio: float,
        pad: tuple[int, int],
        shape: tuple[int, ...],
        scale: float,
        offset: tuple[int, int],
    ) -> Found:
        preds = raw.T  # [anchors, 4 + nc]
        class_scores = preds[:, 4:]
        class_ids = class_scores.argmax(axis=1)
        scores = class_scores[np.arange(len(class_ids)), class_ids]
        mask = scores >= self.config.confidence
        preds, scores, class_ids = preds[mask], scores[mask], class_ids[mask]
        cx, cy, bw, bh = preds[:, 0], preds[:, 1], preds[:, 2], preds[:, 3]
        boxes = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
        boxes = (boxes - np.array([pad[0], pad[1], pad[0], pad[1]], np.float32)) / ratio
        ih, iw = shape[:2]
        boxes = np.clip(boxes, 0, [iw, ih, iw, ih]).astype(np.float32)
        window = BBox(offset[0], offset[1], offset[0] + iw / scale, offset[1] + ih / scale)
        return Found(
            boxes, scores.astype(np.float32), class_ids.astype(np.int64), scale, offset, window
        )

    def _letterbox(self, image: Frame) -> tuple[npt.NDArray[np.float32], float, tuple[int, int]]:
        return letterbox(image, self.input_size)


class UltralyticsDetector:
    """Any YOLO .pt/.onnx through ultralytics (optional extra `vigil[ultralytics]`)."""

    def __init__(self, model_path: str | Path, config: DetectorConfig | None = None) -> None:
        os.environ.setdefault("YOLO_OFFLINE", "1")  # never reach for the hub or a font download
        try:
            ultralytics = importlib.import_module("ultralytics")
        except ImportError as exc:
            raise BackendUnavailableError(
                "the ultralytics detector backend is not installed: "
                "pip install 'vigil[ultralytics]' (or set VIGIL_DETECTOR_BACKEND=onnx)"
            ) from exc
        self.config = config or DetectorConfig()
        if self.config.threads:  # the same budget as onnxruntime's intra-op threads
            importlib.import_module("torch").set_num_threads(self.config.threads)
        # Resolve first: YOLO('name.pt') with a missing file would try to download it.
        self.model_path = resolve_detector_model(model_path)
        self._model = ultralytics.YOLO(str(self.model_path), task="detect")
        self.classes = _Classes({int(k): str(v) for k, v in self._model.names.items()}, self.config)
        self.labels = self.classes.labels

    def detect(self, frame_bgr: Frame, region: BBox | None = None) -> list[Detection]:
        return self.detect_regions(frame_bgr, [region] if region is not None else [])

    def detect_regions(self, frame_bgr: Frame, regions: Sequence[BBox]) -> list[Detection]:
        frame = validate_frame(frame_bgr)
        found = []
        targets: Sequence[BBox | None] = regions or [None]
        for region in targets:
            image, scale, ox, oy = _prepare(frame, region, self.config.input_width)
            result = self._model.predict(
                image,
                conf=self.config.confidence,
                iou=self.config.iou_threshold,
                verbose=False,
                **dict(self.config.extra),
            )[0]
            boxes = result.boxes
            found.append(
                Found(
                    boxes.xyxy.cpu().numpy().astype(np.float32),
                    boxes.conf.cpu().numpy().astype(np.float32),
                    boxes.cls.cpu().numpy().astype(np.int64),
                    scale,
                    (ox, oy),
                    BBox(ox, oy, ox + image.shape[1] / scale, oy + image.shape[0] / scale),
                )
            )
        return self.classes.finish_regions(found, (frame.shape[1], frame.shape[0]))


# A frame at most this much larger than the small input loses too few pixels to pay for the
# large one (a 400x300 webcam at 320).
SMALL_FRAME_RATIO = 1.25


class TieredDetector:
    """Two sizes of one model: a small input for regions (native pixels, a quarter of the cost
    at 320) and a larger one for whole frames, where a small input would shrink people; a
    frame hardly larger than the small input runs whole on the small one."""

    def __init__(self, whole: Detector, regions: Detector, region_side: int) -> None:
        if whole.labels != regions.labels:
            raise ValueError("the whole-frame and region detectors must find the same labels")
        self.whole, self.regions, self.region_side = whole, regions, region_side
        self.labels = whole.labels

    def detect(self, frame_bgr: Frame, region: BBox | None = None) -> list[Detection]:
        return self.detect_regions(frame_bgr, [region] if region is not None else [])

    def detect_regions(self, frame_bgr: Frame, regions: Sequence[BBox]) -> list[Detection]:
        if regions:
            return self.regions.detect_regions(frame_bgr, regions)
        return self.whole_frame_model(frame_bgr).detect(frame_bgr)

    def whole_frame_model(self, frame_bgr: Frame) -> Detector:
        """The model a whole frame runs on: the small one for a frame hardly larger."""
        if max(frame_bgr.shape[:2]) <= SMALL_FRAME_RATIO * self.region_side:
            return self.regions
        return self.whole


def large_model(detector: Detector) -> Detector:
    """The model that runs whole frames at full size: a camera's reference (detection_path)."""
    return detector.whole if isinstance(detector, TieredDetector) else detector


def whole_frame_model(detector: Detector, frame_bgr: Frame) -> Detector:
    """The model `detector.detect(frame_bgr)` runs on."""
    if isinstance(detector, TieredDetector):
        return detector.whole_frame_model(frame_bgr)
    return detector


def create_detector(
    backend: Literal["onnx", "ultralytics"] = "onnx",
    model_path: str | Path | None = None,
    config: DetectorConfig | None = None,
) -> Detector:
    """Build the configured backend (settings: VIGIL_DETECTOR_BACKEND / _MODEL_PATH)."""
    if backend == "onnx":
        return OnnxYoloDetector(model_path, config)
    if backend == "ultralytics":
        if model_path is None:  # the packaged .pt next to the ONNX export
            model_path = resolve_detector_model(None).with_name("best.pt")
        return UltralyticsDetector(model_path, config)
    raise ValueError(f"unknown detector backend {backend!r}: use 'onnx' or 'ultralytics'")
