"""Read the wall-clock stamp that `rtsp_server.py --stamp` burns into each frame's top rows.

Layout (mirrors rtsp_server.stamp_row): 48 bits of milliseconds since the Unix epoch, MSB first,
each bit a block `width // 48` pixels wide and 16 rows high; white (Y=235) is 1, black (Y=16) 0.
Blocks are macroblock-sized, so the code survives H.264 compression and decodes exactly.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

STAMP_BITS = 48
STAMP_HEIGHT = 16
_PLAUSIBLE_MS = (1_500_000_000_000, 4_100_000_000_000)  # 2017 .. 2099


def read_stamp(frame: npt.ArrayLike) -> float | None:
    """The stamp of a decoded frame (BGR or grey) in epoch seconds, or None if it has none."""
    pixels = np.asarray(frame, dtype=np.float64)
    luma = pixels.mean(axis=2) if pixels.ndim == 3 else pixels
    height, width = luma.shape
    block = width // STAMP_BITS
    if block < 2 or height < STAMP_HEIGHT:
        return None
    # Sample the centre of each block: edges bleed into neighbours after compression.
    strip = luma[4 : STAMP_HEIGHT - 4, : block * STAMP_BITS]
    cells = strip.reshape(strip.shape[0], STAMP_BITS, block)[:, :, 1 : block - 1]
    levels = cells.mean(axis=(0, 2))
    if np.any((levels > 70) & (levels < 185)):
        return None  # not a clean black/white code: an unstamped frame
    value = 0
    for bit in levels > 128:
        value = (value << 1) | int(bit)
    if not _PLAUSIBLE_MS[0] <= value <= _PLAUSIBLE_MS[1]:
        return None
    return value / 1000.0
