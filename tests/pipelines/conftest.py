"""Pipeline tests reuse the recorded segments of tests/clips (the same footage, same T0)."""

from tests.clips.conftest import ffmpeg_exe, record, segment_files, source_frames

__all__ = ["ffmpeg_exe", "record", "segment_files", "source_frames"]
