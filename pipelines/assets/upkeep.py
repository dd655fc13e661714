"""Storage upkeep on schedules: `lake_compaction` and `retention`."""

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.assets.clips import clips
from pipelines.assets.sources import detections_lake, recordings
from pipelines.resources import (
    DatabaseResource,
    LakeResource,
    MediaResource,
    ObjectStoreResource,
    RetentionResource,
)
from vigil.lake.compaction import compact_lake
from vigil.retention import sweep

# One storage-rewriting run at a time (see the instance's tag_concurrency_limits).
EXCLUSIVE = {"vigil/exclusive": "storage"}


@dg.asset(
    deps=[detections_lake],
    group_name="upkeep",
    kinds={"parquet"},
    op_tags=EXCLUSIVE,
    description="Merges the small Parquet files of closed hour partitions (one file per hour).",
)
def lake_compaction(lake: LakeResource) -> dg.MaterializeResult:
    min_files, grace = lake.compaction
    report = compact_lake(lake.path, min_files=min_files, grace=grace)
    return dg.MaterializeResult(metadata=dict(vars(report)))


@dg.asset(
    deps=[recordings, clips, detections_lake],
    group_name="upkeep",
    kinds={"python"},
    op_tags=EXCLUSIVE,
    description="Deletes recordings, clips, snapshots, face thumbnails and lake partitions past "
    "their camera's retention days, then the oldest of everything while over the storage cap; "
    "rows and objects consistently, in batches.",
)
def retention(
    context: AssetExecutionContext,
    database: DatabaseResource,
    lake: LakeResource,
    media: MediaResource,
    object_store: ObjectStoreResource,
    retention_policy: RetentionResource,
) -> dg.MaterializeResult:
    report = sweep(
        database.sessions(),
        object_store.store(),
        media.paths,
        lake.path,
        retention_policy.policy,
        on_batch=lambda batch, done, planned: context.log.info(
            f"retention batch {batch + 1}: {done}/{planned} items"
        ),
    )
    summary = report.summary()
    return dg.MaterializeResult(
        metadata={
            **{k: v for k, v in summary.items() if not isinstance(v, dict)},
            **{f"deleted_{k}": v for k, v in summary["deleted"].items()},
            **{f"freed_bytes_{k}": v for k, v in summary["freed_bytes_by_kind"].items()},
        }
    )
