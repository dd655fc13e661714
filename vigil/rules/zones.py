"""Zones: validated polygons in normalised coordinates, the rule attached to each, fingerprints.

A polygon is a list of (x, y) points with 0 <= x, y <= 1 (x right, y down, relative to the
frame). It is a closed ring: the last point joins the first; a repeated first point at the end
(GeoJSON style) is accepted and dropped. Points on its edges and vertices are inside the zone.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from numbers import Real

from vigil.rules.config import RulesConfig
from vigil.rules.geometry import (
    Point,
    PreparedPolygon,
    canonical_ring,
    orientation,
    segments_intersect,
    signed_area,
)

MAX_POINTS = 64
MIN_POINTS = 3
#: Smallest zone: 1e-4 of the frame (1% x 1%, about 19 x 11 pixels at 1080p).
MIN_AREA = 1e-4
MAX_DWELL_SECONDS = 3600.0
#: Bump when the rules' logic changes so every stored fingerprint asks for a replay.
RULES_VERSION = 2


class ZoneValidationError(ValueError):
    """A zone the API must refuse (422). `code` is stable, `message` reads well to a user.

    point_index is the offending point's position in the list as sent (None when the problem
    is not one point's); field is the ZoneRule field at fault.
    """

    def __init__(
        self, code: str, message: str, *, point_index: int | None = None, field: str = "polygon"
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.point_index = point_index
        self.field = field

    def to_detail(self) -> dict[str, object]:
        """FastAPI-style error detail: {"loc": [...], "msg": ..., "type": ...}."""
        loc: list[str | int] = [self.field]
        if self.point_index is not None:
            loc.append(self.point_index)
        return {"loc": loc, "msg": self.message, "type": f"zone.{self.code}"}


def _fmt(p: Point) -> str:
    return f"({p[0]:g}, {p[1]:g})"


def _coerce_points(points: object) -> list[Point]:
    if isinstance(points, str | bytes) or not isinstance(points, Sequence):
        raise ZoneValidationError("not_a_list", "polygon must be a list of [x, y] points")
    if len(points) > MAX_POINTS + 1:  # +1: a closing repeat of the first point
        raise ZoneValidationError(
            "too_many_points", f"polygon has {len(points)} points; the maximum is {MAX_POINTS}"
        )
    out: list[Point] = []
    for i, p in enumerate(points):
        if (
            isinstance(p, str | bytes)
            or not isinstance(p, Sequence)
            or len(p) != 2
            or not all(isinstance(v, Real) and not isinstance(v, bool) for v in p)
        ):
            raise ZoneValidationError(
                "bad_point", f"point {i} must be a pair of numbers [x, y]", point_index=i
            )
        x, y = float(p[0]), float(p[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ZoneValidationError(
                "not_finite", f"point {i} has a non-finite coordinate {_fmt((x, y))}", point_index=i
            )
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ZoneValidationError(
                "out_of_range",
                f"point {i} {_fmt((x, y))} is outside the frame: x and y must be between 0 and 1",
                point_index=i,
            )
        out.append((x, y))
    return out


def _check_simple(pts: list[Point]) -> None:
    n = len(pts)
    for j in range(2, n):
        for i in range(j - 1):
            if i == 0 and j == n - 1:
                continue  # edges n-1 and 0 share point 0
            if segments_intersect(pts[i], pts[i + 1], pts[j], pts[(j + 1) % n]):
                raise ZoneValidationError(
                    "self_intersecting",
                    f"edge from point {j} to point {(j + 1) % n} crosses the edge from point "
                    f"{i} to point {i + 1}: the outline must not cross or touch itself",
                    point_index=j,
                )


def _check_no_foldback(pts: list[Point]) -> None:
    n = len(pts)
    for k in range(n):
        a, b, c = pts[k - 1], pts[k], pts[(k + 1) % n]
        dot = (b[0] - a[0]) * (c[0] - b[0]) + (b[1] - a[1]) * (c[1] - b[1])
        if orientation(a, b, c) == 0 and dot < 0:
            raise ZoneValidationError(
                "self_intersecting",
                f"the outline doubles back on itself at point {k} {_fmt(b)}",
                point_index=k,
            )


def validate_polygon(points: object) -> tuple[Point, ...]:
    """Check a polygon as sent by a client and return it as a tuple of float pairs.

    Refuses, with a ZoneValidationError naming the problem and the point: anything but a list
    of [x, y] number pairs, NaN/inf, coordinates outside [0, 1], fewer than 3 or more than
    MAX_POINTS distinct points, a repeated point, an outline that crosses, touches or doubles
    back on itself, and an area below MIN_AREA (collinear or nearly so).
    """
    pts = _coerce_points(points)
    if len(pts) > 1 and pts[-1] == pts[0]:
        pts.pop()  # explicitly closed ring
    if len(pts) < MIN_POINTS:
        raise ZoneValidationError(
            "too_few_points", f"polygon has {len(pts)} points; it needs at least {MIN_POINTS}"
        )
    if len(pts) > MAX_POINTS:
        raise ZoneValidationError(
            "too_many_points", f"polygon has {len(pts)} points; the maximum is {MAX_POINTS}"
        )
    first_seen: dict[Point, int] = {}
    for i, p in enumerate(pts):
        if p in first_seen:
            raise ZoneValidationError(
                "duplicate_point",
                f"point {i} {_fmt(p)} repeats point {first_seen[p]}",
                point_index=i,
            )
        first_seen[p] = i
    _check_simple(pts)
    area = abs(signed_area(pts))
    if area < MIN_AREA:
        raise ZoneValidationError(
            "too_small",
            f"polygon area {area:.2g} is below the minimum {MIN_AREA:g} of the frame "
            "(are the points collinear or too close together?)",
        )
    _check_no_foldback(pts)
    return tuple(pts)


@dataclass(frozen=True)
class ZoneRule:
    """A zone on one camera and its intrusion rule. Constructing one validates it.

    zone_id / camera_id: stable identifiers (database ids as strings); they seed event ids.
    name: for people only; it changes no event.
    polygon: the validated ring (see validate_polygon); any sequence of pairs is accepted and
        stored as a tuple of float pairs.
    intrusion_enabled: a disabled zone produces no events at all.
    min_dwell_seconds: how long one tracked person must stay in the zone before an intrusion
        event opens (0 = at the first sighting).
    """

    zone_id: str
    camera_id: str
    name: str
    polygon: tuple[Point, ...]
    intrusion_enabled: bool = True
    min_dwell_seconds: float = 0.0

    def __post_init__(self) -> None:
        for attr in ("zone_id", "camera_id"):
            value = getattr(self, attr)
            if not isinstance(value, str) or not value:
                raise ZoneValidationError(
                    "bad_id", f"{attr} must be a non-empty string", field=attr
                )
        object.__setattr__(self, "polygon", validate_polygon(self.polygon))
        dwell = self.min_dwell_seconds
        if (
            isinstance(dwell, bool)
            or not isinstance(dwell, Real)
            or not (math.isfinite(dwell) and 0 <= dwell <= MAX_DWELL_SECONDS)
        ):
            raise ZoneValidationError(
                "bad_dwell",
                f"min_dwell_seconds must be between 0 and {MAX_DWELL_SECONDS:g}, got {dwell!r}",
                field="min_dwell_seconds",
            )
        object.__setattr__(self, "min_dwell_seconds", float(dwell))

    @cached_property
    def prepared(self) -> PreparedPolygon:
        return PreparedPolygon(self.polygon)

    def contains(self, x: float, y: float) -> bool:
        """Is (x, y) in the zone? Edges and vertices count as inside."""
        return self.prepared.contains(x, y)


def _zone_payload(zone: ZoneRule) -> list[object]:
    ring = canonical_ring(zone.polygon)
    # repr(float) round-trips exactly, so equal polygons give equal text.
    return [
        zone.camera_id,
        zone.zone_id,
        [[repr(x), repr(y)] for x, y in ring],
        repr(zone.min_dwell_seconds),
    ]


def _digest(payload: object) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def zone_fingerprint(zone: ZoneRule) -> str:
    """What about one zone can change its events (not its name; disabled = absent)."""
    if not zone.intrusion_enabled:
        return _digest([RULES_VERSION, zone.camera_id, zone.zone_id, "disabled"])
    return _digest([RULES_VERSION, *_zone_payload(zone)])


def fingerprint(zones: Iterable[ZoneRule], config: RulesConfig | None = None) -> str:
    """A stable hash of everything that decides a camera's events: equal means a replay would
    produce the same events, different means it may not.

    Covers the rules version, the config's outcome fields, and each intrusion-enabled zone's
    camera, id, polygon and dwell. Ignores names, disabled zones, the order of the zones, and
    a polygon's start point and direction.
    """
    cfg = config or RulesConfig()
    active = sorted(
        (_zone_payload(z) for z in zones if z.intrusion_enabled), key=lambda p: str(p[1])
    )
    outcome = {k: repr(v) for k, v in cfg.outcome_fields().items()}
    return _digest({"version": RULES_VERSION, "config": outcome, "zones": active})
