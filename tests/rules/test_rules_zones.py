"""Zone polygons: validation messages, point-in-polygon boundary rule, fingerprints."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vigil.rules import (
    MAX_POINTS,
    RulesConfig,
    ZoneRule,
    ZoneValidationError,
    fingerprint,
    point_in_polygon,
    validate_polygon,
    zone_fingerprint,
)

from .scenario import RECT_A, RECT_B, zone

SQUARE = [(0.2, 0.2), (0.8, 0.2), (0.8, 0.8), (0.2, 0.8)]
# A "U": the notch (0.4..0.6 x 0.2..0.6) is outside.
U_SHAPE = [
    (0.2, 0.2),
    (0.4, 0.2),
    (0.4, 0.6),
    (0.6, 0.6),
    (0.6, 0.2),
    (0.8, 0.2),
    (0.8, 0.8),
    (0.2, 0.8),
]


def _circle(n: int) -> list[tuple[float, float]]:
    return [
        (0.5 + 0.4 * math.cos(2 * math.pi * k / n), 0.5 + 0.4 * math.sin(2 * math.pi * k / n))
        for k in range(n)
    ]


BAD_POLYGONS = [
    # (id, polygon, code, point_index, words in the message)
    ("two-points", [(0.1, 0.1), (0.9, 0.9)], "too_few_points", None, "2 points"),
    ("empty", [], "too_few_points", None, "at least 3"),
    ("closed-two-points", [(0.1, 0.1), (0.9, 0.9), (0.1, 0.1)], "too_few_points", None, "2 points"),
    (
        "x-above-1",
        [(0.1, 0.1), (1.2, 0.1), (0.5, 0.9)],
        "out_of_range",
        1,
        "point 1 (1.2, 0.1) is outside",
    ),
    ("y-negative", [(0.1, 0.1), (0.9, 0.1), (0.5, -0.01)], "out_of_range", 2, "between 0 and 1"),
    ("nan", [(0.1, 0.1), (float("nan"), 0.1), (0.5, 0.9)], "not_finite", 1, "non-finite"),
    ("inf", [(0.1, 0.1), (0.9, 0.1), (0.5, float("inf"))], "not_finite", 2, "non-finite"),
    (
        "bow-tie",
        [(0.1, 0.1), (0.9, 0.9), (0.9, 0.1), (0.1, 0.9)],
        "self_intersecting",
        2,
        "crosses",
    ),
    (
        "duplicate-point",
        [(0.1, 0.1), (0.9, 0.1), (0.9, 0.1), (0.5, 0.9)],
        "duplicate_point",
        2,
        "repeats point 1",
    ),
    ("collinear", [(0.1, 0.1), (0.5, 0.5), (0.9, 0.9)], "too_small", None, "collinear"),
    (
        "tiny-area",
        [(0.5, 0.5), (0.501, 0.5), (0.501, 0.501)],
        "too_small",
        None,
        "below the minimum",
    ),
    ("too-many", _circle(MAX_POINTS + 1), "too_many_points", None, f"maximum is {MAX_POINTS}"),
    ("way-too-many", _circle(10_000), "too_many_points", None, "10000 points"),
    (
        "touching-vertex",
        [(0.1, 0.1), (0.9, 0.1), (0.5, 0.5), (0.9, 0.9), (0.1, 0.9), (0.5, 0.5)],
        "duplicate_point",
        5,
        "repeats point 2",
    ),
    (
        "vertex-on-edge",
        [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.5, 0.1), (0.1, 0.9)],
        "self_intersecting",
        None,
        "must not cross",
    ),
    (
        "doubles-back",
        [(0.1, 0.1), (0.9, 0.1), (0.9, 0.9), (0.1, 0.9), (0.1, 0.5), (0.1, 0.7)],
        "self_intersecting",
        None,
        "cross",
    ),
    ("not-a-list", "0.1,0.1 0.9,0.1 0.5,0.9", "not_a_list", None, "list of [x, y]"),
    (
        "three-coordinates",
        [(0.1, 0.1, 0.0), (0.9, 0.1), (0.5, 0.9)],
        "bad_point",
        0,
        "pair of numbers",
    ),
    (
        "string-coordinate",
        [(0.1, 0.1), ("0.9", 0.1), (0.5, 0.9)],
        "bad_point",
        1,
        "pair of numbers",
    ),
    ("bool-coordinate", [(0.1, 0.1), (True, 0.1), (0.5, 0.9)], "bad_point", 1, "pair of numbers"),
    ("none-point", [(0.1, 0.1), None, (0.5, 0.9)], "bad_point", 1, "point 1"),
]


@pytest.mark.parametrize(
    ("polygon", "code", "index", "words"),
    [p[1:] for p in BAD_POLYGONS],
    ids=[p[0] for p in BAD_POLYGONS],
)
def test_bad_polygons_are_refused_with_a_clear_message(polygon, code, index, words):
    with pytest.raises(ZoneValidationError) as info:
        validate_polygon(polygon)
    err = info.value
    assert err.code == code
    if index is not None:
        assert err.point_index == index
    assert words in str(err)
    detail = err.to_detail()
    assert detail["type"] == f"zone.{code}"
    assert detail["msg"] == str(err)
    assert detail["loc"] == (
        ["polygon"] if err.point_index is None else ["polygon", err.point_index]
    )


def test_bow_tie_names_both_edges():
    with pytest.raises(
        ZoneValidationError,
        match=r"edge from point 2 to point 3 crosses the edge from point 0 to point 1",
    ):
        validate_polygon([(0.1, 0.1), (0.9, 0.9), (0.9, 0.1), (0.1, 0.9)])


def test_good_polygons_are_normalised():
    assert validate_polygon([[0, 0], [1, 0], [1, 1]]) == ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0))
    # A GeoJSON-style closing point is dropped; exactly MAX_POINTS points are fine.
    assert validate_polygon([*SQUARE, SQUARE[0]]) == tuple(SQUARE)
    assert len(validate_polygon(_circle(MAX_POINTS))) == MAX_POINTS
    assert len(validate_polygon(U_SHAPE)) == 8
    # Collinear points along a straight edge are allowed.
    assert len(validate_polygon([(0.1, 0.1), (0.5, 0.1), (0.9, 0.1), (0.5, 0.9)])) == 4


def test_zone_rule_validates_on_construction():
    with pytest.raises(ZoneValidationError) as info:
        ZoneRule("z", "cam", "n", ((0.1, 0.1), (0.9, 0.9)))
    assert info.value.code == "too_few_points"
    for dwell in (-1.0, float("nan"), float("inf"), 3601.0, True):
        with pytest.raises(ZoneValidationError) as info:
            ZoneRule("z", "cam", "n", tuple(SQUARE), True, dwell)  # type: ignore[arg-type]
        assert info.value.field == "min_dwell_seconds"
        assert info.value.to_detail()["loc"] == ["min_dwell_seconds"]
    with pytest.raises(ZoneValidationError, match="zone_id must be a non-empty string"):
        ZoneRule("", "cam", "n", tuple(SQUARE))
    z = ZoneRule("z", "cam", "n", [[0.2, 0.2], [0.8, 0.2], [0.8, 0.8]], True, 3)  # type: ignore[arg-type]
    assert z.polygon == ((0.2, 0.2), (0.8, 0.2), (0.8, 0.8))
    assert z.min_dwell_seconds == 3.0


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((0.5, 0.5), True),  # interior
        ((0.2, 0.5), True),  # on the left edge
        ((0.5, 0.8), True),  # on the bottom edge
        ((0.8, 0.8), True),  # vertex
        ((0.2, 0.2), True),  # vertex
        ((0.2 - 1e-6, 0.5), False),  # just outside an edge
        ((0.8 + 1e-6, 0.8 + 1e-6), False),  # just outside a vertex
        ((0.9, 0.5), False),
        ((0.5, 0.1), False),
    ],
)
def test_square_edges_and_vertices_are_inside(point, expected):
    x, y = point
    assert point_in_polygon(x, y, SQUARE) is expected
    z = ZoneRule("z", "cam", "n", tuple(SQUARE))
    assert z.contains(x, y) is expected


@pytest.mark.parametrize(
    ("point", "expected"),
    [
        ((0.5, 0.4), False),  # in the notch
        ((0.5, 0.6), True),  # on the notch's floor edge
        ((0.4, 0.3), True),  # on the notch's wall
        ((0.3, 0.4), True),  # left arm
        ((0.7, 0.4), True),  # right arm
        ((0.5, 0.7), True),  # base
        ((0.5, 0.2), False),  # on the line joining the arms' tops, but in the notch
        ((0.1, 0.6), False),  # outside; its ray runs along the notch's floor edge
    ],
)
def test_concave_polygon(point, expected):
    x, y = point
    assert point_in_polygon(x, y, U_SHAPE) is expected


def test_ray_through_a_vertex_is_counted_once():
    diamond = [(0.5, 0.1), (0.9, 0.5), (0.5, 0.9), (0.1, 0.5)]
    assert point_in_polygon(0.3, 0.5, diamond)  # the ray to +x passes through vertex (0.9, 0.5)
    assert not point_in_polygon(0.05, 0.5, diamond)  # ... and through both side vertices
    assert not point_in_polygon(0.95, 0.5, diamond)


grid = st.sampled_from([0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 0.7, 0.75, 0.8, 0.9, 1.0])


@given(
    x1=grid,
    x2=grid,
    y1=grid,
    y2=grid,
    px=grid,
    py=grid,
    rotate=st.integers(0, 3),
    reverse=st.booleans(),
)
def test_rectangles_match_the_obvious_rule(x1, x2, y1, y2, px, py, rotate, reverse):
    lo_x, hi_x, lo_y, hi_y = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    if hi_x - lo_x < 0.05 or hi_y - lo_y < 0.05:
        return
    ring = [(lo_x, lo_y), (hi_x, lo_y), (hi_x, hi_y), (lo_x, hi_y)]
    ring = ring[rotate:] + ring[:rotate]
    if reverse:
        ring.reverse()
    expected = lo_x <= px <= hi_x and lo_y <= py <= hi_y
    assert point_in_polygon(px, py, ring) is expected


@given(
    a=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    b=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    c=st.tuples(st.floats(0, 1), st.floats(0, 1)),
    u=st.floats(0, 1),
    v=st.floats(0, 1),
)
def test_triangles_contain_their_convex_combinations_and_vertices(a, b, c, u, v):
    try:
        tri = validate_polygon([a, b, c])
    except ZoneValidationError:
        return
    if u + v > 1:
        u, v = 1 - u, 1 - v
    p = (a[0] + u * (b[0] - a[0]) + v * (c[0] - a[0]), a[1] + u * (b[1] - a[1]) + v * (c[1] - a[1]))
    assert point_in_polygon(*p, tri)
    for vertex in tri:
        assert point_in_polygon(*vertex, tri)
    centroid = ((a[0] + b[0] + c[0]) / 3, (a[1] + b[1] + c[1]) / 3)
    assert point_in_polygon(*centroid, tri)
    far = (centroid[0] + 3.0, centroid[1])
    assert not point_in_polygon(*far, tri)


def test_fingerprint_ignores_names_order_ring_start_direction_and_disabled_zones():
    a, b = zone("A", RECT_A, dwell=2), zone("B", RECT_B)
    base = fingerprint([a, b])
    renamed = ZoneRule("A", a.camera_id, "front door", a.polygon, True, 2)
    rotated = ZoneRule("A", a.camera_id, "A", RECT_A[2:] + RECT_A[:2], True, 2)
    reversed_ = ZoneRule("A", a.camera_id, "A", tuple(reversed(RECT_A)), True, 2)
    disabled = zone("C", RECT_B, enabled=False)
    assert fingerprint([b, a]) == base
    assert fingerprint([renamed, b]) == base
    assert fingerprint([rotated, b]) == base
    assert fingerprint([reversed_, b]) == base
    assert fingerprint([a, b, disabled]) == base
    assert fingerprint([a, b], RulesConfig(update_interval_seconds=1)) == base
    assert zone_fingerprint(rotated) == zone_fingerprint(a)


def test_fingerprint_changes_with_whatever_changes_events():
    a, b = zone("A", RECT_A, dwell=2), zone("B", RECT_B)
    base = fingerprint([a, b])
    moved = ZoneRule(
        "A", a.camera_id, "A", ((0.1, 0.5), (0.41, 0.5), (0.4, 1.0), (0.1, 1.0)), True, 2
    )
    variants = [
        fingerprint([a]),
        fingerprint([zone("A", RECT_A, dwell=2.5), b]),
        fingerprint([moved, b]),
        fingerprint([zone("A", RECT_A, dwell=2, enabled=False), b]),
        fingerprint(
            [zone("A", RECT_A, dwell=2, camera_id="cam-2"), zone("B", RECT_B, camera_id="cam-2")]
        ),
        fingerprint([a, b], RulesConfig(close_timeout_seconds=6)),
        fingerprint([a, b], RulesConfig(motion_area_threshold=0.03)),
        fingerprint([zone("Z", RECT_A, dwell=2), b]),
    ]
    assert base not in variants
    assert len(set(variants)) == len(variants)


def test_fingerprint_is_stable_across_processes_and_releases():
    # Golden value: if this changes, every stored fingerprint asks for a replay. Only change it
    # together with RULES_VERSION.
    fp = fingerprint([zone("A", RECT_A, dwell=2), zone("B", RECT_B)])
    assert fp == GOLDEN_FINGERPRINT


GOLDEN_FINGERPRINT = "046ba9fccaee44f67f7483586753e933de96a19418c1a634a4156803f1a60029"
