"""Soak, load and faults under `vigil up` (issue 12): memory, recordings, queues and restarts
over a long run with N cameras, the API under concurrent load, and the platform's recovery
from killed services with the lake, the broker and the events table still agreeing.

1. `vigil up` on a fresh data dir (free ports, the demo user); the demo desk camera is
   disabled, so the demo plaza (vtest.avi over RTSP) is the only camera: after a warm-up,
   the total RSS of `vigil up`'s process tree at 1 camera (the baseline).
2. N-1 more cameras through the API on the same simulator stream, each with the demo's
   walkway zone; after a warm-up, RSS per service (its whole process tree) and the dataflow's
   queue depth and dropped frames (GET /api/v1/system) every `--sample-seconds` for
   `--minutes`; growth per service from the first sample to the last (target <= 10 %).
   With `--faults`, the dataflow, the ingest service and the broker are SIGKILLed in turn
   (at 1/4, 1/2, 3/4 of the soak) and the time until `vigil up` has them answering their
   health check again is measured; a killed service's growth is taken up to its kill.
3. Load from another process (bench/_load.py): the same request mix from 1 client (the
   baseline) then from `--clients` clients, each logging in once, for `--load-seconds`:
   p50/p99 per request kind, status counts; the headline is p50 under load / p50 idle.
4. Afterwards: recording gaps per camera (consecutive segments' start + duration vs the next
   start; gaps within a killed ingest's outage are counted apart), and agreement up to a
   cut-off a minute before the check: the lake's frames are the committed ones (the dataflow
   writes the lake from its recovery snapshots); their detections in the lake and on the
   detections topic, keyed (camera, frame time, index, track), must match with no duplicate;
   the events table against `vigil replay` of the lake (inserted/updated/deleted: 0).

The login throttles are raised for the run: 50 clients log in from one address at once.

    .venv/bin/python bench/bench_soak.py --cameras 8 --minutes 10 --faults
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _platform import DEMO_EMAIL, DEMO_PASSWORD, ROOT, UpPlatform, wait_for
from _report import machine, now_iso, save_report

from vigil.broker import JsonConsumer
from vigil.broker.topics import Topics
from vigil.media.ffmpeg import probe_video
from vigil.media.paths import MediaPaths, parse_record_name

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "results" / "soak.json"
FAULTS = ("dataflow", "ingest", "broker")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
RATE_LIMITS = {
    "VIGIL_LOGIN_PAIR_RATE_LIMIT": "10000/minute",
    "VIGIL_LOGIN_IP_RATE_LIMIT": "10000/minute",
    "VIGIL_LOGIN_RATE_LIMIT": "10000/minute",
}
DetectionKey = tuple[int, int, int, int | None]  # camera, frame time (µs), index, track


# --- pure parts (tests/bench/test_soak.py) ------------------------------------------------------
def latency_summary(values: Sequence[float]) -> dict[str, float] | None:
    """Count, p50 and p99 (nearest rank) and max of latencies in ms; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)

    def rank(q: float) -> float:
        return round(ordered[max(0, math.ceil(q * len(ordered)) - 1)], 1)

    return {
        "requests": len(ordered),
        "p50": rank(0.5),
        "p99": rank(0.99),
        "max": round(ordered[-1], 1),
    }


def growth_pct(first: float, last: float) -> float | None:
    return round(100 * (last - first) / first, 1) if first else None


def recording_gaps(
    segments: Iterable[tuple[float, float | None]], tolerance: float = 2.0
) -> list[tuple[float, float]]:
    """(where, seconds) of each hole between consecutive segments given as (start, duration)
    in epoch seconds: the next segment starts more than `tolerance` after this one ends. A
    segment of unknown duration (not probed) is not judged."""
    ordered = sorted(segments)
    gaps = []
    for (start, duration), (following, _) in itertools.pairwise(ordered):
        if duration is not None and following - (start + duration) > tolerance:
            gaps.append((start + duration, round(following - start - duration, 1)))
    return gaps


def epoch_us(ts: datetime | str) -> int:
    moment = datetime.fromisoformat(ts.replace("Z", "+00:00")) if isinstance(ts, str) else ts
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // timedelta(microseconds=1)


