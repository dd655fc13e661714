"""Sensors: keep the camera partitions in step with the cameras table; cut clips of closed
events as soon as their recording is complete."""

import hashlib
from datetime import UTC, datetime

import dagster as dg
from sqlalchemy import select

from pipelines.jobs import clips_job
from pipelines.partitions import CAMERAS
from pipelines.resources import DatabaseResource, MediaResource
from vigil.clips import clips_to_cut
from vigil.db.models import Camera


@dg.sensor(
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Adds a `camera` partition per camera and removes those of deleted cameras.",
)
def camera_partitions(
    context: dg.SensorEvaluationContext, database: DatabaseResource
) -> dg.SensorResult | dg.SkipReason:
    with database.sessions()() as session:
        wanted = {str(i) for i in session.scalars(select(Camera.id))}
    have = set(context.instance.get_dynamic_partitions(CAMERAS))
    added, removed = sorted(wanted - have), sorted(have - wanted)
    if not added and not removed:
        return dg.SkipReason(f"{len(have)} camera partitions, in step with the cameras table")
    requests: list[dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest] = []
    if added:
        requests.append(dg.AddDynamicPartitionsRequest(CAMERAS, added))
    if removed:
        requests.append(dg.DeleteDynamicPartitionsRequest(CAMERAS, removed))
    return dg.SensorResult(dynamic_partitions_requests=requests)


@dg.sensor(
    job=clips_job,
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Requests a clips run when closed events wait for a clip. The run key names the "
    "waiting events, so an event whose clip cannot be cut does not start a run every tick.",
)
def closed_events(
    context: dg.SensorEvaluationContext, database: DatabaseResource, media: MediaResource
) -> dg.RunRequest | dg.SkipReason:
    policy = media.clip_policy
    now = datetime.now(UTC)
    with database.sessions()() as session:
        jobs = clips_to_cut(session, now, ready_before=now - policy.post - policy.settle)
    if not jobs:
        return dg.SkipReason("no closed event waits for a clip")
    digest = hashlib.sha256()
    for job in jobs:
        digest.update(f"{job.event_id}|{job.event_updated_at.isoformat()}\n".encode())
    return dg.RunRequest(
        run_key=f"clips-{digest.hexdigest()[:24]}", tags={"events": str(len(jobs))}
    )
