"""Locate FFmpeg and build the per-camera ingest command.

One FFmpeg process per camera reads the RTSP record stream once (TCP) and writes three outputs:

(a) HLS live: stream copy, ~1 s segments (cut on keyframes), a short rolling window whose old
    segments are deleted; `-hls_start_number_source epoch` keeps media sequence numbers growing
    across restarts, so a player never sees the sequence go backwards.
(b) Recording: stream copy into `segment` files of `record_segment_seconds`, aligned to the wall
    clock and named by their UTC start time (strftime; FFmpeg runs with TZ=UTC), so a time range
    maps to files without probing. Container: fragmented MP4 (`frag_keyframe+empty_moov`): each
    keyframe closes a fragment, so a file whose writer is killed stays playable up to its last
    fragment (a plain MP4 would lack its moov and be lost), browsers play it directly, and the
    concat demuxer joins segments for clips. With `-c copy` a cut can only fall on a keyframe,
    so a segment lasts `record_segment_seconds` rounded up to the camera's GOP.
(c) Snapshot: the only decoded output. Decoding only keyframes (`-skip_frame nokey`) keeps it
    cheap; `fps=1/N` picks one frame per interval; mjpeg with `-update 1 -atomic_writing 1`
    replaces `latest.jpg` by rename, so readers never see a half-written file.

`transcode=True` re-encodes with libx264 ultrafast (for sources HLS/MP4 can't carry, and as the
benchmark baseline); HLS and the recording then share one encode through the `tee` muxer.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from vigil.media.paths import MediaPaths

if TYPE_CHECKING:
    from vigil.settings import Settings

RECORD_MOVFLAGS = "+frag_keyframe+empty_moov+default_base_moof"
HLS_FLAGS = "delete_segments+independent_segments+program_date_time+temp_file+omit_endlist"


class FFmpegNotFoundError(RuntimeError):
    """No usable ffmpeg binary: set VIGIL_FFMPEG_PATH or install imageio-ffmpeg."""


def find_ffmpeg(configured: str | None = None) -> str:
    """The configured binary (a path or a name on PATH), else the one in imageio-ffmpeg's wheel."""
    if configured:
        found = shutil.which(configured)
        if found is None:
            raise FFmpegNotFoundError(f"ffmpeg_path {configured!r} is not an executable file")
        return found
    try:
        import imageio_ffmpeg

        return str(imageio_ffmpeg.get_ffmpeg_exe())
    except (ImportError, RuntimeError) as exc:
        found = shutil.which("ffmpeg")
        if found is None:
            raise FFmpegNotFoundError("no ffmpeg: set VIGIL_FFMPEG_PATH") from exc
        return found


def ffmpeg_env() -> dict[str, str]:
    """FFmpeg's environment: TZ=UTC because the segment muxer's strftime uses local time."""
    return {**os.environ, "TZ": "UTC"}


@dataclass(frozen=True)
class IngestOptions:
    hls_segment_seconds: float = 1.0
    hls_list_size: int = 6
    record_segment_seconds: int = 10
    snapshot_interval_seconds: float = 5.0
    io_timeout_seconds: float = 5.0  # socket I/O timeout: a dead stream exits, never hangs
    progress_period_seconds: float = 1.0
    probe_seconds: float = 1.0
    snapshot_keyframes_only: bool = True
    transcode: bool = False  # libx264 re-encode instead of stream copy
    log_level: str = "warning"

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestOptions:
        return cls(
            hls_segment_seconds=settings.hls_segment_seconds,
            hls_list_size=settings.hls_list_size,
            record_segment_seconds=settings.record_segment_seconds,
            snapshot_interval_seconds=settings.snapshot_interval_seconds,
            io_timeout_seconds=min(settings.ingest_stall_seconds, 10.0),
        )


