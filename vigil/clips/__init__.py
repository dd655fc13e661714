"""Event clips: cut from the recorded segments by stream copy, kept in the object store."""

from vigil.clips.cutter import ClipsReport, cut_pending_clips
from vigil.clips.pending import ClipJob, clips_to_cut

__all__ = ["ClipJob", "ClipsReport", "clips_to_cut", "cut_pending_clips"]
