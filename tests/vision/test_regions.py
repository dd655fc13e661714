"""Detection regions: a square around the motion, or the whole frame when that is better."""

from __future__ import annotations

from vigil.vision import BBox
from vigil.vision.regions import plan_region


def test_small_motion_gets_a_square_region_holding_it() -> None:
    moving = [BBox(400, 300, 430, 380), BBox(450, 310, 470, 370)]
    region = plan_region(moving, 1280, 720, min_side=320)
    assert region is not None
    assert region.width == region.height == 320
    assert all(region.intersection_area(b) == b.area for b in moving)
    assert region.x1 >= 0
    assert region.x2 <= 1280
    assert region.y1 >= 0
    assert region.y2 <= 720


def test_region_near_the_edge_stays_in_the_frame() -> None:
    region = plan_region([BBox(1250, 690, 1280, 720)], 1280, 720, min_side=320)
    assert region == BBox(960, 400, 1280, 720)


def test_spread_out_or_no_motion_uses_the_whole_frame() -> None:
    assert plan_region([], 1280, 720) is None
    spread = [BBox(10, 10, 60, 100), BBox(1200, 600, 1270, 710)]
    assert plan_region(spread, 1280, 720) is None