def agreement(
    committed: set[tuple[int, int]], lake: Sequence[DetectionKey], topic: Sequence[DetectionKey]
) -> dict[str, int]:
    """Detections of committed frames (camera, frame µs) in the lake vs on the topic."""
    lake_counts = Counter(k for k in lake if k[:2] in committed)
    topic_counts = Counter(k for k in topic if k[:2] in committed)
    return {
        "committed_frames": len(committed),
        "lake_detections": sum(lake_counts.values()),
        "topic_detections": sum(topic_counts.values()),
        "lake_duplicates": sum(n - 1 for n in lake_counts.values()),
        "topic_duplicates": sum(n - 1 for n in topic_counts.values()),
        "missing_on_topic": len(lake_counts.keys() - topic_counts.keys()),
        "missing_in_lake": len(topic_counts.keys() - lake_counts.keys()),
    }


# --- measuring the running platform ---------------------------------------------------------------
class Soak:
    def __init__(self, platform: UpPlatform) -> None:
        self.platform = platform
        self.started = time.monotonic()
        self.samples: list[dict[str, Any]] = []

    def sample(self, phase: str) -> dict[str, Any]:
        services = self.platform.services()
        entry: dict[str, Any] = {
            "t": round(time.monotonic() - self.started, 1),
            "phase": phase,
            "total_rss_mb": mb(sum(s["rss_bytes"] for s in services.values())),
            "strays": len(self.platform.strays()),
            "services": {
                name: {"pid": s["pid"], "processes": s["processes"], "rss_mb": mb(s["rss_bytes"])}
                for name, s in sorted(services.items())
            },
        }
        try:
            cameras = self.platform.api("GET", "/api/v1/system").json()["cameras"]
            entry["cameras"] = {
                str(c["camera_id"]): {
                    k: c[k] for k in ("fps_in", "fps_analysed", "queue_depth", "frames_dropped")
                }
                for c in cameras
            }
        except Exception as exc:  # the API's figures are best effort while a service restarts
            entry["system_error"] = f"{type(exc).__name__}: {exc}"
        self.samples.append(entry)
        print(f"[{entry['t']:7.1f} s] {phase}: total RSS {entry['total_rss_mb']} MB", flush=True)
        return entry


def mb(n: float) -> float:
    return round(n / 2**20, 1)


def growth(samples: list[dict[str, Any]], killed_at: dict[str, float]) -> dict[str, Any]:
    """Per service, RSS at the soak's first and last sample (a killed service: its last sample
    before the kill), growth % and peak."""
    first, report = samples[0], {}
    for name, start in first["services"].items():
        until = killed_at.get(name, math.inf)
        series = [
            s["services"][name]["rss_mb"]
            for s in samples
            if name in s["services"] and s["t"] < until
        ]
        report[name] = {
            "start_mb": start["rss_mb"],
            "end_mb": series[-1],
            "peak_mb": max(series),
            "growth_pct": growth_pct(start["rss_mb"], series[-1]),
            **({"measured_until_its_kill": True} if name in killed_at else {}),
        }
    return report


def unexpected_restarts(samples: list[dict[str, Any]], injected: set[str]) -> dict[str, int]:
    """Services whose main pid changed between samples without an injected fault."""
    changes: Counter[str] = Counter()
    for before, after in itertools.pairwise(samples):
        for name, entry in after["services"].items():
            old = before["services"].get(name)
            if old and old["pid"] != entry["pid"] and name not in injected:
                changes[name] += 1
    return dict(changes)


def queues(samples: list[dict[str, Any]]) -> dict[str, Any]:
    """Per camera: the peak queue depth, the depth at the end, dropped frames at the end (a
    counter: it restarts with the dataflow) and the mean fps in/analysed over the soak."""
    report: dict[str, Any] = {}
    cameras = {c for s in samples for c in s.get("cameras", {})}
    for camera in sorted(cameras, key=int):
        rows = [s["cameras"][camera] for s in samples if camera in s.get("cameras", {})]

        def values(key: str, rows: list[dict[str, Any]] = rows) -> list[float]:
            return [r[key] for r in rows if r[key] is not None]

        depth, fps_in, fps_done = values("queue_depth"), values("fps_in"), values("fps_analysed")
        report[camera] = {
            "queue_depth_peak": max(depth, default=None),
            "queue_depth_end": depth[-1] if depth else None,
            "frames_dropped_end": dropped[-1] if (dropped := values("frames_dropped")) else None,
            "fps_in_mean": round(sum(fps_in) / len(fps_in), 2) if fps_in else None,
            "fps_analysed_mean": round(sum(fps_done) / len(fps_done), 2) if fps_done else None,
        }
    return report


