"""What other services write and the assets read: shown in the lineage, not materialised here."""

import dagster as dg

detections_lake = dg.AssetSpec(
    "detections_lake",
    description="Frames, detections, faces and event changes in the Parquet lake, written by "
    "the dataflow (camera_id / date / hour partitions).",
    group_name="sources",
    kinds={"parquet"},
)
live_events = dg.AssetSpec(
    "live_events",
    description="Events the dataflow's live rules write to the database within a second.",
    group_name="sources",
    kinds={"postgres"},
)
zones = dg.AssetSpec(
    "zones",
    description="Cameras' zones, edited through the API; a change makes history replayable.",
    group_name="sources",
    kinds={"postgres"},
)
recordings = dg.AssetSpec(
    "recordings",
    description="Recorded segments written by ingest (FFmpeg stream copy, named by UTC start).",
    group_name="sources",
    kinds={"mp4"},
)

SOURCES = [detections_lake, live_events, zones, recordings]
