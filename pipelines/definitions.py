"""The code location Dagster loads (workspace.yaml): assets, resources, jobs, sensors,
schedules. `dagster definitions validate -w workspace.yaml` checks it."""

import dagster as dg

from pipelines.assets import ASSETS
from pipelines.jobs import (
    clips_job,
    events_job,
    face_identities_job,
    lake_compaction_job,
    retention_job,
)
from pipelines.resources import default_resources
from pipelines.schedules import (
    face_identities_schedule,
    hourly_reconcile,
    lake_compaction_schedule,
    retention_schedule,
)
from pipelines.sensors import camera_partitions, closed_events

defs = dg.Definitions(
    assets=ASSETS,
    jobs=[events_job, clips_job, lake_compaction_job, retention_job, face_identities_job],
    sensors=[camera_partitions, closed_events],
    schedules=[
        hourly_reconcile,
        lake_compaction_schedule,
        retention_schedule,
        face_identities_schedule,
    ],
    resources=default_resources(),
    # Steps in the run's own process: a process per step would load Dagster and Vigil again
    # for each step, for jobs that are small and mostly sequential.
    executor=dg.in_process_executor,
)