def load(platform: UpPlatform, clients: int, seconds: float) -> dict[str, Any]:
    """bench/_load.py in a process of its own; latency summaries per request kind."""
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH / "_load.py"),
            f"--base={platform.base}",
            f"--email={DEMO_EMAIL}",
            f"--password={DEMO_PASSWORD}",
            f"--clients={clients}",
            f"--seconds={seconds}",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    raw = json.loads(result.stdout)
    statuses: dict[str, dict[str, int]] = raw["statuses"]
    return {
        "clients": clients,
        "seconds": raw["seconds"],
        "login_failures": raw["login_failures"],
        "latency_ms": {k: latency_summary(v) for k, v in raw["latencies_ms"].items()},
        "statuses": statuses,
        "server_errors": sum(
            n for s in statuses.values() for code, n in s.items() if code.startswith("5")
        ),
        "other_errors": sum(
            n for s in statuses.values() for code, n in s.items() if not code.startswith(("2", "5"))
        ),
    }


# --- afterwards -----------------------------------------------------------------------------------
def read_topics(
    platform: UpPlatform, cameras: Sequence[int], cut: datetime
) -> dict[str, list[Any]]:
    """Frames (the motion topic) and detection keys on the broker, read from the start until
        every camera's frames have passed `cut` (both topics are fetched together, so 15 s more
    drain the detections up to it), at most 5 minutes."""
    topics = Topics()
    frames: list[tuple[int, int]] = []
    detections: list[DetectionKey] = []
    newest: dict[int, int] = {}
    cut_us, deadline = epoch_us(cut), time.monotonic() + 300
    drained_at = math.inf  # once every camera's frames passed the cut: 15 s more for the rest
    with JsonConsumer(
        platform.bootstrap, f"soak-{time.time_ns()}", [topics.motion, topics.detections]
    ) as consumer:
        while time.monotonic() < min(deadline, drained_at):
            for record in consumer.consume(5000, 1.0):
                value = record.value
                camera, ts = int(value["camera_id"]), epoch_us(value["ts"])
                if record.topic == topics.motion:
                    frames.append((camera, ts))
                    newest[camera] = max(newest.get(camera, 0), ts)
                else:
                    detections.append((camera, ts, int(value["index"]), value.get("track_id")))
            if drained_at == math.inf and all(newest.get(c, 0) >= cut_us for c in cameras):
                drained_at = time.monotonic() + 15
    return {"frames": frames, "detections": detections}


def lake_keys(
    lake: Path, start: datetime, cut: datetime
) -> tuple[set[tuple[int, int]], list[DetectionKey]]:
    from vigil.lake.query import connect

    low, high = epoch_us(start), epoch_us(cut)
    db = connect(lake)
    frames = {
        (int(c), int(t))
        for c, t in db.execute("SELECT camera_id, epoch_us(ts) FROM frames").fetchall()
        if low <= t < high
    }
    detections = [
        (int(c), int(t), int(i), None if k is None else int(k))
        for c, t, i, k in db.execute(
            'SELECT camera_id, epoch_us(ts), "index", track_id FROM detections'
        ).fetchall()
        if low <= t < high
    ]
    return frames, detections


def gaps_per_camera(
    data_dir: Path,
    cameras: Sequence[int],
    start: datetime,
    end: datetime,
    outages: list[tuple[float, float]],
) -> dict[str, Any]:
    """Recording gaps per camera in [start, end]; gaps that touch an ingest outage apart."""
    paths, report = MediaPaths(data_dir / "media"), {}
    for camera in cameras:
        segments, unprobed = [], 0
        for path in sorted(paths.record_dir(camera).glob("*/*.mp4")):
            begun = parse_record_name(path.name).timestamp()
            if start.timestamp() - 30 <= begun <= end.timestamp():
                try:
                    duration = probe_video(path).duration_seconds
                except (ValueError, subprocess.SubprocessError):
                    duration = None
                if duration is None:  # cut short (a killed recorder): it ends at its last write
                    unprobed += 1
                    duration = path.stat().st_mtime - begun
                segments.append((begun, duration))
        gaps = recording_gaps(segments)
        during = [g for g in gaps if any(a - 5 <= g[0] <= b + 5 for a, b in outages)]
        report[str(camera)] = {
            "segments": len(segments),
            "unprobed_ended_at_mtime": unprobed,
            "gaps": [g for g in gaps if g not in during],
            "gaps_during_ingest_outage": during,
        }
    return report


