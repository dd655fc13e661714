"""Event latency on the live path: triggering frame -> event row visible through the API.

From the frame that triggers an intrusion event to its row being listed by the API, beside
the same run's frame -> detection record latency. Every part is real: the RTSP simulator
serving vtest.avi, `vigil dataflow` (recovery on, as deployed), Tansu, `vigil api` on SQLite
migrated by `vigil migrate`, a local object store, and the seeded demo zone (the walkway band,
1 s dwell) on one 5 fps, 640 px camera.

- event: the 'open' change's `at` (the frame time at which the rules decided, as the events
  topic carries it) -> the first GET /api/v1/events (polled every `--poll` s) listing its id.
- close: the 'close' change's `at` -> the first poll showing that row 'closed'.
- baseline: a detection record's frame `ts` -> the record reaching a consumer of the topic.
- also shown: the 'open' change's `at` -> its record reaching a consumer of the events topic,
  and frame `ts` -> a detection record's producer timestamp (the dataflow's own share). The
  JSON lists every event with its triggering frame's own detection record, a paired check.

The window starts 10 s after the first detection record arrives and lasts `--seconds`,
longer if needed to see `--min-events` events (at most `--max-seconds`): the looping clip
gives two walkway events per ~80 s loop, so 8 events take ~5 minutes.

A poll's answer is stamped when it arrives, so an API time includes up to one poll interval
and the request itself (`poll_request_s`). `ts`/`at` are when the decoded frame reached the
dataflow; RTSP + decode add ~0.25 s before that (bench_ingest.py), in both figures alike.
The ratio event/detection is the figure to compare across runs: the machine is shared.

    .venv/bin/python bench/bench_event_latency.py [--seconds 180] [--min-events 8]
"""

from __future__ import annotations

import argparse
import os
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from _harness import ROOT, Listener, epoch, percentiles
from _pipeline import (
    WARMUP_SECONDS,
    Change,
    Poller,
    decisions,
    in_scratch,
    row,
    start_live,
)
from _report import machine, now_iso, save_report
from sqlalchemy.orm import Session
from tqdm import tqdm

from vigil.db.models import Zone
from vigil.logs import configure_logging
from vigil.seed import DEMO_ZONE_NAME, DEMO_ZONE_POLYGON

RESULTS = ROOT / "bench" / "results" / "event_latency.json"
GRACE_SECONDS = 20.0  # after the window, for the rows of its last decisions to show up


def rounded(end: float | None, start: float | None) -> float | None:
    return round(end - start, 3) if end is not None and start is not None else None


@dataclass
class Run:
    """What one live run saw: the measured window [low, high) in epoch seconds and the raw
    observations (read after every process is gone)."""

    camera: int
    low: float
    high: float
    detections: Listener
    changes: Listener
    poller: Poller

    def decided(self, change: str) -> dict[str, Change]:
        return {
            i: c for i, c in decisions(self.changes, change).items() if self.low <= c.at < self.high
        }


def demo_zone(session: Session, camera: int) -> None:
    session.add(
        Zone(
            camera_id=camera,
            name=DEMO_ZONE_NAME,
            polygon=DEMO_ZONE_POLYGON,
            intrusion_enabled=True,
            min_dwell_seconds=1.0,
        )
    )


