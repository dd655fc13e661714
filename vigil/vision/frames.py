"""Input checks shared by every entry point: refuse bad frames early with a clear message."""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

from vigil.vision.errors import InvalidFrameError
from vigil.vision.types import BBox

# HxWx3 uint8 BGR, checked at run time by validate_frame. Typed loosely on purpose: cv2's
# stubs type every image as a generic ndarray, and callers pass those straight in.
Frame = npt.NDArray[Any]

MIN_SIDE = 8


def validate_frame(frame: object, name: str = "frame") -> Frame:
    """`frame` (made contiguous) if it is a non-empty HxWx3 uint8 BGR image, else raise."""
    if not isinstance(frame, np.ndarray):
        raise InvalidFrameError(f"{name} must be a numpy array, got {type(frame).__name__}")
    if frame.dtype != np.uint8:
        raise InvalidFrameError(f"{name} must be uint8 BGR, got dtype {frame.dtype}")
    if frame.ndim != 3 or frame.shape[2] != 3:
        raise InvalidFrameError(f"{name} must have shape HxWx3 (BGR), got {frame.shape}")
    if frame.shape[0] < MIN_SIDE or frame.shape[1] < MIN_SIDE:
        raise InvalidFrameError(
            f"{name} is empty or too small ({frame.shape[1]}x{frame.shape[0]}); "
            f"need at least {MIN_SIDE}x{MIN_SIDE}"
        )
    return np.ascontiguousarray(frame)  # views such as frame[:, ::-1] trip some cv2 calls


def validate_ts(ts: object) -> datetime:
    """Timestamps must be timezone-aware: the lake partitions by UTC date and hour."""
    if not isinstance(ts, datetime):
        raise InvalidFrameError(f"ts must be a datetime, got {type(ts).__name__}")
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise InvalidFrameError("ts must be timezone-aware (e.g. datetime.now(UTC))")
    return ts


def crop(frame: Frame, box: BBox) -> tuple[Frame, int, int]:
    """The part of `frame` under `box` (clipped), and its top-left offset in the frame."""
    h, w = frame.shape[:2]
    x1, y1, x2, y2 = box.clipped(w, h).to_int()
    return frame[y1:y2, x1:x2], x1, y1


def resize(image: Frame, width: int, height: int) -> Frame:
    """cv2.resize with the right filter: area averaging to shrink, bilinear to enlarge."""
    shrink = width * height < image.shape[0] * image.shape[1]
    interp = cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    return cast(Frame, cv2.resize(image, (width, height), interpolation=interp))