def replay_events(
    platform: UpPlatform, cameras: Sequence[int], start: datetime, cut: datetime
) -> dict[str, Any]:
    """`vigil replay` of the lake against the events table, per camera (changes: disagreement)."""
    report = {}
    for camera in cameras:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "vigil",
                "replay",
                f"--camera={camera}",
                f"--since={start.isoformat()}",
                f"--until={cut.isoformat()}",
                "--json",
            ],
            env=platform.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        out = result.stdout
        at = out.find('{\n  "camera_id"')
        if result.returncode or at < 0:
            report[str(camera)] = {"error": (result.stderr or out)[-500:]}
            continue
        summary = json.loads(out[at:])
        report[str(camera)] = {
            k: summary[k]
            for k in (
                "inserted",
                "updated",
                "deleted",
                "unchanged",
                "pending",
                "frames",
                "detections",
            )
        }
    return report


# --- the run --------------------------------------------------------------------------------------
def wait_online(platform: UpPlatform, count: int, timeout: float = 300) -> None:
    def online() -> bool:
        items = platform.api("GET", "/api/v1/cameras").json()["items"]
        return sum(1 for c in items if c["enabled"] and c["status"] == "online") >= count

    wait_for(online, timeout, f"{count} cameras online", poll=2)


@dataclass
class Window:
    """What the checks after the run need: the soak's cameras, its start, the cut-off up to
    which the lake, the topic and the recordings are compared, and the ingest outages."""

    cameras: list[int]
    start: datetime
    cut: datetime | None = None
    ingest_outages: list[tuple[float, float]] = field(default_factory=list)
    topic: dict[str, list[Any]] = field(default_factory=dict)


