"""Alert latency on the live path: event opened (frame time) -> its email accepted by SMTP.

Beside the same run's frame -> event row listed by the API (bench_event_latency.py's figure),
the baseline: the email's extra cost is the alert service's share. Every part is real: the RTSP
simulator serving vtest.avi, `vigil dataflow`, Tansu, `vigil api` and `vigil alerts` as
processes on one SQLite database, a local object store, and an SMTP server (aiosmtpd) on
loopback that stamps each message when it accepts it. To see 100+ events in minutes, the frame
is tiled with a grid of intrusion zones (1 s dwell) and the camera's alert cooldown is 0, so
every opened event is emailed, with its snapshot.

- alert: the 'open' change's `at` -> the SMTP server accepting the email that names the event
  (X-Vigil-Event-Id).
- baseline: the same event's `at` -> the first GET /api/v1/events (polled every `--poll` s)
  listing it.

    .venv/bin/python bench/bench_alert_latency.py [--min-events 100] [--max-seconds 900]
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from contextlib import ExitStack
from email import message_from_bytes, policy
from functools import partial
from pathlib import Path
from typing import Any

from _harness import ROOT, percentiles
from _pipeline import decisions, in_scratch, row, start_live
from _report import machine, now_iso, save_report
from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session
from tqdm import tqdm

from vigil.db.models import AlertSettings, Zone
from vigil.embedded import ManagedProcess, free_port
from vigil.logs import configure_logging

RESULTS = Path(__file__).resolve().parent / "results" / "alert_latency.json"
GRACE_SECONDS = 20.0
GRID = (4, 4)  # columns x rows of intrusion zones over the frame


class Inbox:
    """aiosmtpd handler: when each event's email was accepted (first one per event)."""

    def __init__(self) -> None:
        self.accepted: dict[str, float] = {}
        self.messages = 0
        self.with_snapshot = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        now = time.time()
        message = message_from_bytes(envelope.content, policy=policy.default)
        event_id = str(message.get("X-Vigil-Event-Id", ""))
        images = [p for p in message.walk() if p.get_content_type() == "image/jpeg"]
        with self.lock:
            self.messages += 1
            self.with_snapshot += bool(images)
            self.accepted.setdefault(event_id, now)
        return "250 OK"


class AlertsProcess(ManagedProcess):
    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.port = free_port()
        env = env | {"VIGIL_ALERTS_HEALTH_PORT": str(self.port)}
        argv = [sys.executable, "-m", "vigil", "alerts"]
        super().__init__("alerts", argv, log_dir=log_dir, env=env, cwd=ROOT, ports=(self.port,))

    def probe(self) -> bool:
        import httpx

        return httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200


def grid_zones(camera: int) -> list[Zone]:
    cols, rows = GRID
    zones = []
    for i in range(cols):
        for j in range(rows):
            x1, y1, x2, y2 = i / cols, j / rows, (i + 1) / cols, (j + 1) / rows
            zones.append(
                Zone(
                    camera_id=camera,
                    name=f"cell {i},{j}",
                    polygon=[[x1, y1], [x2, y1], [x2, y2], [x1, y2]],
                    intrusion_enabled=True,
                    min_dwell_seconds=1.0,
                )
            )
    return zones


def alerting_grid(session: Session, camera: int) -> None:
    session.add_all(grid_zones(camera))
    session.add(AlertSettings(camera_id=camera, event_types=["intrusion"], cooldown_seconds=0))


