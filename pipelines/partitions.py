"""Partitions: events and hourly stats are per camera (dynamic, synced from the cameras table
by a sensor) and per UTC hour, so a zone edit replays one camera's hours only."""

from __future__ import annotations

import dagster as dg

from vigil.settings import get_settings

CAMERAS = "cameras"

cameras = dg.DynamicPartitionsDefinition(name=CAMERAS)
hours = dg.HourlyPartitionsDefinition(
    start_date=f"{get_settings().events_partitions_start:%Y-%m-%d}-00:00", timezone="UTC"
)
camera_hours = dg.MultiPartitionsDefinition({"camera": cameras, "hour": hours})


def camera_hour_key(camera_id: int, hour_key: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"camera": str(camera_id), "hour": hour_key})
