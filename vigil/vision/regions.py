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


def _fits(box: BBox, side: float) -> bool:
    return box.width <= side and box.height <= side


def _square(box: BBox, side: int, width: int, height: int) -> BBox:
    """A square of at least `side` centred on `box`, moved inside the frame (a frame narrower
    than the square gives a rectangle: the letterbox pads it)."""
    s = max(box.width, box.height, side)
    sw, sh = min(s, width), min(s, height)
    cx, cy = box.center
    x1 = min(max(cx - sw / 2, 0.0), width - sw)
    y1 = min(max(cy - sh / 2, 0.0), height - sh)
    return BBox(x1, y1, x1 + sw, y1 + sh).union(box).clipped(width, height)


def plan_regions(
    boxes: Sequence[BBox],
    width: int,
    height: int,
    *,
    side: int = 320,
    margin: float = 0.25,
    max_regions: int = 2,
    max_fraction: float = 0.75,
    max_scale: float = 1.5,
) -> tuple[BBox, ...] | None:
    """Squares of the model's input size around groups of `boxes` (motion and live tracks),
    at the frame's own resolution so that distant people keep their pixels; or None when the
    whole frame is the better input: no boxes, more than `max_regions` squares, a group wider
    than `max_scale` x `side` (its square would be shrunk), or squares covering more than
    `max_fraction` of the frame.

    Boxes are padded and grouped while a group still fits one square; groups that overlap are
    merged whatever their size, so that no padded box is ever split between two squares.
    """
    if not boxes:
        return None
    groups = [b.padded(margin, pixels=8).clipped(width, height) for b in boxes]
    groups.sort(key=lambda b: -b.area)
    merged = True
    while merged:
        merged = False
        for i in range(len(groups)):
            for j in range(i + 1, len(groups)):
                union = groups[i].union(groups[j])
                if _fits(union, side) or groups[i].intersection_area(groups[j]) > 0:
                    groups[i] = union
                    del groups[j]
                    merged = True
                    break
            if merged:
                break
    if len(groups) > max_regions or any(max(g.width, g.height) > max_scale * side for g in groups):
        return None  # a larger square would shrink people: the whole frame is the better input
    squares = tuple(_square(g, side, width, height) for g in groups)
    if sum(s.area for s in squares) > max_fraction * width * height:
        return None
    return squares
