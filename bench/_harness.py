"""What the end-to-end benchmarks share: a scratch lab (SQLite migrated by `vigil migrate`, a
Tansu broker, the RTSP simulator), `vigil dataflow` as a process group, a topic listener, and
percentiles. The benchmarks import it as `_harness` (they run as scripts from bench/)."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from vigil import processes
from vigil.auth.passwords import hash_password
from vigil.broker import JsonConsumer
from vigil.broker.consumer import Record
from vigil.db.models import Camera, User
from vigil.db.session import session_scope
from vigil.embedded import TansuBroker, free_port
from vigil.simulator import RtspSimulator

ROOT = Path(__file__).resolve().parents[1]
LAB_EMAIL = "bench@example.com"


def clean_env() -> dict[str, str]:
    """This environment without any VIGIL_ setting: a benchmark's processes see only its own."""
    return {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}


class Lab:
    """A scratch data dir, database, broker and camera simulator for a whole benchmark. The
    user (id 1, owner of every camera) can log in to the API when `password` is given."""

    def __init__(self, root: Path, password: str | None = None) -> None:
        self.root = root
        self.database = f"sqlite:///{root / 'vigil.db'}"
        # The database as an operator makes it: the real command, not the migrations module.
        migrate = clean_env() | {"VIGIL_DATABASE_URL": self.database, "VIGIL_DATA_DIR": str(root)}
        subprocess.run(
            [sys.executable, "-m", "vigil", "migrate"],
            env=migrate,
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        password_hash = hash_password(password) if password else "unusable"
        with session_scope(self.database) as session:
            session.add(User(email=LAB_EMAIL, password_hash=password_hash))
        self.broker = TansuBroker(log_dir=root / "logs", port=free_port()).start()
        self.simulator = RtspSimulator().start()
        self.runs = 0

    def close(self) -> None:
        self.simulator.stop()
        self.broker.stop()

    def cameras(self, count: int, url: str) -> list[int]:
        """`count` fresh cameras (the only enabled ones)."""
        with session_scope(self.database) as session:
            for camera in session.query(Camera):
                camera.enabled = False
            made = [
                Camera(owner_id=1, name=f"bench-{uuid.uuid4().hex[:6]}", stream_url=url)
                for _ in range(count)
            ]
            session.add_all(made)
            session.flush()
            return [c.id for c in made]

    def env(self, data: Path, prefix: str, **extra: str) -> dict[str, str]:
        return clean_env() | {
            "VIGIL_DATA_DIR": str(data),
            "VIGIL_DATABASE_URL": self.database,
            "VIGIL_KAFKA_BOOTSTRAP": self.broker.bootstrap,
            "VIGIL_KAFKA_TOPIC_PREFIX": prefix,
            "VIGIL_OBJECT_STORE": "local",
            "VIGIL_LAKE_ROLL_SECONDS": "2",
            "VIGIL_DATAFLOW_SYNC_SECONDS": "1",
            "VIGIL_DATAFLOW_HEALTH_PORT": "0",
            "VIGIL_DATAFLOW_RECOVERY": "false",
            "VIGIL_LOG_JSON": "true",
            **extra,
        }

    def start(self, env: dict[str, str], *args: str) -> tuple[subprocess.Popen[bytes], Path]:
        """`vigil dataflow` in its own process group (ffmpeg decoders included)."""
        self.runs += 1
        log = self.root / f"run-{self.runs}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "vigil", "dataflow", *args],
            env=env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
        return proc, log


def stop_group(proc: subprocess.Popen[bytes], timeout: float = 120.0) -> int:
    """SIGTERM to the process group (a clean stop: buffers flushed), then SIGKILL to whatever
    is still in it after `timeout`, so no decoder outlives a run. Returns the leader's code."""
    return processes.stop_group(proc, timeout)[0]


def log_events(log: Path, name: str) -> list[dict[str, Any]]:
    """The JSON log lines of one event name."""
    found = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("{") and f'"{name}"' in line:
            record = json.loads(line)
            if record.get("event") == name:
                found.append(record)
    return found


def stamp(record: dict[str, Any]) -> float:
    return datetime.fromisoformat(record["timestamp"]).timestamp()


def epoch(iso: str) -> float:
    """A record's ISO 8601 time (`ts`, `at`) in epoch seconds."""
    return datetime.fromisoformat(iso).timestamp()


def descendants_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (user + system) of `pid` and its descendants, summed per command name (the
    detect-stream decoders run in sessions of their own, so the process group misses them)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw.rpartition(")")[2].split()
        # After the command: state ppid ... utime (field 14) and stime (15) of stat(5).
        stats[int(entry.name)] = (int(fields[1]), name, (int(fields[11]) + int(fields[12])) / ticks)
    wanted, found = {pid}, True
    while found:
        found = False
        for child, (ppid, _, _) in stats.items():
            if ppid in wanted and child not in wanted:
                wanted.add(child)
                found = True
    totals: dict[str, float] = {}
    for member in wanted & stats.keys():
        _, name, cpu = stats[member]
        totals[name] = totals.get(name, 0.0) + cpu
    return totals


def stage_seconds(port: int) -> dict[str, float]:
    """The dataflow's analysis seconds per stage, all cameras together (its /metrics)."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name == "vigil_dataflow_stage_seconds":
            for sample in family.samples:
                if sample.name.endswith("_total"):
                    stage = sample.labels["stage"]
                    totals[stage] = totals.get(stage, 0.0) + sample.value
    return totals


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "records": len(ordered),
        "p50": round(statistics.median(ordered), 3),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
        "max": round(ordered[-1], 3),
    }


class Listener(threading.Thread):
    """Reads a topic from before the dataflow starts: (time received, record) per record."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(daemon=True)
        self.consumer = JsonConsumer(bootstrap, f"bench-{uuid.uuid4().hex[:8]}", [topic])
        self.seen: list[tuple[float, Record]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with self.consumer:
            while not self.stop.is_set():
                record = self.consumer.poll(0.2)
                if record is not None:
                    self.seen.append((time.time(), record))