def run(args: argparse.Namespace, root: Path, stack: ExitStack, groups: list[int]) -> dict:
    live = start_live(root, stack, groups, prefix="a", poll=args.poll, setup=alerting_grid)
    inbox = Inbox()
    smtp_port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    stack.callback(controller.stop)
    alerts_env = live.env(
        VIGIL_SMTP_HOST="127.0.0.1",
        VIGIL_SMTP_PORT=str(smtp_port),
        VIGIL_SMTP_STARTTLS="false",
        VIGIL_SMTP_FROM="vigil@bench.example.com",
        VIGIL_LOG_LEVEL="WARNING",
    )
    live.started(AlertsProcess(alerts_env, root / "logs").start())
    env = live.env()
    env.pop("VIGIL_DATAFLOW_RECOVERY")
    proc, log, low = live.dataflow(env)
    changes, poller = live.changes, live.poller

    def opened() -> dict:
        return {i: c for i, c in decisions(changes, "open").items() if c.at >= low}

    with tqdm(total=args.min_events, unit="event", desc="events opened") as bar:
        while True:
            elapsed = time.time() - low
            bar.n = min(len(opened()), args.min_events)
            bar.set_postfix(seconds=round(elapsed), emailed=len(inbox.accepted), refresh=True)
            if proc.poll() is not None:
                raise SystemExit(f"the dataflow exited, see {log}")
            if len(opened()) >= args.min_events or elapsed >= args.max_seconds:
                break
            time.sleep(1)
    high = time.time()
    window = {i: c for i, c in opened().items() if c.at < high}
    deadline = time.monotonic() + GRACE_SECONDS
    while time.monotonic() < deadline and (
        set(window) - set(inbox.accepted) or set(window) - set(poller.opened)
    ):
        time.sleep(0.2)
    return {
        "camera": live.camera,
        "low": low,
        "high": high,
        "window": window,
        "inbox": inbox,
        "poller": poller,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-events", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=900.0)
    parser.add_argument("--poll", type=float, default=0.1, help="API poll interval, s")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    configure_logging(level="WARNING", json=False)
    load_at_start = os.getloadavg()
    seen = in_scratch("alert-latency", partial(run, args))

    window, inbox, poller = seen["window"], seen["inbox"], seen["poller"]
    alert_s = [inbox.accepted[i] - c.at for i, c in window.items() if i in inbox.accepted]
    api_s = [poller.opened[i] - c.at for i, c in window.items() if i in poller.opened]
    alert = percentiles(alert_s) if alert_s else None
    baseline = percentiles(api_s) if api_s else None
    ratio = (
        {k: round(alert[k] / baseline[k], 2) for k in ("p50", "p95")}
        if alert and baseline
        else None
    )
    head = f"{'n':>6} {'p50 s':>7} {'p95 s':>7} {'p50 x':>8} {'p95 x':>8}"
    print(f"\n{'event opened (frame) -> ...':34} {head}")
    if baseline:
        print(row("event listed by the API (base)", baseline, baseline))
        print(row("email accepted by SMTP", alert, baseline))
    missing = len(window) - len(alert_s)
    print(
        f"events opened: {len(window)}, emailed: {len(alert_s)} (not within "
        f"{GRACE_SECONDS:.0f} s: {missing}), messages: {inbox.messages}, "
        f"with snapshot: {inbox.with_snapshot}; target p95 < 3 s: "
        f"{'met' if alert and alert['p95'] < 3 else 'NOT met'}"
    )
    report = {
        "bench": "alert_latency",
        "measured_at": now_iso(),
        "machine": machine(load_at_start),
        "settings": {
            **vars(args),
            "out": str(args.out),
            "zones": f"{GRID[0]}x{GRID[1]} grid, 1 s dwell",
            "cooldown_seconds": 0,
            "window_seconds": round(seen["high"] - seen["low"], 1),
        },
        "baseline": "event 'open' at -> the event listed by GET /api/v1/events (same run)",
        "event_frame_to_api_s": baseline,
        "event_frame_to_email_accepted_s": alert,
        "ratio_email_vs_api": ratio,
        "events_opened": len(window),
        "events_emailed": len(alert_s),
        "events_not_emailed": missing,
        "messages_accepted": inbox.messages,
        "messages_with_snapshot": inbox.with_snapshot,
        "target_p95_s": 3.0,
    }
    save_report(args.out, report)
    print(f"\nwritten to {args.out}")


if __name__ == "__main__":
    main()
