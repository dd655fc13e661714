"""Detection regions: a square around the motion, or the whole frame when that is better."""

from __future__ import annotations

from vigil.vision import BBox
from vigil.vision.regions import plan_region, plan_regions


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


# --- several regions at native resolution (plan_regions) ---------------------------------------
def test_people_far_apart_get_one_native_square_each() -> None:
    left, right = BBox(40, 300, 70, 380), BBox(1180, 200, 1215, 290)
    regions = plan_regions([left, right], 1280, 720, side=320)
    assert regions is not None and len(regions) == 2
    for region, person in zip(sorted(regions, key=lambda r: r.x1), (left, right), strict=True):
        assert region.width == region.height == 320  # the model's input: no rescaling
        assert region.intersection_area(person) == person.area
        assert region.x1 >= 0 and region.x2 <= 1280 and region.y1 >= 0 and region.y2 <= 720


def test_people_close_together_share_one_square() -> None:
    group = [BBox(400, 300, 430, 380), BBox(470, 310, 500, 390), BBox(420, 250, 445, 300)]
    regions = plan_regions(group, 1280, 720, side=320)
    assert regions is not None and len(regions) == 1
    assert all(regions[0].intersection_area(b) == b.area for b in group)


def test_a_box_bigger_than_the_input_gets_a_bigger_square_never_a_cut() -> None:
    near = BBox(500, 100, 650, 400)  # a person close to the camera, 300 px tall
    regions = plan_regions([near], 1280, 720, side=320, max_fraction=0.9)
    assert regions is not None and len(regions) == 1
    assert regions[0].intersection_area(near) == near.area
    assert regions[0].width >= near.height
    # Much larger than the input, a square would shrink people: the whole frame instead.
    assert plan_regions([BBox(500, 50, 800, 650)], 1280, 720, side=320) is None


def test_overlapping_groups_merge_so_no_box_is_split() -> None:
    # Padded, these touch: two squares would split the middle one between them.
    chain = [BBox(100, 300, 200, 400), BBox(190, 300, 290, 400), BBox(280, 300, 380, 400)]
    regions = plan_regions(chain, 1280, 720, side=320, max_fraction=0.9)
    assert regions is not None and len(regions) == 1
    assert all(any(r.intersection_area(b) == b.area for r in regions) for b in chain)


def test_too_many_or_too_large_regions_mean_the_whole_frame() -> None:
    corners = [BBox(10, 10, 40, 60), BBox(600, 10, 630, 60), BBox(10, 420, 40, 470)]
    assert plan_regions(corners, 640, 480, side=320, max_regions=2) is None
    assert plan_regions(corners[:2], 640, 480, side=320, max_fraction=0.5) is None
    assert plan_regions(corners[:2], 640, 480, side=320, max_fraction=0.75) is not None
    assert plan_regions([], 640, 480) is None


def test_a_frame_smaller_than_the_square_gives_the_frame_side() -> None:
    regions = plan_regions([BBox(100, 100, 150, 200)], 400, 300, side=320, max_fraction=1.0)
    assert regions == (BBox(0, 0, 320, 300),)
