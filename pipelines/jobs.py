"""Jobs the sensors and schedules launch."""

import dagster as dg

from pipelines.assets import (
    clips,
    events,
    face_identities,
    hourly_stats,
    lake_compaction,
    retention,
)
from pipelines.partitions import camera_hours

events_job = dg.define_asset_job(
    "events_job",
    selection=dg.AssetSelection.assets(events, hourly_stats),
    partitions_def=camera_hours,
    description="Replay one camera's hour from the lake and refresh its hourly stats.",
)
clips_job = dg.define_asset_job("clips_job", selection=dg.AssetSelection.assets(clips))
lake_compaction_job = dg.define_asset_job(
    "lake_compaction_job", selection=dg.AssetSelection.assets(lake_compaction)
)
retention_job = dg.define_asset_job("retention_job", selection=dg.AssetSelection.assets(retention))
face_identities_job = dg.define_asset_job(
    "face_identities_job", selection=dg.AssetSelection.assets(face_identities)
)
