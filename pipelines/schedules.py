"""Schedules: reconcile each camera's hour once its lake data is final; compact the lake;
sweep retention."""

from datetime import timedelta

import dagster as dg

from pipelines.jobs import events_job, face_identities_job, lake_compaction_job, retention_job
from pipelines.partitions import CAMERAS, camera_hour_key
from vigil.settings import get_settings

# The hour that ended at least an hour ago: its events have closed (or run past the replay's
# one-hour lookahead) and the dataflow has published its lake files.
SETTLED = timedelta(hours=2)


@dg.schedule(
    cron_schedule="20 * * * *",
    job=events_job,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Every hour, replays each camera's hour before last from the lake and "
    "reconciles it with the live events (catches what the stream missed, e.g. after a crash).",
)
def hourly_reconcile(context: dg.ScheduleEvaluationContext) -> list[dg.RunRequest] | dg.SkipReason:
    scheduled = context.scheduled_execution_time
    if scheduled is None:
        return dg.SkipReason("no scheduled time")
    hour = (scheduled - SETTLED).replace(minute=0, second=0, microsecond=0)
    key = f"{hour:%Y-%m-%d-%H:00}"
    cameras = sorted(context.instance.get_dynamic_partitions(CAMERAS), key=int)
    if not cameras:
        return dg.SkipReason("no camera partitions yet")
    return [
        dg.RunRequest(
            run_key=f"{camera}|{key}", partition_key=str(camera_hour_key(int(camera), key))
        )
        for camera in cameras
    ]


lake_compaction_schedule = dg.ScheduleDefinition(
    name="lake_compaction_schedule",
    job=lake_compaction_job,
    cron_schedule="40 * * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Merges the small Parquet files of closed hours.",
)

retention_schedule = dg.ScheduleDefinition(
    name="retention_schedule",
    job=retention_job,
    cron_schedule=get_settings().retention_cron,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Retention sweep: per-camera days and the global storage cap "
    "(VIGIL_RETENTION_CRON).",
)

face_identities_schedule = dg.ScheduleDefinition(
    name="face_identities_schedule",
    job=face_identities_job,
    cron_schedule=get_settings().face_refine_cron,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Refines face identities over the recent window (VIGIL_FACE_REFINE_CRON).",
)
