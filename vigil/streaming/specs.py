"""What the dataflow needs to know about one camera, and which slot (partition) owns it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from vigil.cameras.urls import mask_url
from vigil.media.frame_reader import DecodeOptions
from vigil.rules.zones import ZoneRule
from vigil.vision.motion import MotionConfig

Polygon = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class ReplaySpec:
    """A local video file decoded at fixed timestamps: frame i is at start + i / fps."""

    start: datetime
    offset_seconds: float = 0.0
    duration_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("replay start must be timezone-aware, e.g. 2026-11-23T12:00:00Z")


@dataclass(frozen=True)
class CameraSpec:
    camera_id: int
    source: str  # the detect stream (RTSP URL, may hold credentials) or, for replays, a file
    fps: float = 5.0
    width: int = 640
    face_mode: bool = False
    face_recognition: bool = True  # False: no faces are computed (the camera's privacy switch)
    motion_masks: tuple[Polygon, ...] = ()
    zones: tuple[ZoneRule, ...] = ()
    replay: ReplaySpec | None = None

    def __post_init__(self) -> None:
        if isinstance(self.camera_id, bool) or not isinstance(self.camera_id, int):
            raise ValueError(f"camera_id must be an integer, got {self.camera_id!r}")
        if self.camera_id < 1:
            raise ValueError(f"camera_id must be >= 1, got {self.camera_id}")
        if not self.source:
            raise ValueError(f"camera {self.camera_id} has no stream URL or file")
        self.decode_options()  # validates fps, width and the replay window
        MotionConfig(masks=self.motion_masks)  # validates the motion masks

    def decode_options(self, io_timeout_seconds: float = 5.0) -> DecodeOptions:
        replay = self.replay
        return DecodeOptions(
            fps=self.fps,
            width=self.width,
            io_timeout_seconds=io_timeout_seconds,
            offset_seconds=replay.offset_seconds if replay else 0.0,
            duration_seconds=replay.duration_seconds if replay else None,
        )

    @property
    def source_path(self) -> Path:
        return Path(self.source)

    @property
    def masked_source(self) -> str:
        return self.source if self.replay else mask_url(self.source)

    def reader_key(self) -> tuple[object, ...]:
        """Changes that need a new reader."""
        return (self.source, self.fps, self.width, self.replay)

    def analyzer_key(self) -> tuple[object, ...]:
        """Changes that need a new analyzer configuration (tracks are kept)."""
        return (self.face_mode, self.face_recognition, self.motion_masks, self.fps)


def slot_of(camera_id: int, slots: int) -> int:
    """The partition that owns a camera. Camera ids are sequential, so consecutive cameras land
    in consecutive slots, which Bytewax hands out round-robin over the workers."""
    return camera_id % slots


def slot_key(slot: int) -> str:
    """Partition name; zero-padded so Bytewax's sorted order is the numeric order."""
    return f"{slot:03d}"
