"""Each camera's detection path, chosen from the recall it measures on its own frames.

Two paths, cheapest first:
- "regions": squares of the small model's input around motion and tracks at native resolution
  (the whole frame on the large model when the squares would cover most of it);
- "whole": every detected frame whole on the large model (the check's reference).

In "auto" mode a camera starts on the cheap path and, every `check_interval_seconds`, runs
both paths on the same detected frames until the reference has seen `check_people` confident
people (or `check_max_frames` frames went by). The cheap path's recall against the reference
(vigil.vision.agreement.people_found) then decides: below `recall_floor` the camera moves to
the whole frame, at or above it the camera (back) on the regions. The reference costs extra
only while a check runs, so the saving of the cheap path holds (bench_detector_regions.py
measures it); a forced mode ("regions" or "whole") never checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from vigil.logs import get_logger

log = get_logger(__name__)

DetectionPath = Literal["regions", "whole"]
PathMode = Literal["auto", "regions", "whole"]


@dataclass(frozen=True, slots=True)
class PathConfig:
    mode: PathMode = "regions"  # the dataflow passes VIGIL_DETECTOR_PATH ("auto" by default)
    recall_floor: float = 0.95
    check_interval_seconds: float = 300.0
    check_people: int = 20  # confident reference people a check waits for
    check_max_frames: int = 25  # detected frames a check runs at most (a quiet scene)

    def __post_init__(self) -> None:
        if not 0 < self.recall_floor <= 1:
            raise ValueError("recall_floor must be within 0..1")
        if self.check_people < 1 or self.check_max_frames < 1:
            raise ValueError("a check needs at least one person and one frame")


@dataclass(frozen=True, slots=True)
class PathCheck:
    """The outcome of one check: the cheap path's recall against the reference."""

    ts: datetime
    frames: int
    wanted: int  # confident reference people over the check's frames
    found: int  # of those, found by the cheap path
    path: DetectionPath  # the path the camera runs after the check

    @property
    def recall(self) -> float | None:
        return self.found / self.wanted if self.wanted else None


class PathChooser:
    """One camera's path and the state of its recall check."""

    def __init__(self, config: PathConfig, camera_id: str = "") -> None:
        self.config = config
        self.camera_id = camera_id
        self.path: DetectionPath = "whole" if config.mode == "whole" else "regions"
        self.last_check: PathCheck | None = None
        self._next_check: datetime | None = None  # None: at the first detected frame
        self._frames = self._wanted = self._found = 0
        self._checking = False

    def checking(self, ts: datetime) -> bool:
        """Whether this detected frame must run both paths (a check is due or running)."""
        if self.config.mode != "auto":
            return False
        if not self._checking and (self._next_check is None or ts >= self._next_check):
            self._checking = True
            self._frames = self._wanted = self._found = 0
        return self._checking

    def record(self, wanted: int, found: int, ts: datetime) -> PathCheck | None:
        """Count one checked frame; the finished check when this frame ends it."""
        self._frames += 1
        self._wanted += wanted
        self._found += found
        cfg = self.config
        if self._wanted < cfg.check_people and self._frames < cfg.check_max_frames:
            return None
        self._checking = False
        self._next_check = ts + timedelta(seconds=cfg.check_interval_seconds)
        before = self.path
        if self._wanted:  # nobody to find: nothing learnt, keep the path
            holds = self._found >= cfg.recall_floor * self._wanted
            self.path = "regions" if holds else "whole"
        check = PathCheck(ts, self._frames, self._wanted, self._found, self.path)
        self.last_check = check
        fields = {
            "camera_id": self.camera_id,
            "path": self.path,
            "recall": None if check.recall is None else round(check.recall, 4),
            "people": check.wanted,
            "frames": check.frames,
        }
        if self.path != before:
            log.info("detection_path_changed", previous=before, **fields)
        else:
            log.debug("detection_path_checked", **fields)
        return check
