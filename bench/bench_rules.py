"""Event-rules replay speed over a synthetic day of one camera, against a geometry-only baseline.

The workload (seeded, built before timing): 5 fps x 24 h = 432,000 analysed frames, each with a
FrameTick and a motion measurement, plus person detections from a day-shaped arrival process
(quiet nights, busy days): passers-by crossing the zones, visitors waiting at the door,
loiterers standing in the driveway, 10% missed detections, jittered boxes; and wind gusts
(camera-wide motion without people) a few times an hour. Three zones: a 12-point driveway,
a door rectangle, and a disabled one.

Timed, each on the same observation stream:
- baseline: a loop that only tests each person detection's foot point against each enabled
  zone (the prepared polygons the rules use): the least any rules engine must do;
- replay:   vigil.rules.replay_with_report over the whole day (grouping into frames, intrusion
  and motion rules, events), i.e. what Dagster runs after a zone edit;
- live:     CameraRules.step frame by frame, with each step's latency (the stream's budget).

    .venv/bin/python bench/bench_rules.py [--hours 24] [--fps 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from _report import machine, now_iso, save_report
from tqdm import tqdm

from vigil.rules import (
    CameraRules,
    Frame,
    FrameTick,
    MotionObservation,
    Observation,
    PersonObservation,
    RulesConfig,
    ZoneRule,
    frames_from_observations,
    replay_with_report,
)

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results" / "rules.json"
CAM = "cam-bench"
DAY = datetime(2026, 11, 23, tzinfo=UTC)
T = TypeVar("T")


def zones() -> list[ZoneRule]:
    # A driveway drawn with 12 points (a trapezoid with a wavy far edge), a door, a disabled zone.
    far = [(0.3 + 0.04 * k, 0.45 + 0.02 * (k % 2)) for k in range(11)]
    driveway = ((0.1, 1.0), *far, (0.9, 1.0))
    return [
        ZoneRule("driveway", CAM, "Driveway", driveway, True, 3.0),
        ZoneRule(
            "door",
            CAM,
            "Front door",
            ((0.05, 0.4), (0.2, 0.4), (0.2, 0.75), (0.05, 0.75)),
            True,
            1.0,
        ),
        ZoneRule(
            "street", CAM, "Street", ((0.0, 0.0), (1.0, 0.0), (1.0, 0.3), (0.0, 0.3)), False, 0.0
        ),
    ]


def arrivals_per_hour(hour: int) -> float:
    """Few people at night, a daytime plateau, peaks at the morning and evening commutes."""
    day = max(0.0, math.sin(math.pi * (hour - 6) / 15)) if 6 <= hour <= 21 else 0.0
    return 1.0 + 20.0 * day + (10.0 if hour in (8, 18) else 0.0)


def visits(rng: random.Random, hours: int) -> list[tuple[float, float, list[tuple[float, float]]]]:
    """(start s, duration s, waypoints of the foot point) for every person of the day."""
    out = []
    for hour in range(hours):
        t = hour * 3600.0
        while True:
            t += rng.expovariate(arrivals_per_hour(hour % 24) / 3600.0)
            if t >= (hour + 1) * 3600.0:
                break
            kind = rng.random()
            if kind < 0.6:  # passer-by: crosses the frame, often through the driveway
                y = rng.uniform(0.35, 0.95)
                path, length = [(-0.05, y), (1.05, y + rng.uniform(-0.1, 0.1))], rng.uniform(8, 30)
            elif kind < 0.85:  # visitor: walks to the door, waits, leaves
                path = [(0.5, 1.0), (0.12, 0.7), (0.12, 0.7), (0.5, 1.0)]
                length = rng.uniform(20, 120)
            else:  # loiterer: stands in the driveway
                spot = (rng.uniform(0.35, 0.75), rng.uniform(0.6, 0.95))
                path, length = [(1.05, 0.9), spot, spot, spot, (1.05, 0.9)], rng.uniform(60, 600)
            out.append((t, length, path))
    return out


def wind_gusts(rng: random.Random, hours: int) -> list[tuple[float, float]]:
    """(start s, duration s): moving trees a few times an hour, the camera's false motion."""
    out: list[tuple[float, float]] = []
    t = 0.0
    while True:
        t += rng.expovariate(4 / 3600)
        if t >= hours * 3600:
            return out
        out.append((t, rng.uniform(1, 20)))


