"""Frigate-style detection regions: send the detector only the part of the frame that moved.

The shipped ONNX has a static 640x640 input, so a region costs the same inference as the whole
frame; it pays in resolution: a 320 px region is upscaled 2x, so small, distant people get
twice the pixels. Regions are square to fill the square model input without letterbox bars.
"""

from __future__ import annotations

from collections.abc import Sequence

from vigil.vision.types import BBox


def plan_region(
    boxes: Sequence[BBox],
    width: int,
    height: int,
    *,
    min_side: int = 320,
    margin: float = 0.25,
    max_fraction: float = 0.5,
) -> BBox | None:
    """A square around all `boxes` (padded), or None when the whole frame is the better input.

    None when there are no boxes or the square would cover more than `max_fraction` of the frame
    (then the region saves too little and risks cutting people off at its edges).
    """
    if not boxes:
        return None
    union = boxes[0]
    for box in boxes[1:]:
        union = union.union(box)
    union = union.padded(margin, pixels=8).clipped(width, height)
    side = min(max(union.width, union.height, min_side), width, height)
    cx, cy = union.center
    x1 = min(max(cx - side / 2, 0.0), width - side)
    y1 = min(max(cy - side / 2, 0.0), height - side)
    square = BBox(x1, y1, x1 + side, y1 + side)
    # A wide union can exceed the square in one direction: cover it rather than cut it off.
    region = square.union(union).clipped(width, height)
    if region.area > max_fraction * width * height:
        return None
    return region