def live_run(args: argparse.Namespace, root: Path, stack: ExitStack, groups: list[int]) -> Run:
    """Start everything (each stop is pushed on `stack`), then watch the live window."""
    live = start_live(root, stack, groups, prefix="e", poll=args.poll, setup=demo_zone)
    # The live path as deployed: recovery snapshots and the lake's default roll.
    env = live.env()
    for name in ("VIGIL_DATAFLOW_RECOVERY", "VIGIL_LAKE_ROLL_SECONDS"):
        env.pop(name)
    proc, log, low = live.dataflow(env)
    changes, poller = live.changes, live.poller

    def measured() -> int:
        return sum(1 for c in decisions(changes, "open").values() if c.at >= low)

    with tqdm(total=round(args.seconds), unit="s", desc="live window") as bar:
        while True:
            elapsed = time.time() - low
            bar.total = max(bar.total, round(elapsed))  # the window grows to see enough events
            bar.n = round(elapsed)
            bar.set_postfix(events=measured(), refresh=True)
            if proc.poll() is not None:
                raise SystemExit(f"the dataflow exited, see {log}")
            if elapsed >= args.max_seconds or (
                elapsed >= args.seconds and measured() >= args.min_events
            ):
                break
            time.sleep(1)
    run = Run(live.camera, low, time.time(), live.detections, changes, poller)
    # The window's last decisions are still on their way: wait (bounded) for their rows.
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and (
        set(run.decided("open")) - set(poller.opened)
        or set(run.decided("close")) - set(poller.closed)
    ):
        time.sleep(0.2)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=180.0, help="measured window (at least)")
    parser.add_argument("--min-events", type=int, default=8, help="extend the window until then")
    parser.add_argument("--max-seconds", type=float, default=600.0, help="window at most")
    parser.add_argument("--poll", type=float, default=0.1, help="API poll interval, s")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_logging(level="WARNING", json=False)
    load_at_start = os.getloadavg()

    run = in_scratch("event-latency", partial(live_run, args))

    poller = run.poller
    opens, closes = run.decided("open"), run.decided("close")
    # (received, produced, frame ts) of the camera's detection records from the window
    records = [
        (got, (r.timestamp_ms or 0) / 1000, epoch(r.value["ts"]))
        for got, r in run.detections.seen
        if r.value.get("camera_id") == run.camera
    ]
    frames = [r for r in records if run.low <= r[2] < run.high]
    baseline = percentiles([got - ts for got, _, ts in frames])
    produced = percentiles([made - ts for _, made, ts in frames])
    per_event = [
        {
            "event_id": i,
            "open_at": datetime.fromtimestamp(c.at, UTC).isoformat(),
            "open_visible_s": rounded(poller.opened.get(i), c.at),
            "open_produced_s": rounded(c.produced, c.at),
            "open_on_topic_s": rounded(c.received, c.at),
            # the triggering frame's own detection records, for a paired comparison
            "same_frame_detection_on_topic_s": rounded(
                min((got for got, _, ts in records if abs(ts - c.at) < 1e-3), default=None), c.at
            ),
            "close_visible_s": rounded(poller.closed.get(i), closes[i].at if i in closes else None),
        }
        for i, c in sorted(opens.items(), key=lambda item: item[1].at)
    ]
    event_s = [poller.opened[i] - c.at for i, c in opens.items() if i in poller.opened]
    close_s = [poller.closed[i] - c.at for i, c in closes.items() if i in poller.closed]
    event = percentiles(event_s) if event_s else None
    close = percentiles(close_s) if close_s else None
    topic = percentiles([c.received - c.at for c in opens.values()]) if opens else None
    ratio = {k: round(event[k] / baseline[k], 2) for k in ("p50", "p95")} if event else None

    print(f"\n{'frame -> ...':34} {'n':>6} {'p50 s':>7} {'p95 s':>7} {'p50 x':>8} {'p95 x':>8}")
    print(row("detection record on topic (base)", baseline, baseline))
    print(row("intrusion event visible in API", event, baseline))
    print(row("close visible in API (status)", close, baseline))
    print(row("open record on events topic", topic, baseline))
    print(row("detection record produced", produced, baseline))
    print(
        f"events measured: {len(event_s)}, closes: {len(close_s)}; not visible within "
        f"{GRACE_SECONDS:.0f} s: {len(opens) - len(event_s)} events, "
        f"{len(closes) - len(close_s)} closes"
    )

    report = {
        "bench": "event_latency",
        "measured_at": now_iso(),
        "machine": machine(load_at_start),
        "settings": {
            **vars(args),
            "out": str(args.out),
            "detect_fps": 5.0,
            "width": 640,
            "zone": {"polygon": DEMO_ZONE_POLYGON, "min_dwell_seconds": 1.0},
            "warmup_seconds": WARMUP_SECONDS,
            "window_seconds": round(run.high - run.low, 1),
        },
        "baseline": "frame -> its detection record at a consumer of the detections topic",
        "detection_frame_to_topic_s": baseline,
        "detection_frame_to_producer_s": produced,
        "event_frame_to_api_s": event,
        "close_frame_to_api_s": close,
        "event_frame_to_events_topic_s": topic,
        "ratio_event_vs_detection": ratio,
        "events_measured": len(event_s),
        "events_not_visible": len(opens) - len(event_s),
        "closes_measured": len(close_s),
        "closes_not_visible": len(closes) - len(close_s),
        "poll_request_s": percentiles(poller.request_s) if poller.request_s else None,
        "poll_errors": poller.errors,
        "events": per_event,
    }
    save_report(args.out, report)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
