"""Aggregates for the dashboard, computed by Dagster and kept as Parquet beside the lake."""

from vigil.stats.hourly import (
    HOURLY_STATS_SCHEMA,
    compute_hourly_stats,
    hourly_stats_path,
    register_hourly_stats_view,
    write_hourly_stats,
)

__all__ = [
    "HOURLY_STATS_SCHEMA",
    "compute_hourly_stats",
    "hourly_stats_path",
    "register_hourly_stats_view",
    "write_hourly_stats",
]
