"""`clips`: every closed event's clip, cut by stream copy and stored (vigil.clips)."""

import dagster as dg
from dagster import AssetExecutionContext

from pipelines.assets.events import events
from pipelines.assets.sources import recordings
from pipelines.resources import DatabaseResource, MediaResource, ObjectStoreResource
from vigil.clips import cut_pending_clips
from vigil.retention.journal import drain_quietly


@dg.asset(
    deps=[events, recordings],
    group_name="media",
    kinds={"ffmpeg", "s3"},
    description="An MP4 per closed event covering [start - pre, end + post], cut from the "
    "recorded segments by stream copy and linked to its event; re-cut when a replay moves the "
    "event. Run by the clips sensor whenever events close.",
)
def clips(
    context: AssetExecutionContext,
    database: DatabaseResource,
    media: MediaResource,
    object_store: ObjectStoreResource,
) -> dg.MaterializeResult:
    sessions = database.sessions()
    store = object_store.store()
    report = cut_pending_clips(sessions, store, media.paths, media.clip_policy, ffmpeg=media.ffmpeg)
    for event_id, error in report.failed.items():
        context.log.warning(f"clip of event {event_id} failed: {error}")
    drained = drain_quietly(sessions, store)  # objects of replaced clips
    return dg.MaterializeResult(
        metadata={
            **report.counts(),
            "video_seconds": round(report.seconds_of_video, 1),
            "replaced_objects_deleted": drained.objects if drained else 0,
        }
    )
