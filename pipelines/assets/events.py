"""`events`: one camera's hour re-derived from the lake with the current zones and rules, and
reconciled with the live events (vigil.events.reconcile). `hourly_stats`: its counts.

A backfill over many hours of a camera runs as few runs as possible (up to a day per run):
each partition is still reconciled and committed on its own."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.assets.sources import detections_lake, live_events, zones
from pipelines.partitions import camera_hours
from pipelines.resources import DatabaseResource, LakeResource, ObjectStoreResource
from vigil.events.reconcile import ReconcileReport, replay_and_reconcile
from vigil.retention.journal import drain_quietly
from vigil.stats import compute_hourly_stats, write_hourly_stats

HOUR = timedelta(hours=1)
BACKFILL = dg.BackfillPolicy.multi_run(max_partitions_per_run=24)


def windows(context: AssetExecutionContext) -> Iterator[tuple[int, datetime]]:
    """(camera id, hour start) of every partition this run covers, in order."""
    for key in sorted(context.partition_keys):
        dims = camera_hours.get_partition_key_from_str(key).keys_by_dimension
        yield (
            int(dims["camera"]),
            datetime.strptime(dims["hour"], "%Y-%m-%d-%H:%M").replace(tzinfo=UTC),
        )


def totals(reports: list[ReconcileReport]) -> dict[str, Any]:
    out: dict[str, Any] = dict.fromkeys(
        ("inserted", "updated", "deleted", "unchanged", "pending"), 0
    )
    for report in reports:
        for name, count in report.counts().items():
            out[name] += count
    out["frames"] = sum(r.frames for r in reports)
    out["detections"] = sum(r.detections for r in reports)
    out["unsynchronised_windows"] = sum(not r.synchronised for r in reports)
    out["fingerprints"] = ", ".join(sorted({r.fingerprint[:12] for r in reports}))
    return out


@dg.asset(
    partitions_def=camera_hours,
    backfill_policy=BACKFILL,
    deps=[detections_lake, live_events, zones],
    group_name="events",
    kinds={"python", "duckdb"},
    description="Events re-derived from the detections lake with the current zones and rules, "
    "reconciled with the live ones: unchanged events are not touched, changed ones updated, "
    "vanished ones deleted with their clips. Re-materialise after a zone edit.",
)
def events(
    context: AssetExecutionContext,
    database: DatabaseResource,
    lake: LakeResource,
    object_store: ObjectStoreResource,
) -> dg.MaterializeResult:
    sessions = database.sessions()
    reports = []
    for camera_id, start in windows(context):
        with sessions() as session:
            report = replay_and_reconcile(session, lake.path, camera_id, start, start + HOUR)
            session.commit()
        reports.append(report)
        context.log.info(f"camera {camera_id} {start:%Y-%m-%d %H:00}: {report.counts()}")
    if any(r.deleted for r in reports):
        drain_quietly(sessions, object_store.store())  # clips and snapshots of deleted events
    return dg.MaterializeResult(metadata=totals(reports))


@dg.asset(
    partitions_def=camera_hours,
    backfill_policy=BACKFILL,
    deps=[events, detections_lake],
    group_name="events",
    kinds={"parquet", "duckdb"},
    description="Events and detections per camera per hour for the dashboard: "
    "<lake>/hourly_stats/camera_id=/date=/hour=/stats.parquet (vigil.stats.hourly).",
)
def hourly_stats(
    context: AssetExecutionContext, database: DatabaseResource, lake: LakeResource
) -> dg.MaterializeResult:
    now = datetime.now(UTC)
    rows = []
    with database.sessions()() as session:
        for camera_id, start in windows(context):
            row = compute_hourly_stats(session, lake.path, camera_id, start, now)
            write_hourly_stats(lake.path, row)
            rows.append(row)
    return dg.MaterializeResult(
        metadata={
            "hours": len(rows),
            "events": sum(r["events"] for r in rows),
            "detections": sum(r["detections"] for r in rows),
            "frames": sum(r["frames"] for r in rows),
        }
    )
