"""Zones drawn over the camera's latest snapshot, so a polygon typed as numbers can be seen.

Points are normalised like the API's: (x, y) in 0..1 from the top-left corner of the frame.
A faint 10 % grid with labelled edges helps read coordinates off the picture.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from dashboard.models import Point

WIDTH = 960
# Saved zones cycle through these, listed with the matching square next to their name.
PALETTE = [(0, 120, 255), (0, 180, 80), (255, 140, 0), (160, 80, 220), (230, 50, 50)]
SQUARES = ["🟦", "🟩", "🟧", "🟪", "🟥"]
DRAFT = (255, 215, 0)  # the zone being edited: 🟨
_SEPARATORS = re.compile(r"[,;\s]+")


class PointsError(ValueError):
    """The typed points cannot be read; the message says which line and why."""


def parse_points(text: str) -> list[Point]:
    """One `x, y` pair per line (commas, spaces or semicolons between the numbers)."""
    points: list[Point] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = [p for p in _SEPARATORS.split(line.strip()) if p]
        if not parts:
            continue
        if len(parts) != 2:
            raise PointsError(f"line {number}: write two numbers, x and y, like 0.25, 0.6")
        try:
            x, y = float(parts[0]), float(parts[1])
        except ValueError:
            raise PointsError(f"line {number}: {line.strip()!r} is not two numbers") from None
        if not (0 <= x <= 1 and 0 <= y <= 1):
            raise PointsError(f"line {number}: x and y go from 0 to 1 (fractions of the frame)")
        points.append((x, y))
    return points


def format_points(points: Sequence[Point]) -> str:
    return "\n".join(f"{x:.3g}, {y:.3g}" for x, y in points)


def _base(snapshot: bytes | None) -> Image.Image:
    if snapshot:
        try:
            image = Image.open(io.BytesIO(snapshot)).convert("RGB")
            return image.resize((WIDTH, max(1, round(image.height * WIDTH / image.width))))
        except (OSError, ValueError, ZeroDivisionError):
            pass  # a damaged JPEG draws like a missing one
    image = Image.new("RGB", (WIDTH, WIDTH * 9 // 16), (60, 60, 66))
    ImageDraw.Draw(image).text(
        (WIDTH // 2, WIDTH * 9 // 32),
        "No picture from this camera yet",
        fill=(220, 220, 220),
        font=ImageFont.load_default(size=28),
        anchor="mm",
    )
    return image


def _grid(draw: ImageDraw.ImageDraw, size: tuple[int, int]) -> None:
    width, height = size
    font = ImageFont.load_default(size=13)
    for tenth in range(1, 10):
        x, y = width * tenth / 10, height * tenth / 10
        draw.line([(x, 0), (x, height)], fill=(255, 255, 255, 50))
        draw.line([(0, y), (width, y)], fill=(255, 255, 255, 50))
        draw.text((x + 2, 2), f"{tenth / 10:g}", fill=(255, 255, 255, 200), font=font)
        draw.text((2, y + 2), f"{tenth / 10:g}", fill=(255, 255, 255, 200), font=font)


def _polygon(
    draw: ImageDraw.ImageDraw,
    size: tuple[int, int],
    points: Sequence[Point],
    colour: tuple[int, int, int],
    label: str,
    numbered: bool,
) -> None:
    pixels = [(x * size[0], y * size[1]) for x, y in points]
    font = ImageFont.load_default(size=18)
    if len(pixels) >= 3:
        draw.polygon(pixels, fill=(*colour, 70), outline=(*colour, 255), width=3)
    elif len(pixels) == 2:
        draw.line(pixels, fill=(*colour, 255), width=3)
    if numbered:
        for index, (x, y) in enumerate(pixels):  # from 0, as the API's messages count them
            draw.ellipse([(x - 9, y - 9), (x + 9, y + 9)], fill=(*colour, 255))
            draw.text((x, y), str(index), fill=(0, 0, 0, 255), font=font, anchor="mm")
    if pixels and label:
        cx = sum(p[0] for p in pixels) / len(pixels)
        cy = sum(p[1] for p in pixels) / len(pixels)
        draw.text(
            (cx, cy),
            label,
            fill=(255, 255, 255, 255),
            font=font,
            anchor="mm",
            stroke_width=3,
            stroke_fill=(0, 0, 0, 255),
        )


def render_preview(
    snapshot: bytes | None,
    zones: Sequence[tuple[str, Sequence[Point]]],
    draft: Sequence[Point] = (),
    draft_label: str = "",
) -> Image.Image:
    """The snapshot with the saved zones (coloured) and the zone being edited (yellow, its
    points numbered from 0) drawn over it."""
    base = _base(snapshot).convert("RGBA")
    overlay = Image.new("RGBA", base.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    _grid(draw, base.size)
    for index, (name, points) in enumerate(zones):
        _polygon(draw, base.size, points, PALETTE[index % len(PALETTE)], name, numbered=False)
    if draft:
        _polygon(draw, base.size, draft, DRAFT, draft_label, numbered=True)
    return Image.alpha_composite(base, overlay).convert("RGB")