def build_ingest_command(
    ffmpeg: str, url: str, paths: MediaPaths, camera_id: int | str, options: IngestOptions
) -> list[str]:
    """The full argv of one camera's ingest process (outputs described in the module doc)."""
    playlist = paths.playlist(camera_id)
    hls_segments = str(paths.live_dir(camera_id) / "seg_%d.ts")
    record = str(paths.record_template(camera_id))
    hls = {
        "hls_time": _num(options.hls_segment_seconds),
        "hls_list_size": str(options.hls_list_size),
        "hls_flags": HLS_FLAGS,
        "hls_start_number_source": "epoch",
        "hls_segment_filename": hls_segments,
    }
    seg = {
        "segment_time": str(options.record_segment_seconds),
        "segment_atclocktime": "1",
        "reset_timestamps": "1",
        "strftime": "1",
        "segment_format": "mp4",
        "segment_format_options": f"movflags={RECORD_MOVFLAGS}",
    }
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-y", "-loglevel", options.log_level, "-nostats"]
    cmd += ["-progress", "pipe:1", "-stats_period", _num(options.progress_period_seconds)]
    cmd += ["-rtsp_transport", "tcp", "-timeout", str(int(options.io_timeout_seconds * 1e6))]
    # Probe ~1 s instead of the default 5 s: a camera's parameters come with its first
    # keyframe, and every probed second is a second of startup delay.
    cmd += ["-probesize", "1000000", "-analyzeduration", str(int(options.probe_seconds * 1e6))]
    if options.snapshot_keyframes_only and not options.transcode:
        cmd += ["-skip_frame:v", "nokey"]  # only the snapshot output decodes
    cmd += ["-i", url]
    if options.transcode:
        gop = _num(options.hls_segment_seconds)
        cmd += ["-map", "0:v:0", "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency"]
        cmd += ["-pix_fmt", "yuv420p", "-force_key_frames", f"expr:gte(t,n_forced*{gop})"]
        cmd += [
            "-f",
            "tee",
            f"{_tee_slave('hls', hls, playlist)}|{_tee_slave('segment', seg, record)}",
        ]
    else:
        cmd += ["-map", "0:v:0", "-c:v", "copy", "-f", "hls", *_flags(hls), str(playlist)]
        cmd += ["-map", "0:v:0", "-c:v", "copy", "-f", "segment", *_flags(seg), record]
    # select, not fps=1/N: fps waits for a frame past the slot before emitting (N/2 s of delay
    # at start); this takes the first frame at once, then one at least N s after the last.
    every = _num(options.snapshot_interval_seconds)
    pick = f"select='isnan(prev_selected_t)+gte(t-prev_selected_t\\,{every})'"
    cmd += ["-map", "0:v:0", "-vf", pick, "-fps_mode", "vfr", "-c:v", "mjpeg", "-q:v", "4"]
    cmd += ["-f", "image2", "-update", "1", "-atomic_writing", "1"]
    cmd += [str(paths.snapshot(camera_id))]
    return cmd


def _num(value: float) -> str:
    return f"{value:g}"


def _flags(opts: dict[str, str]) -> list[str]:
    return [item for key, value in opts.items() for item in (f"-{key}", value)]


_TEE_SPECIAL = re.compile(r"[\\:|\[\]'=]")


def _tee_slave(fmt: str, opts: dict[str, str], target: Path | str) -> str:
    # tee unescapes twice (slave list, then options); rather than escape twice, refuse paths
    # with its special characters (media paths are derived from config, not user input).
    for value in (*opts.values(), str(target)):
        if value.startswith("movflags="):
            continue
        if _TEE_SPECIAL.search(value):
            raise ValueError(f"path not usable with the tee muxer: {value!r}")
    body = ":".join(f"{key}={value}" for key, value in opts.items())
    return f"[f={fmt}:{body}]{target}"


@dataclass(frozen=True)
class VideoInfo:
    codec: str
    width: int
    height: int
    fps: float | None
    duration_seconds: float | None


_STREAM = re.compile(r"Stream #\d+:\d+.*?: Video: (\w+).*?, (\d{2,5})x(\d{2,5})")
_FPS = re.compile(r"([\d.]+) (?:fps|tbr)")
_DURATION = re.compile(r"Duration: (\d+):(\d\d):(\d\d(?:\.\d+)?)")


def probe_video(path: Path | str, ffmpeg: str | None = None) -> VideoInfo:
    """Codec, size, frame rate and duration of a file's first video stream, parsed from
    `ffmpeg -i` (imageio-ffmpeg ships no ffprobe)."""
    result = subprocess.run(
        [ffmpeg or find_ffmpeg(), "-hide_banner", "-nostdin", "-i", str(path)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    match = _STREAM.search(result.stderr)
    if match is None:
        raise ValueError(f"no video stream in {path}: {result.stderr.strip()[-300:]}")
    line = result.stderr[match.start() :].splitlines()[0]
    fps = _FPS.search(line)
    dur = _DURATION.search(result.stderr)
    duration = int(dur[1]) * 3600 + int(dur[2]) * 60 + float(dur[3]) if dur else None
    return VideoInfo(
        codec=match[1],
        width=int(match[2]),
        height=int(match[3]),
        fps=float(fps[1]) if fps else None,
        duration_seconds=duration,
    )