def _along(path: list[tuple[float, float]], f: float) -> tuple[float, float]:
    seg = min(int(f * (len(path) - 1)), len(path) - 2)
    local = f * (len(path) - 1) - seg
    (x1, y1), (x2, y2) = path[seg], path[seg + 1]
    return x1 + (x2 - x1) * local, y1 + (y2 - y1) * local


def build_day(hours: int, fps: int, seed: int) -> tuple[list[Observation], list[Frame]]:
    rng = random.Random(seed)
    plan = visits(rng, hours)
    gusts = wind_gusts(rng, hours)
    active: dict[int, tuple[float, float, list[tuple[float, float]]]] = {}
    next_visit = next_gust = 0
    observations: list[Observation] = []
    frames: list[Frame] = []
    total = hours * 3600 * fps
    for i in tqdm(
        range(total), desc="building the day", unit="frame", unit_scale=True, mininterval=1
    ):
        t = i / fps
        ts = DAY + timedelta(microseconds=i * 1_000_000 // fps)
        while next_visit < len(plan) and plan[next_visit][0] <= t:
            active[next_visit + 1] = plan[next_visit]
            next_visit += 1
        persons = []
        for track, (start, length, path) in list(active.items()):
            f = (t - start) / length
            if f > 1:
                del active[track]
                continue
            if rng.random() < 0.1:  # missed detection
                continue
            x, y = _along(path, f)
            x, y = x + rng.gauss(0, 0.005), y + rng.gauss(0, 0.005)
            w, h = 0.06, 0.25
            box = (x - w / 2, y - h, x + w / 2, y)
            persons.append(
                PersonObservation(CAM, ts, i, track, round(rng.uniform(0.4, 0.95), 3), box)
            )
        while next_gust < len(gusts) and sum(gusts[next_gust]) <= t:
            next_gust += 1
        gust = next_gust < len(gusts) and gusts[next_gust][0] <= t
        if persons:
            area = 0.02 + 0.03 * len(persons)
        else:
            area = rng.uniform(0.03, 0.08) if gust else rng.uniform(0.0, 0.006)
        motion = MotionObservation(
            CAM, ts, i, min(area, 1.0), ((0.1, 0.1, 0.3, 0.4),) if persons else ()
        )
        tick = FrameTick(CAM, ts, i, frozenset(active))
        observations.extend((tick, motion, *persons))
        frames.append(Frame(CAM, ts, i, tuple(persons), motion, tick.track_ids))
    return observations, frames


def with_progress(items: list[Observation], desc: str) -> Iterator[Observation]:
    """Iterate with a progress bar updated every 100k items (per-item updates would cost more
    than the loop under test)."""
    bar = tqdm(total=len(items), desc=desc, unit="obs", unit_scale=True, leave=False)
    for start in range(0, len(items), 100_000):
        chunk = items[start : start + 100_000]
        yield from chunk
        bar.update(len(chunk))
    bar.close()


def baseline(observations: Iterable[Observation], rules: list[ZoneRule]) -> int:
    polygons = [z.prepared for z in rules if z.intrusion_enabled]
    hits = 0
    for obs in observations:
        if isinstance(obs, PersonObservation):
            x, y = obs.foot
            for polygon in polygons:
                hits += polygon.contains(x, y)
    return hits


def timed(fn: Callable[..., T], *args: object) -> tuple[T, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn(*args)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def live(frames: list[Frame], rules: CameraRules) -> tuple[list[int], int]:
    state = rules.initial_state()
    latencies = []
    changes = 0
    clock = time.perf_counter_ns
    for frame in tqdm(
        frames, desc="live step", unit="frame", unit_scale=True, leave=False, mininterval=1
    ):
        t0 = clock()
        state, out = rules.step(state, frame)
        latencies.append(clock() - t0)
        changes += len(out)
    return latencies, changes


def percentile(sorted_values: list[int], q: float) -> float:
    return float(sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--fps", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="best of N for each timing")
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    zone_list = zones()
    config = RulesConfig()
    observations, frames = build_day(args.hours, args.fps, args.seed)
    detections = sum(isinstance(o, PersonObservation) for o in observations)
    occupied = sum(bool(f.persons) for f in frames)
    window = (DAY, DAY + timedelta(hours=args.hours))

    base_runs, replay_runs = [], []
    for r in range(args.repeat):
        hits, wall, cpu = timed(
            baseline, with_progress(observations, f"baseline {r + 1}"), zone_list
        )
        base_runs.append((wall, cpu))
        result, wall, cpu = timed(
            replay_with_report,
            with_progress(observations, f"replay {r + 1}"),
            zone_list,
            config,
            *window,
        )
        replay_runs.append((wall, cpu))
    base_wall, _ = min(base_runs)
    replay_wall, replay_cpu = min(replay_runs)
    grouping = min(
        timed(lambda o: sum(1 for _ in frames_from_observations(o)), observations)[1]
        for _ in range(args.repeat)
    )
    latencies, live_changes = live(frames, CameraRules(CAM, zone_list, config))
    latencies.sort()

    events = result.events
    figures = {
        "frames": len(frames),
        "observations": len(observations),
        "person_detections": detections,
        "occupied_frame_fraction": occupied / len(frames),
        "in_zone_hits": hits,
        "events": {
            "intrusion": sum(e.type == "intrusion" for e in events),
            "motion": sum(e.type == "motion" for e in events),
            "open_at_end": sum(e.is_open for e in events),
        },
        "baseline_seconds": base_wall,
        "baseline_detections_per_second": detections / base_wall,
        "replay_seconds": replay_wall,
        "replay_cpu_seconds": replay_cpu,
        "replay_detections_per_second": detections / replay_wall,
        "replay_frames_per_second": len(frames) / replay_wall,
        "replay_observations_per_second": len(observations) / replay_wall,
        # Same detections in both, so the ratio of throughputs is the ratio of times.
        "replay_vs_baseline": base_wall / replay_wall,
        "grouping_only_seconds": grouping,
        "day_replayed_in_fraction_of_real_time": replay_wall / (args.hours * 3600),
        "live_step_latency_us": {
            "p50": percentile(latencies, 0.50) / 1000,
            "p99": percentile(latencies, 0.99) / 1000,
            "p999": percentile(latencies, 0.999) / 1000,
            "max": latencies[-1] / 1000,
        },
        "live_changes_emitted": live_changes,
    }
    lat = figures["live_step_latency_us"]
    ratio = figures["replay_vs_baseline"]
    print(
        f"\n{args.hours} h at {args.fps} fps: {len(frames):,} frames, {detections:,} person "
        f"detections ({occupied / len(frames):.0%} of frames occupied), {len(events)} events"
    )
    print(f"{'':28} {'seconds':>8} {'detections/s':>13} {'x baseline':>10}")
    rows = [
        ("baseline (point-in-polygon)", base_wall, 1.0),
        ("replay (rules, events)", replay_wall, ratio),
    ]
    for name, seconds, x in rows:
        print(f"{name:28} {seconds:8.2f} {detections / seconds:13,.0f} {x:10.2f}")
    print(
        f"replay: {len(frames) / replay_wall:,.0f} frames/s, the day in {replay_wall:.1f} s "
        f"(grouping into frames alone: {grouping:.1f} s)"
    )
    print(
        f"live step latency: p50 {lat['p50']:.1f} us, p99 {lat['p99']:.1f} us, "
        f"max {lat['max']:.0f} us"
    )
    report = {
        "bench": "rules",
        "measured_at": now_iso(),
        "machine": machine(),
        "settings": {
            **vars(args),
            "out": str(args.out),
            "config": config.outcome_fields(),
        },
        "baseline": "the same observation stream; only the foot point-in-polygon test per "
        "detection per enabled zone",
        "results": figures,
    }
    save_report(args.out, report)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
