"""Several videos played in turn by one simulated camera: joined once into one file (same size
and frame rate, letterboxed), cached like `transcode_for_simulator`'s output."""

from __future__ import annotations

import hashlib
import os
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from vigil.logs import get_logger
from vigil.media.ffmpeg import find_ffmpeg
from vigil.simulator.transcode import default_cache_dir

log = get_logger(__name__)


def join_for_simulator(
    sources: Sequence[Path],
    *,
    cache_dir: Path | None = None,
    size: tuple[int, int] = (400, 300),
    fps: int = 25,
    seconds: Sequence[float | None] | None = None,
    ffmpeg: str | None = None,
) -> Path:
    """One MP4 playing `sources` in turn (each cut to its `seconds`, when given)."""
    if not sources:
        raise ValueError("a playlist needs at least one video")
    cuts = list(seconds) if seconds is not None else [None] * len(sources)
    if len(cuts) != len(sources):
        raise ValueError("give one duration (or None) per video")
    paths = [Path(s).resolve() for s in sources]
    key = "|".join(
        f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}:{c}"
        for p, c in zip(paths, cuts, strict=True)
    )
    digest = hashlib.sha1(f"{key}|{size}|{fps}".encode(), usedforsecurity=False).hexdigest()[:16]
    dst = (cache_dir or default_cache_dir()) / f"playlist-{digest}.mp4"
    if dst.exists():
        return dst
    w, h = size
    cmd = [ffmpeg or find_ffmpeg(), "-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
    chains = []
    for index, (path, cut) in enumerate(zip(paths, cuts, strict=True)):
        cmd += ["-t", str(cut)] if cut else []
        cmd += ["-i", str(path)]
        chains.append(
            f"[{index}:v]scale={w}:{h}:force_original_aspect_ratio=decrease,"
            f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2,fps={fps},setsar=1,format=yuv420p[v{index}]"
        )
    joined = "".join(f"[v{i}]" for i in range(len(paths)))
    graph = ";".join(chains) + f";{joined}concat=n={len(paths)}:v=1:a=0[out]"
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(suffix=".mp4", dir=dst.parent)
    os.close(fd)
    cmd += ["-filter_complex", graph, "-map", "[out]", "-an", "-c:v", "libx264"]
    cmd += ["-preset", "veryfast", "-crf", "23", "-g", str(fps), "-bf", "0"]
    cmd += ["-movflags", "+faststart", tmp_name]
    log.info("simulator.playlist", sources=[str(p) for p in paths], dst=str(dst))
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=900)
        os.replace(tmp_name, dst)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(
            f"joining {len(paths)} videos failed: {exc.stderr.decode()[-500:]}"
        ) from exc
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    return dst
