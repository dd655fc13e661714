from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class HourlyStats(BaseModel):
    """One camera-hour, as materialised by the Dagster `hourly_stats` asset."""

    camera_id: int
    hour: datetime
    frames: int
    detector_frames: int
    detections: int
    tracks: int
    max_persons: int
    faces: int
    events: int
    intrusion_events: int
    motion_events: int


class HourlyStatsPage(BaseModel):
    items: list[HourlyStats]
