"""Face identities: refine the recent window's identities (merge, split, reassign, keeping ids)
every few minutes (VIGIL_FACE_REFINE_CRON) and on demand."""

from datetime import UTC, datetime, timedelta

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.assets.sources import detections_lake
from pipelines.resources import DatabaseResource
from vigil.faces.refinement import refine_all
from vigil.settings import get_settings


class FaceRefineConfig(dg.Config):
    window_hours: float | None = None  # default: VIGIL_FACE_REFINE_WINDOW_HOURS
    threshold: float | None = None  # default: the clustering's own


@dg.asset(
    deps=[detections_lake],
    group_name="faces",
    kinds={"python"},
    description="Re-clusters each owner's faces of the recent window and applies the result to "
    "the live identities: merges those that are one person, splits wrong ones, keeps ids, "
    "never moves the faces of labelled identities or a user's merges and splits; every merge "
    "and split is logged in face_changes.",
)
def face_identities(
    context: AssetExecutionContext, config: FaceRefineConfig, database: DatabaseResource
) -> dg.MaterializeResult:
    hours = config.window_hours or get_settings().face_refine_window_hours
    since = datetime.now(UTC) - timedelta(hours=hours)
    report = refine_all(
        database.sessions(),
        since,
        threshold=config.threshold,
        on_owner=lambda done, total: context.log.info(f"refined owner {done}/{total}"),
    )
    return dg.MaterializeResult(
        metadata={
            "window_hours": hours,
            "owners": report.owners,
            "faces": report.samples,
            "reassigned": report.reassigned,
            "new_identities": report.created,
            "merges": len(report.merges),
            "splits": report.splits,
            "stale_plan_entries": report.stale,
        }
    )
