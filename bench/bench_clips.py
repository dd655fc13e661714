"""Clip cutting: Vigil's stream copy (vigil.clips / cut_clip) against a libx264 re-encode.

Recorded segments are made once from the real footage the way ingest writes them (H.264, a
keyframe a second, 4 s fragmented-MP4 segments named by UTC start). Then the same clips
(event lengths 2-20 s, padded 5 s each side, spread over the recording and across segment
boundaries) are cut by:
- copy:     vigil.media.recordings.cut_clip, what the clips asset runs (no decode, no encode);
- reencode: the same concat input decoded and encoded with libx264 `veryfast` (frame-accurate
  start, the usual alternative), written with +faststart too.
Each clip is checked to decode without error. Reported: wall and CPU seconds per clip, per
second of video, and the ratio, in one run.

    .venv/bin/python bench/bench_clips.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _report import machine, now_iso, save_report
from tqdm import tqdm

from vigil.media.ffmpeg import RECORD_MOVFLAGS, find_ffmpeg, probe_video
from vigil.media.paths import RECORD_TIME_FORMAT, MediaPaths
from vigil.media.recordings import Segment, cut_clip, list_segments

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "clips.json"
FOOTAGE = ROOT.parent / "shared" / "data" / "footage" / "vtest.avi"
T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PAD = timedelta(seconds=5)
# (event start s, event length s): short and long events, inside and across segments.
EVENTS = [(6.3, 2.0), (14.0, 5.5), (22.5, 9.0), (35.1, 3.0), (44.0, 14.0), (55.7, 20.0)]


def record(ffmpeg: str, root: Path) -> MediaPaths:
    tmp = root / "raw"
    tmp.mkdir()
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", str(FOOTAGE), "-an"]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "10"]
    cmd += ["-keyint_min", "10", "-sc_threshold", "0", "-bf", "0", "-f", "segment"]
    cmd += ["-segment_time", "4", "-reset_timestamps", "1", "-segment_format", "mp4"]
    cmd += ["-segment_format_options", f"movflags={RECORD_MOVFLAGS}", str(tmp / "s%03d.mp4")]
    subprocess.run(cmd, check=True, timeout=300)
    paths = MediaPaths(root / "media")
    for i, source in enumerate(sorted(tmp.glob("s*.mp4"))):
        start = T0 + timedelta(seconds=4 * i)
        target = paths.record_dir(1) / start.strftime("%Y%m%d")
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{start.strftime(RECORD_TIME_FORMAT)}.mp4"
        os.replace(source, path)
        end = (start + timedelta(seconds=4)).timestamp()
        os.utime(path, (end, end))
    return paths


def reencode(
    segments: list[Segment], start: datetime, end: datetime, dst: Path, ffmpeg: str
) -> Path:
    covering = [s for s in segments if s.start < end and s.end > start]
    listing = dst.with_suffix(".txt")
    listing.write_text("".join(f"file '{s.path}'\n" for s in covering))
    offset = max(0.0, (start - covering[0].start).total_seconds())
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "concat", "-safe", "0"]
    cmd += [
        "-i",
        str(listing),
        "-ss",
        f"{offset:.3f}",
        "-t",
        f"{(end - start).total_seconds():.3f}",
    ]
    cmd += ["-map", "0:v:0", "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    cmd += ["-movflags", "+faststart", "-y", str(dst)]
    subprocess.run(cmd, check=True, timeout=300)
    return dst


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def decodes(path: Path, ffmpeg: str) -> bool:
    result = subprocess.run(
        [ffmpeg, "-hide_banner", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode == 0 and not result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="cuts of each clip per variant")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    ffmpeg = find_ffmpeg()

    with tempfile.TemporaryDirectory(prefix="vigil-bench-clips-") as tmp:
        root = Path(tmp)
        paths = record(ffmpeg, root)
        segments = list_segments(paths, 1, T0, T0 + timedelta(minutes=2), segment_seconds=4)
        figures: dict[str, dict[str, float]] = {}
        checks: dict[str, bool] = {}
        for variant in ("copy", "reencode"):
            walls, cpus, video, sizes = [], [], 0.0, []
            runs = [(e, r) for e in EVENTS for r in range(args.repeat)]
            for (start_s, length), r in tqdm(runs, desc=variant, unit="clip"):
                start = T0 + timedelta(seconds=start_s) - PAD
                end = T0 + timedelta(seconds=start_s + length) + PAD
                dst = root / f"{variant}-{start_s}-{r}.mp4"
                cpu, wall = children_cpu(), time.perf_counter()
                if variant == "copy":
                    cut_clip(segments, start, end, dst, ffmpeg=ffmpeg)
                else:
                    reencode(segments, start, end, dst, ffmpeg)
                walls.append(time.perf_counter() - wall)
                cpus.append(children_cpu() - cpu)
                video += probe_video(dst, ffmpeg).duration_seconds or 0.0
                sizes.append(dst.stat().st_size)
                if r == 0:
                    checks[f"{variant} {start_s}s decodes"] = decodes(dst, ffmpeg)
                dst.unlink()
            figures[variant] = {
                "clips": len(runs),
                "median_wall_seconds_per_clip": statistics.median(walls),
                "mean_cpu_seconds_per_clip": statistics.fmean(cpus),
                "wall_seconds_per_video_second": sum(walls) / video,
                "cpu_seconds_per_video_second": sum(cpus) / video,
                "video_seconds_per_wall_second": video / sum(walls),
                "mean_clip_bytes": statistics.fmean(sizes),
            }
    copy, base = figures["copy"], figures["reencode"]
    result: dict[str, Any] = {
        "bench": "clips",
        "measured_at": now_iso(),
        "machine": machine(),
        "settings": {"repeat": args.repeat, "events": EVENTS, "pad_seconds": PAD.seconds},
        "baseline": "same clips re-encoded with libx264 veryfast (frame-accurate start)",
        "results": {
            **figures,
            "copy_speedup_wall": base["median_wall_seconds_per_clip"]
            / copy["median_wall_seconds_per_clip"],
            "copy_speedup_cpu": base["cpu_seconds_per_video_second"]
            / copy["cpu_seconds_per_video_second"],
            "all_clips_decode": all(checks.values()),
        },
    }
    save_report(args.out, result)
    print(f"{'variant':10} {'wall s/clip':>12} {'cpu s/video s':>14} {'video s per s':>14}")
    for name, f in figures.items():
        print(
            f"{name:10} {f['median_wall_seconds_per_clip']:12.3f} "
            f"{f['cpu_seconds_per_video_second']:14.4f} {f['video_seconds_per_wall_second']:14.1f}"
        )
    speedup = result["results"]
    print(
        f"stream copy: {speedup['copy_speedup_wall']:.1f}x faster per clip, "
        f"{speedup['copy_speedup_cpu']:.1f}x less CPU per video second; "
        f"all decode: {speedup['all_clips_decode']}"
    )


if __name__ == "__main__":
    main()
