"""Ingest cost and latency: stream copy (Vigil's ingest) against a libx264 re-encode baseline.

One RTSP simulator (GStreamer, stamping each frame with its wall-clock time, one shared encode)
serves N cameras; each camera is its own supervised FFmpeg reading the same mount, writing HLS,
recorded segments and snapshots exactly as in production. For each variant x N (default 4 and 8):

- CPU seconds per camera-minute: utime+stime of every FFmpeg process (from /proc), summed over
  a steady window after all cameras are online, divided by cameras x minutes;
- cameras sustained: no restart, recorded segments covering the window without a gap, and no
  HLS segment missing from the playlist sequence;
- glass-to-HLS latency on camera 0: a segment's newest frame's stamp (when the simulator pushed
  it) to the moment the segment is listed in index.m3u8 ("last frame"), and the same for its
  oldest frame ("first frame", which adds the segment's own length).

    .venv/bin/python bench/bench_ingest.py [--seconds 40] [--cameras 4 8] [--variants copy reencode]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
from _report import machine, now_iso, save_report

from vigil.logs import configure_logging
from vigil.media.ffmpeg import IngestOptions, find_ffmpeg
from vigil.media.paths import MediaPaths
from vigil.media.recordings import find_gaps, list_segments
from vigil.media.supervisor import CameraSpec, IngestSupervisor, SupervisorConfig
from vigil.simulator import RtspSimulator, read_stamp

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "ingest.json"
TICK = os.sysconf("SC_CLK_TCK")
RECORD_SECONDS = 5  # shorter than production's 10 s so a short window still has several cuts


def cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


@dataclass
class CpuMeter:
    """Sums CPU over processes that may come and go, by sampling each pid's counter."""

    first: dict[int, float] = field(default_factory=dict)
    last: dict[int, float] = field(default_factory=dict)

    def sample(self, pids: list[int], started: bool) -> None:
        for pid in pids:
            value = cpu_seconds(pid)
            if value is None:
                continue
            # A pid first seen after the window opened started inside it: count from zero.
            self.first.setdefault(pid, value if not started else 0.0)
            self.last[pid] = value

    def total(self) -> float:
        return sum(self.last[pid] - self.first[pid] for pid in self.last)


class LatencyProbe(threading.Thread):
    """Polls one playlist; on each newly listed segment, reads the stamps of its frames."""

    def __init__(self, playlist: Path) -> None:
        super().__init__(daemon=True)
        self.playlist = playlist
        self.stop = threading.Event()
        self.last_frame: list[float] = []
        self.first_frame: list[float] = []
        self.sequence_gaps = 0

    def run(self) -> None:
        seen: set[str] = set()
        last_number: int | None = None
        while not self.stop.wait(0.02):
            try:
                names = re.findall(r"^seg_(\d+)\.ts$", self.playlist.read_text(), re.M)
            except FileNotFoundError:
                continue
            listed_at = time.time()
            if not seen:  # listed before we started watching: their listing time is unknown
                seen.update(names)
                last_number = int(names[-1]) if names else None
                continue
            for number in names:
                if number in seen:
                    continue
                seen.add(number)
                if last_number is not None and int(number) != last_number + 1:
                    self.sequence_gaps += 1
                last_number = int(number)
                stamps = self._stamps(self.playlist.parent / f"seg_{number}.ts")
                if stamps:
                    self.last_frame.append(listed_at - stamps[-1])
                    self.first_frame.append(listed_at - stamps[0])

    @staticmethod
    def _stamps(path: Path) -> list[float]:
        cap = cv2.VideoCapture(str(path))
        stamps = []
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            stamp = read_stamp(frame)
            if stamp is not None:
                stamps.append(stamp)
        cap.release()
        return stamps


