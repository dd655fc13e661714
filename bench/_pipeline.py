"""What the live-path latency benchmarks share (bench_event_latency.py, bench_alert_latency.py):
one simulated camera with zones, `vigil api` and a client polling its events list, listeners
on the detections and events topics started before `vigil dataflow`, the decisions the events
topic carried, and a scratch directory whose processes are all checked gone afterwards.
Imported as `_pipeline` (the benchmarks run as scripts from bench/)."""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from subprocess import Popen
from typing import NamedTuple, TypeVar

import httpx
from _harness import LAB_EMAIL, ROOT, Lab, Listener, epoch, stop_group
from sqlalchemy.orm import Session

from vigil.broker import Topics, ensure_topics
from vigil.db.session import session_scope
from vigil.embedded import ManagedProcess, free_port
from vigil.processes import group_members

PASSWORD = "bench event latency password"  # noqa: S105 - a scratch user in a temp database
WARMUP_SECONDS = 10.0  # after the first detection arrives: model warm-up, consumer group joins

T = TypeVar("T")


class ApiServer(ManagedProcess):
    """`vigil api` on a free port, ready when /readyz answers (the database is reachable)."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        argv = [sys.executable, "-m", "vigil", "api", "--port", str(self.port)]
        super().__init__("api", argv, log_dir=log_dir, env=env, cwd=ROOT, ports=(self.port,))

    def probe(self) -> bool:
        return httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200

    def token(self) -> str:
        login = httpx.post(
            f"{self.base}/api/v1/auth/login",
            json={"email": LAB_EMAIL, "password": PASSWORD},
            timeout=30,
        )
        login.raise_for_status()
        return str(login.json()["access_token"])


class Poller(threading.Thread):
    """GET /api/v1/events every `interval` s, as a client would: when each intrusion event id
    was first listed, and first listed as closed (stamped when the answer arrived)."""

    def __init__(self, api: ApiServer, camera_id: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.client = httpx.Client(
            base_url=api.base, headers={"Authorization": f"Bearer {api.token()}"}, timeout=10
        )
        self.params: dict[str, str | int] = {
            "camera_id": camera_id,
            "type": "intrusion",
            "limit": 200,
        }
        self.interval = interval
        self.opened: dict[str, float] = {}
        self.closed: dict[str, float] = {}
        self.request_s: list[float] = []
        self.errors = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with self.client:
            while not self.stop.is_set():
                sent = time.time()
                try:
                    response = self.client.get("/api/v1/events", params=self.params)
                    response.raise_for_status()
                    items = response.json()["items"]
                except (httpx.HTTPError, ValueError, KeyError):
                    self.errors += 1
                else:
                    seen = time.time()
                    self.request_s.append(seen - sent)
                    for item in items:
                        self.opened.setdefault(item["id"], seen)
                        if item["status"] == "closed":
                            self.closed.setdefault(item["id"], seen)
                self.stop.wait(max(0.0, self.interval - (time.time() - sent)))


class Change(NamedTuple):
    at: float  # the frame time at which the rules decided
    received: float  # when its record reached our consumer of the events topic
    produced: float  # the record's producer timestamp


def decisions(listener: Listener, change: str) -> dict[str, Change]:
    """Intrusion event id -> its `change` ('open' or 'close') as the events topic carried it."""
    found: dict[str, Change] = {}
    for got, record in list(listener.seen):
        value = record.value
        if value.get("change") == change and value.get("type") == "intrusion":
            made = (record.timestamp_ms or 0) / 1000
            found.setdefault(value["event_id"], Change(epoch(value["at"]), got, made))
    return found


def first_arrival(listener: Listener, proc: Popen[bytes], timeout: float = 600) -> float:
    """When the first detection record arrived (the INT8 model may be built first)."""
    deadline = time.monotonic() + timeout
    while not listener.seen:
        if time.monotonic() > deadline or proc.poll() is not None:
            raise SystemExit("no detection record from the dataflow")
        time.sleep(0.5)
    return listener.seen[0][0]


def leftovers(groups: list[int], marker: str) -> list[int]:
    """Live processes still in a group we started, or mentioning our scratch directory."""
    found = {pid for pgid in groups for pid in group_members(pgid)}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                text = (entry / "environ").read_bytes() + (entry / "cmdline").read_bytes()
                state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
            except OSError:
                continue
            if marker.encode() in text and state not in ("Z", "X"):
                found.add(int(entry.name))
    return sorted(found)


def row(name: str, stats: dict[str, float] | None, base: dict[str, float]) -> str:
    if not stats:
        return f"{name:34} {'-':>6}"
    return (
        f"{name:34} {stats['records']:6d} {stats['p50']:7.3f} {stats['p95']:7.3f} "
        f"{stats['p50'] / base['p50']:7.2f}x {stats['p95'] / base['p95']:7.2f}x"
    )


def stop_thread(thread: Listener | Poller) -> None:
    thread.stop.set()
    thread.join(15)


@dataclass
class Live:
    """A started lab around one camera; `groups` collects every process group to check."""

    root: Path
    lab: Lab
    camera: int
    prefix: str
    api: ApiServer
    detections: Listener
    changes: Listener
    poller: Poller
    stack: ExitStack
    groups: list[int]

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of this lab's services (their data dir, database, broker, topics)."""
        return self.lab.env(self.root / "data", self.prefix, **extra)

    def started(self, process: ManagedProcess) -> None:
        """Stop `process` with the lab, and check its group is gone."""
        self.stack.callback(process.stop)
        self.groups.append(process.pid or 0)

    def dataflow(self, env: dict[str, str]) -> tuple[Popen[bytes], Path, float]:
        """`vigil dataflow` (first to stop: nothing new after the window); returns it, its log
        and when the measured window may start (after the warm-up)."""
        proc, log = self.lab.start(env)
        self.stack.callback(stop_group, proc)
        self.groups.append(proc.pid)
        low = first_arrival(self.detections, proc) + WARMUP_SECONDS
        time.sleep(max(0.0, low - time.time()))
        return proc, log, low


