"""Plane geometry for zone polygons in normalised image coordinates (x right, y down, 0..1).

Hand-written rather than shapely: zones have at most a few dozen points, the rules only need
orientation, segment intersection, area and point-in-polygon, and the hot path (one test per
detection per zone) is faster without crossing into a C object per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

Point = tuple[float, float]

#: A point closer than this (normalised units, ~1e-6 of a pixel) to an edge is on the boundary.
BOUNDARY_EPS = 1e-9

# Below this |cross product| a float orientation may have the wrong sign: recompute exactly.
_ORIENT_FILTER = 1e-12


def orientation(a: Point, b: Point, c: Point) -> int:
    """Sign of the turn a -> b -> c: 1 counter-clockwise, -1 clockwise, 0 collinear (exact)."""
    cross = (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    if abs(cross) > _ORIENT_FILTER:
        return 1 if cross > 0 else -1
    # Floats are exact rationals, so this settles near-collinear cases without rounding.
    ax, ay, bx, by = Fraction(a[0]), Fraction(a[1]), Fraction(b[0]), Fraction(b[1])
    exact = (bx - ax) * (Fraction(c[1]) - ay) - (by - ay) * (Fraction(c[0]) - ax)
    return (exact > 0) - (exact < 0)


def _on_segment(p: Point, q: Point, r: Point) -> bool:
    """r is collinear with p-q: is it within the segment's bounding box?"""
    return min(p[0], q[0]) <= r[0] <= max(p[0], q[0]) and min(p[1], q[1]) <= r[1] <= max(p[1], q[1])


def segments_intersect(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    """Do closed segments p1-p2 and q1-q2 share any point (crossing, touching or overlapping)?"""
    o1, o2 = orientation(p1, p2, q1), orientation(p1, p2, q2)
    o3, o4 = orientation(q1, q2, p1), orientation(q1, q2, p2)
    if o1 != o2 and o3 != o4 and 0 not in (o1, o2, o3, o4):
        return True
    return (
        (o1 == 0 and _on_segment(p1, p2, q1))
        or (o2 == 0 and _on_segment(p1, p2, q2))
        or (o3 == 0 and _on_segment(q1, q2, p1))
        or (o4 == 0 and _on_segment(q1, q2, p2))
    )


def signed_area(points: Sequence[Point]) -> float:
    """Shoelace area: positive when the points turn counter-clockwise in x-right/y-up axes."""
    total = 0.0
    n = len(points)
    for i in range(n):
        x1, y1 = points[i]
        x2, y2 = points[(i + 1) % n]
        total += x1 * y2 - x2 * y1
    return total / 2.0


def canonical_ring(points: Sequence[Point]) -> tuple[Point, ...]:
    """The same ring whatever the start point and direction (for fingerprints)."""
    ring = list(points)
    if signed_area(ring) < 0:
        ring.reverse()
    start = ring.index(min(ring))
    return tuple(ring[start:] + ring[:start])


class PreparedPolygon:
    """A closed polygon ready for fast point tests: the boundary belongs to the polygon.

    `contains` is True for points strictly inside, on an edge or on a vertex (within
    BOUNDARY_EPS), so a person standing exactly on a zone's drawn line is in the zone and
    the answer never depends on the direction or start point of the ring.
    """

    __slots__ = ("_edges", "max_x", "max_y", "min_x", "min_y")

    def __init__(self, points: Sequence[Point]) -> None:
        xs = [p[0] for p in points]
        ys = [p[1] for p in points]
        self.min_x, self.max_x = min(xs), max(xs)
        self.min_y, self.max_y = min(ys), max(ys)
        edges = []
        n = len(points)
        for i in range(n):
            (x1, y1), (x2, y2) = points[i], points[(i + 1) % n]
            length = ((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5
            edges.append(
                (x1, y1, x2, y2, min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2), length)
            )
        self._edges = tuple(edges)

    def contains(self, x: float, y: float) -> bool:
        eps = BOUNDARY_EPS
        if not (
            self.min_x - eps <= x <= self.max_x + eps and self.min_y - eps <= y <= self.max_y + eps
        ):
            return False
        inside = False
        for x1, y1, x2, y2, lo_x, hi_x, lo_y, hi_y, length in self._edges:
            # On the boundary: near the edge's box and its line (distance = |cross| / length).
            if (
                lo_x - eps <= x <= hi_x + eps
                and lo_y - eps <= y <= hi_y + eps
                and abs((x2 - x1) * (y - y1) - (y2 - y1) * (x - x1)) <= eps * length
            ):
                return True
            # Even-odd ray cast towards +x; half-open in y so a vertex is counted once.
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside


def point_in_polygon(x: float, y: float, points: Sequence[Point]) -> bool:
    """One-off test; see PreparedPolygon for the boundary rule. Prepare once for many tests."""
    return PreparedPolygon(points).contains(x, y)
