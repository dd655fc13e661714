"""Every asset of the code location, upstream first."""

import dagster as dg

from pipelines.assets.clips import clips
from pipelines.assets.events import events, hourly_stats
from pipelines.assets.faces import face_identities
from pipelines.assets.sources import SOURCES
from pipelines.assets.upkeep import lake_compaction, retention

ASSETS: list[dg.AssetsDefinition | dg.AssetSpec] = [
    *SOURCES,
    events,
    hourly_stats,
    clips,
    lake_compaction,
    retention,
    face_identities,
]

__all__ = [
    "ASSETS",
    "clips",
    "events",
    "face_identities",
    "hourly_stats",
    "lake_compaction",
    "retention",
]