def start_live(
    root: Path,
    stack: ExitStack,
    groups: list[int],
    *,
    prefix: str,
    poll: float,
    setup: Callable[[Session, int], None],
) -> Live:
    """The lab, its camera (`setup` adds its zones and settings), `vigil api`, the topics'
    listeners and the poller, each stop pushed on `stack`."""
    lab = Lab(root, password=PASSWORD)
    stack.callback(lab.close)
    groups += [pid for pid in (lab.broker.pid, lab.simulator.pid) if pid is not None]
    camera = lab.cameras(1, lab.simulator.url())[0]
    with session_scope(lab.database) as session:
        setup(session, camera)
    prefix = f"{prefix}{uuid.uuid4().hex[:6]}."
    topics = Topics(prefix)
    ensure_topics(lab.broker.bootstrap, topics.all())
    api = ApiServer(lab.env(root / "api", prefix), root / "logs").start()
    stack.callback(api.stop)
    groups.append(api.pid or 0)
    detections = Listener(lab.broker.bootstrap, topics.detections)
    changes = Listener(lab.broker.bootstrap, topics.events)
    poller = Poller(api, camera, poll)
    for thread in (detections, changes, poller):
        thread.start()
        stack.callback(stop_thread, thread)
    return Live(root, lab, camera, prefix, api, detections, changes, poller, stack, groups)


def in_scratch(name: str, body: Callable[[Path, ExitStack, list[int]], T]) -> T:
    """Run `body` in a scratch directory; exits with an error if any process outlives it."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        groups: list[int] = []
        try:
            with ExitStack() as stack:
                result = body(Path(tmp), stack, groups)
        finally:
            survivors = leftovers(groups, tmp)
            if survivors:
                print(f"processes left behind: {survivors}", file=sys.stderr)
        if survivors:
            raise SystemExit(1)
    return result