def attempt(report: dict[str, Any], key: str, step: Callable[[], Any]) -> None:
    """One check into report[key]; a failing check is reported and the others still run."""
    try:
        report[key] = step()
    except Exception as exc:
        report[key] = {"error": f"{type(exc).__name__}: {exc}"}
        print(f"{key} failed: {exc}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    load_at_start = os.getloadavg()
    platform = UpPlatform(tmp / "var", RATE_LIMITS)
    began = time.monotonic()
    report: dict[str, Any] = {}
    soak = Soak(platform)
    window: Window | None = None
    try:
        platform.start()
        report["startup_seconds"] = round(time.monotonic() - began, 1)
        window = measure(platform, soak, args, report)
    except Exception as exc:
        report["error"] = f"{type(exc).__name__}: {exc}"
        print(f"run failed: {exc}", file=sys.stderr, flush=True)
    finally:
        report["stop_exit_code"] = platform.stop()
        deadline = time.monotonic() + 20  # orphaned decoders exit at their next write
        while (left := platform.strays()) and time.monotonic() < deadline:
            time.sleep(1)
        report["processes_left_after_stop"] = len(left)
        report["samples"] = soak.samples
        report["machine"] = machine(load_at_start)
    if window is not None and window.cut is not None:
        cut, ids = window.cut, window.cameras
        attempt(
            report,
            "recording_gaps",
            lambda: gaps_per_camera(
                platform.data_dir, ids, window.start, cut, window.ingest_outages
            ),
        )
        attempt(report, "agreement", lambda: agree(platform, window))
    return report


def agree(platform: UpPlatform, window: Window) -> dict[str, Any]:
    assert window.cut is not None
    low, high = epoch_us(window.start), epoch_us(window.cut)
    committed, lake = lake_keys(platform.data_dir / "lake", window.start, window.cut)
    on_topic = {f for f in window.topic["frames"] if low <= f[1] < high}
    return {
        "window": [window.start.isoformat(), window.cut.isoformat()],
        **agreement(committed, lake, window.topic["detections"]),
        "frames_on_topic_not_in_lake": len(on_topic - committed),
        "lake_frames_not_on_topic": len(committed - on_topic),
        "events_replay": replay_events(platform, window.cameras, window.start, window.cut),
    }


def measure(
    platform: UpPlatform, soak: Soak, args: argparse.Namespace, report: dict[str, Any]
) -> Window:
    cameras = platform.api("GET", "/api/v1/cameras").json()["items"]
    plaza = next(c for c in cameras if c["name"] == "Demo plaza")
    for other in cameras:
        if other["id"] != plaza["id"]:
            platform.api("PATCH", f"/api/v1/cameras/{other['id']}", json={"enabled": False})
    wait_online(platform, 1)
    time.sleep(args.warmup_seconds)
    one = []
    for _ in range(3):  # the median of three: one sample may catch a burst
        time.sleep(args.sample_seconds / 3)
        one.append(soak.sample("1 camera"))
    report["rss_total_1_camera_mb"] = sorted(s["total_rss_mb"] for s in one)[1]
    report["rss_1_camera_mb"] = one[1]["services"]

    zones = platform.api("GET", f"/api/v1/cameras/{plaza['id']}/zones").json()
    ids = [plaza["id"]]
    for i in range(1, args.cameras):
        made = platform.api(
            "POST", "/api/v1/cameras", json={"name": f"Soak {i}", "stream_url": plaza["stream_url"]}
        ).json()
        ids.append(made["id"])
        for zone in zones:
            body = {
                k: zone[k] for k in ("name", "polygon", "intrusion_enabled", "min_dwell_seconds")
            }
            platform.api("POST", f"/api/v1/cameras/{made['id']}/zones", json=body)
    wait_online(platform, args.cameras)
    window = Window(ids, datetime.now(UTC))
    time.sleep(args.warmup_seconds)

    duration = args.minutes * 60
    faults = list(FAULTS) if args.faults else []
    due = {name: duration * (i + 1) / (len(faults) + 1) for i, name in enumerate(faults)}
    killed_at: dict[str, float] = {}
    recovery: dict[str, float] = {}
    start = time.monotonic()
    soak_samples = [soak.sample(f"{args.cameras} cameras")]
    while (elapsed := time.monotonic() - start) < duration:
        fault = next((n for n in faults if n not in recovery and elapsed >= due[n]), None)
        if fault:
            killed_at[fault] = round(time.monotonic() - soak.started, 1)
            at = time.time()
            recovery[fault] = platform.kill(fault)
            print(f"  {fault} SIGKILLed: back in {recovery[fault]} s", flush=True)
            if fault == "ingest":
                window.ingest_outages.append((at, time.time()))
            continue
        time.sleep(min(args.sample_seconds, max(0.0, duration - elapsed)))
        soak_samples.append(soak.sample(f"{args.cameras} cameras"))

    report["rss_total_n_cameras_mb"] = soak_samples[-1]["total_rss_mb"]
    report["rss_total_start_mb"] = soak_samples[0]["total_rss_mb"]
    report["rss_growth"] = growth(soak_samples, killed_at)
    report["restarts"] = {
        "injected": list(recovery),
        "service_died_logged": platform.log_events("service_died"),
        "unexpected_pid_changes": unexpected_restarts(soak_samples, set(recovery)),
    }
    report["recovery_seconds"] = recovery
    report["queues"] = queues(soak_samples)

    idle = load(platform, 1, args.baseline_seconds)
    busy = load(platform, args.clients, args.load_seconds)
    report["load"] = {"idle": idle, "busy": busy}
    report["ratio_p50_load_vs_idle"] = {
        kind: round(busy["latency_ms"][kind]["p50"] / idle["latency_ms"][kind]["p50"], 2)
        for kind in busy["latency_ms"]
        if busy["latency_ms"][kind] and idle["latency_ms"].get(kind)
    }
    soak.sample("after load")

    # A minute back: every frame before it is in the lake and on the topic, if it ever will be.
    window.cut = datetime.now(UTC) - timedelta(seconds=60)
    window.topic = read_topics(platform, ids, window.cut)
    return window


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cameras", type=int, default=8)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--warmup-seconds", type=float, default=90)
    parser.add_argument("--sample-seconds", type=float, default=30)
    parser.add_argument("--faults", action="store_true", help="SIGKILL dataflow, ingest, broker")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--load-seconds", type=float, default=120)
    parser.add_argument("--baseline-seconds", type=float, default=30)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vigil-soak-", ignore_cleanup_errors=True) as tmp:
        report = run(args, Path(tmp))
    settings = {k: v for k, v in vars(args).items() if k != "out"}
    save_report(
        args.out,
        {
            "bench": "soak",
            "measured_at": now_iso(),
            "baseline": "the same requests from 1 client (idle API); total RSS at 1 camera",
            "settings": settings | {"raised_login_limits": RATE_LIMITS},
            **report,
        },
    )
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
