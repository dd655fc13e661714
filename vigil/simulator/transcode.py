"""Prepare footage for the simulator: H.264 in MP4, no B-frames, a keyframe every second."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from pathlib import Path

from vigil.logs import get_logger
from vigil.media.ffmpeg import find_ffmpeg, probe_video

log = get_logger(__name__)


def default_cache_dir() -> Path:
    base = os.environ.get("VIGIL_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return Path(base or Path.home() / ".cache") / "vigil" / "simulator"


def transcode_for_simulator(
    src: Path,
    dst: Path | None = None,
    *,
    cache_dir: Path | None = None,
    gop_seconds: float = 1.0,
    ffmpeg: str | None = None,
) -> Path:
    """Transcode `src` once to a simulator-ready MP4 and return its path.

    The result is cached: at `dst` if given (redone when `src` is newer), else under
    `cache_dir` keyed by the source's path, size and mtime, so tests pay for it once. Always
    re-encodes (even H.264 input) because the GOP and the absence of B-frames are what make the
    live loop and HLS segmenting behave like a real camera.
    """
    src = Path(src).resolve()
    stat = src.stat()
    if dst is None:
        key = f"{src}|{stat.st_size}|{stat.st_mtime_ns}|{gop_seconds}".encode()
        digest = hashlib.sha1(key, usedforsecurity=False).hexdigest()[:16]
        dst = (cache_dir or default_cache_dir()) / f"{src.stem}-{digest}.mp4"
        if dst.exists():
            return dst
    elif dst.exists() and dst.stat().st_mtime_ns >= stat.st_mtime_ns:
        return dst
    exe = ffmpeg or find_ffmpeg()
    try:
        fps = probe_video(src, exe).fps or 25.0
    except ValueError as exc:
        raise RuntimeError(f"cannot use {src} as simulator footage: {exc}") from exc
    gop = max(1, round(fps * gop_seconds))
    dst.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target and rename: concurrent callers never see a partial file.
    fd, tmp_name = tempfile.mkstemp(suffix=".mp4", dir=dst.parent)
    os.close(fd)
    cmd = [exe, "-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i", str(src), "-an"]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p"]
    cmd += ["-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0", "-bf", "0"]
    cmd += ["-movflags", "+faststart", tmp_name]
    log.info("simulator.transcode", src=str(src), dst=str(dst), gop=gop)
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=600)
        os.replace(tmp_name, dst)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"transcoding {src} failed: {exc.stderr.decode()[-500:]}") from exc
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return dst