def run_config(
    sim: RtspSimulator, variant: str, cameras: int, seconds: float, ffmpeg: str
) -> dict[str, object]:
    label = f"{variant} x{cameras}"
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        paths = MediaPaths(Path(tmp))
        options = IngestOptions(record_segment_seconds=RECORD_SECONDS)
        config = SupervisorConfig(paths=paths, ffmpeg=ffmpeg, options=options, stall_seconds=8)
        specs = [CameraSpec(i, sim.url(), transcode=variant == "reencode") for i in range(cameras)]
        with IngestSupervisor(config) as supervisor:
            supervisor.sync(specs)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if all(s.status == "online" for s in supervisor.states().values()):
                    break
                time.sleep(0.2)
            time.sleep(5)  # let the startup burst (probe backlog) drain
            restarts_before = {k: s.restarts for k, s in supervisor.states().items()}
            probe = LatencyProbe(paths.playlist(0))
            probe.start()
            meter = CpuMeter()
            sim_cpu0 = cpu_seconds(sim.pid or 0) or 0.0
            meter.sample(_pids(supervisor), started=False)
            window_start = datetime.now(UTC)
            t0 = time.monotonic()
            while (elapsed := time.monotonic() - t0) < seconds:
                time.sleep(1.0)
                meter.sample(_pids(supervisor), started=True)
                states = supervisor.states().values()
                online = sum(s.status == "online" for s in states)
                print(
                    f"\r  [{label}] {elapsed:4.0f}/{seconds:.0f} s  online {online}/{cameras}  "
                    f"ffmpeg cpu {meter.total():6.1f} s",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
            window = time.monotonic() - t0
            window_end = datetime.now(UTC)
            sim_cpu = (cpu_seconds(sim.pid or 0) or 0.0) - sim_cpu0
            probe.stop.set()
            probe.join()
            restarted = {
                k for k, s in supervisor.states().items() if s.restarts != restarts_before[k]
            }
            sustained = 0
            for i in range(cameras):
                segs = list_segments(
                    paths, i, window_start, window_end, segment_seconds=RECORD_SECONDS
                )
                gaps = find_gaps(
                    segs, window_start, window_end - timedelta(seconds=2), tolerance_seconds=1.0
                )
                state = supervisor.states()[str(i)]
                if segs and not gaps and state.status == "online" and str(i) not in restarted:
                    sustained += 1
    print(file=sys.stderr)
    total = meter.total()
    return {
        "variant": variant,
        "cameras": cameras,
        "window_seconds": round(window, 1),
        "ffmpeg_cpu_seconds": round(total, 2),
        "cpu_seconds_per_camera_minute": round(total / cameras / (window / 60), 3),
        "cpu_cores_used": round(total / window, 3),
        "simulator_cpu_seconds": round(sim_cpu, 2),
        "cameras_sustained": sustained,
        "cameras_restarted": len(restarted),
        "hls_sequence_gaps_cam0": probe.sequence_gaps,
        "latency_last_frame_s": _summary(probe.last_frame),
        "latency_first_frame_s": _summary(probe.first_frame),
    }


def _pids(supervisor: IngestSupervisor) -> list[int]:
    return [s.pid for s in supervisor.states().values() if s.pid]


def _summary(values: list[float]) -> dict[str, float | int] | None:
    if not values:
        return None
    ordered = sorted(values)
    return {
        "n": len(ordered),
        "median": round(statistics.median(ordered), 3),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 3),
        "max": round(ordered[-1], 3),
    }


def print_table(results: list[dict[str, object]], counts: list[int]) -> None:
    by = {(r["variant"], r["cameras"]): r for r in results}
    print("\nCPU s per camera-minute (lower is better); latency = glass -> listed in playlist")
    head = f"{'cameras':>7} | {'copy':>8} {'reencode':>9} {'ratio':>6} | {'sustained c/r':>13}"
    head += f" | {'lat last c/r (median s)':>24} | {'lat first c/r':>14}"
    print(head)
    print("-" * len(head))
    for n in counts:
        c, r = by.get(("copy", n)), by.get(("reencode", n))
        cc = float(c["cpu_seconds_per_camera_minute"]) if c else float("nan")  # type: ignore[arg-type]
        rc = float(r["cpu_seconds_per_camera_minute"]) if r else float("nan")  # type: ignore[arg-type]
        ratio = rc / cc if c and r and cc > 0 else float("nan")
        sus = f"{c['cameras_sustained'] if c else '-'}/{r['cameras_sustained'] if r else '-'}"
        print(
            f"{n:>7} | {cc:8.2f} {rc:9.2f} {ratio:5.1f}x | {sus:>13} | "
            f"{_lat(c, 'latency_last_frame_s'):>11} / {_lat(r, 'latency_last_frame_s'):<10} | "
            f"{_lat(c, 'latency_first_frame_s')} / {_lat(r, 'latency_first_frame_s')}"
        )


def _lat(result: dict[str, object] | None, key: str) -> str:
    summary = result.get(key) if result else None
    return f"{summary['median']:.2f}" if isinstance(summary, dict) else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="measured window per config")
    parser.add_argument("--cameras", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--variants", nargs="+", default=["copy", "reencode"])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_logging(level="WARNING", json=False)  # progress lines only, not each status change

    ffmpeg = find_ffmpeg()
    results = []
    with RtspSimulator(stamp=True) as sim:
        for n in args.cameras:
            for variant in args.variants:
                results.append(run_config(sim, variant, n, args.seconds, ffmpeg))
    print_table(results, args.cameras)
    version = subprocess.run([ffmpeg, "-version"], capture_output=True, text=True).stdout
    payload = {
        "benchmark": "ingest",
        "measured_at": now_iso(),
        "machine": machine(),
        "ffmpeg": version.splitlines()[0] if version else ffmpeg,
        "source": "vtest.avi 768x576 10 fps, H.264 keyframe every 1 s (simulator, stamped)",
        "settings": {
            "window_seconds": args.seconds,
            "hls_segment_seconds": IngestOptions().hls_segment_seconds,
            "record_segment_seconds": RECORD_SECONDS,
            "snapshot_interval_seconds": IngestOptions().snapshot_interval_seconds,
            "reencode": "libx264 ultrafast zerolatency, one encode shared by HLS+record (tee)",
        },
        "results": results,
    }
    save_report(args.out, payload)
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
