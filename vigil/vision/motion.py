"""Frigate-like motion detection on a small greyscale frame; it gates the person detector.

Background model: an exponential running average (`cv2.accumulateWeighted`) rather than MOG2.
It costs one multiply-add per pixel on a ~240x180 frame, behaves predictably with one knob (the
learning rate), and its whole state is a single float array, so it is cheap to reset after a
scene change. MOG2 copes better with swaying leaves but is several times slower and opaque;
with motion only used as a gate, false motion costs one extra detection, which is acceptable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from vigil.logs import get_logger
from vigil.vision.frames import Frame, resize, validate_frame
from vigil.vision.types import BBox, MotionResult

log = get_logger(__name__)

Polygon = Sequence[tuple[float, float]]
_KERNEL = np.ones((3, 3), np.uint8)


@dataclass(frozen=True, slots=True)
class MotionConfig:
    frame_height: int = 180  # motion runs at this height (never upscaled)
    blur_kernel: int = 5  # odd Gaussian kernel: removes sensor noise and compression blocks
    learning_rate: float = 0.05  # weight of each new frame in the background average
    threshold: int = 25  # grey-level difference that counts as change (0..255)
    dilation_iterations: int = 2  # joins the pieces of one moving body into one blob
    min_area_fraction: float = 0.0002  # smallest blob, as a share of the frame (noise filter)
    calibration_frames: int = 5  # frames after start / scene change that report no motion
    calibration_rate: float = 0.5  # fast background learning while calibrating
    scene_change_fraction: float = 0.5  # more changed pixels than this at once: recalibrate
    masks: tuple[Polygon, ...] = ()  # polygons in normalised (x, y) coordinates, ignored

    def __post_init__(self) -> None:
        if self.frame_height < 16:
            raise ValueError("motion frame_height must be at least 16")
        if self.blur_kernel < 1 or self.blur_kernel % 2 == 0:
            raise ValueError("motion blur_kernel must be a positive odd number")
        if not 0 < self.learning_rate <= 1 or not 0 < self.calibration_rate <= 1:
            raise ValueError("motion learning rates must be in (0, 1]")
        if not 0 < self.scene_change_fraction <= 1:
            raise ValueError("scene_change_fraction must be in (0, 1]")
        for poly in self.masks:
            if len(poly) < 3:
                raise ValueError("a motion mask polygon needs at least 3 points")
            if any(not (0 <= x <= 1 and 0 <= y <= 1) for x, y in poly):
                raise ValueError("motion mask points must be normalised to 0..1")


class MotionDetector:
    """Stateful per camera: feed every frame in order with `detect`."""

    def __init__(self, config: MotionConfig | None = None) -> None:
        self.config = config or MotionConfig()
        self._background: npt.NDArray[np.float32] | None = None
        self._keep: npt.NDArray[np.uint8] | None = None  # 255 where motion counts (not masked)
        self._shape: tuple[int, int] | None = None
        self._calibration_left = 0

    @property
    def calibrating(self) -> bool:
        return self._background is None or self._calibration_left > 0

    def reset(self) -> None:
        """Forget the background; the next frames recalibrate."""
        self._background = None
        self._calibration_left = 0

    def detect(self, frame_bgr: Frame) -> MotionResult:
        frame = validate_frame(frame_bgr)
        cfg = self.config
        h, w = frame.shape[:2]
        small_h = min(cfg.frame_height, h)
        small_w = max(1, round(w * small_h / h))
        if self._shape != (h, w):  # first frame or the camera changed resolution
            self._shape = (h, w)
            self._keep = self._rasterise_keep(small_w, small_h)
            self.reset()
        grey = cv2.cvtColor(resize(frame, small_w, small_h), cv2.COLOR_BGR2GRAY)
        grey = cv2.GaussianBlur(grey, (cfg.blur_kernel, cfg.blur_kernel), 0)
        if self._background is None:
            self._background = grey.astype(np.float32)
            self._calibration_left = cfg.calibration_frames
            return MotionResult((), 0.0, calibrating=True, scene_change=False)

        assert self._keep is not None
        diff = cv2.absdiff(grey, cv2.convertScaleAbs(self._background))
        _, changed = cv2.threshold(diff, cfg.threshold, 255, cv2.THRESH_BINARY)
        changed = cv2.bitwise_and(changed, self._keep)
        keep_px = max(1, cv2.countNonZero(self._keep))
        changed_fraction = cv2.countNonZero(changed) / keep_px

        if self._calibration_left > 0:
            cv2.accumulateWeighted(grey, self._background, cfg.calibration_rate)
            self._calibration_left -= 1
            return MotionResult((), 0.0, calibrating=True, scene_change=False)
        if changed_fraction > cfg.scene_change_fraction:
            # Lights switched, IR mode flipped or the camera moved: not motion, a new scene.
            log.info("motion_scene_change", changed_fraction=round(changed_fraction, 3))
            self._background = grey.astype(np.float32)
            self._calibration_left = cfg.calibration_frames
            return MotionResult((), 0.0, calibrating=True, scene_change=True)

        cv2.accumulateWeighted(grey, self._background, cfg.learning_rate)
        changed = cv2.dilate(changed, _KERNEL, iterations=cfg.dilation_iterations)
        contours, _ = cv2.findContours(changed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_area = cfg.min_area_fraction * small_w * small_h
        covered = np.zeros_like(changed)
        sx, sy = w / small_w, h / small_h
        boxes: list[BBox] = []
        for contour in contours:
            if cv2.contourArea(contour) < min_area:
                continue
            x, y, bw, bh = cv2.boundingRect(contour)
            covered[y : y + bh, x : x + bw] = 255
            boxes.append(BBox(x * sx, y * sy, (x + bw) * sx, (y + bh) * sy))
        area = cv2.countNonZero(cv2.bitwise_and(covered, self._keep)) / keep_px
        return MotionResult(tuple(boxes), area, calibrating=False, scene_change=False)

    def _rasterise_keep(self, width: int, height: int) -> npt.NDArray[np.uint8]:
        keep = np.full((height, width), 255, np.uint8)
        for poly in self.config.masks:
            pts = np.array([[x * width, y * height] for x, y in poly], np.int32)
            cv2.fillPoly(keep, [pts], 0)
        return keep
