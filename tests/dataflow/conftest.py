"""Fixtures for the dataflow tests: real footage through the real RTSP simulator, real ffmpeg,
a real Tansu broker, SQLite, a local object store, and `vigil dataflow` as a real process.

Waits are bounded polls with generous timeouts; nothing asserts on speed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from vigil.db import migrate
from vigil.db.models import Camera, User
from vigil.db.session import engine_for, session_scope
from vigil.embedded import free_port
from vigil.lake.query import connect
from vigil.media.ffmpeg import find_ffmpeg
from vigil.simulator import DEFAULT_FOOTAGE, RtspSimulator

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def log_events(text: str, event: str) -> list[dict[str, Any]]:
    """The JSON log lines of one event name."""
    found = []
    for line in text.splitlines():
        if line.startswith("{") and f'"{event}"' in line:
            record = json.loads(line)
            if record.get("event") == event:
                found.append(record)
    return found


def lake_rows(lake: Path, sql: str) -> list[tuple[Any, ...]]:
    return connect(lake).execute(sql).fetchall()


@pytest.fixture(scope="session")
def footage() -> Path:
    assert DEFAULT_FOOTAGE.is_file(), f"test footage missing: {DEFAULT_FOOTAGE}"
    return DEFAULT_FOOTAGE


@pytest.fixture(scope="session")
def static_video(tmp_path_factory: pytest.TempPathFactory, footage: Path) -> Path:
    """A still scene: one frame of the plaza held for 20 s (people frozen, nothing moves)."""
    out = tmp_path_factory.mktemp("static") / "static.mp4"
    cmd = [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-ss", "30", "-i", str(footage)]
    cmd += ["-frames:v", "1", "-f", "image2", "-y", str(out.with_suffix(".png"))]
    subprocess.run(cmd, check=True, timeout=60)
    cmd = [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-loop", "1", "-framerate", "10"]
    cmd += ["-i", str(out.with_suffix(".png")), "-t", "20", "-c:v", "libx264", "-preset"]
    cmd += ["ultrafast", "-pix_fmt", "yuv420p", "-y", str(out)]
    subprocess.run(cmd, check=True, timeout=120)
    return out


@pytest.fixture(scope="session")
def plaza_camera() -> Iterator[RtspSimulator]:
    with RtspSimulator() as sim:
        yield sim


@pytest.fixture(scope="session")
def still_camera(static_video: Path) -> Iterator[RtspSimulator]:
    with RtspSimulator(static_video) as sim:
        yield sim


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    """A migrated SQLite database with one user (id 1). The dataflow tests use one backend;
    the store code they exercise is covered on PostgreSQL by the events tests."""
    url = f"sqlite:///{tmp_path / 'vigil.db'}"
    migrate.upgrade(url)
    with session_scope(url) as session:
        session.add(User(email="dataflow@example.com", password_hash="x"))
    yield url
    engine_for(url).dispose()


def add_camera(database_url: str, stream_url: str, **fields: Any) -> int:
    with session_scope(database_url) as session:
        camera = Camera(owner_id=1, name=f"cam-{uuid.uuid4().hex[:6]}", stream_url=stream_url)
        for name, value in fields.items():
            setattr(camera, name, value)
        session.add(camera)
        session.flush()
        return camera.id


def write_replay(path: Path, cameras: list[dict[str, Any]]) -> Path:
    """A replay cameras file; each camera defaults to vtest.avi from T0 at 2.5 fps."""
    entries = [
        {"file": str(DEFAULT_FOOTAGE), "start": T0.isoformat(), "fps": 2.5, **camera}
        for camera in cameras
    ]
    path.write_text(json.dumps({"cameras": entries}))
    return path


class GatedVideo:
    """A replay source whose pace the test sets: a named pipe fed with an MPEG-TS video in
    `parts` equal slices, each slice after the first held back until `release()` opens its
    gate. A test thus knows the replay cannot end before it lets it, however fast or slow the
    machine. The pipe is fed again from the start for each reader (a restarted dataflow
    re-reads its replay), through the gates already opened."""

    def __init__(self, video: bytes, fifo: Path, parts: int) -> None:
        self.fifo = fifo
        size = -(-len(video) // parts)
        self.slices = [video[i : i + size] for i in range(0, len(video), size)]
        self.gates = [threading.Event() for _ in self.slices]
        self.gates[0].set()
        self.rounds = 0  # readers fed to the end or gone
        self._closed = threading.Event()
        os.mkfifo(fifo)
        self._thread = threading.Thread(target=self._feed, daemon=True, name="gated-video")
        self._thread.start()

    def release(self, part: int | None = None) -> None:
        """Open the gate of slice `part` (every gate when None)."""
        for gate in self.gates if part is None else [self.gates[part]]:
            gate.set()

    def _open(self) -> int | None:
        """The pipe's write end once a reader has opened it; None when closed."""
        while not self._closed.is_set():
            try:
                return os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: no reader yet
                self._closed.wait(0.1)
        return None

    def _feed(self) -> None:
        while (fd := self._open()) is not None:
            os.set_blocking(fd, True)
            try:
                with os.fdopen(fd, "wb") as pipe:
                    for gate, chunk in zip(self.gates, self.slices, strict=True):
                        while not gate.wait(0.2):
                            if self._closed.is_set():
                                return
                        pipe.write(chunk)
                        pipe.flush()
            except BrokenPipeError:
                pass  # the reader stopped early (killed, or read all it needed)
            self.rounds += 1

    def close(self) -> None:
        self._closed.set()
        self._thread.join(10)


@pytest.fixture(scope="session")
def plaza_ts(tmp_path_factory: pytest.TempPathFactory, footage: Path) -> bytes:
    """The first 48 s of the plaza footage as MPEG-TS, a format read from a pipe as it comes."""
    out = tmp_path_factory.mktemp("plaza_ts") / "plaza.ts"
    cmd = [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-i", str(footage), "-t", "48"]
    cmd += ["-an", "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-pix_fmt", "yuv420p"]
    cmd += ["-f", "mpegts", "-y", str(out)]
    subprocess.run(cmd, check=True, timeout=180)
    return out.read_bytes()


@pytest.fixture
def gated_video(tmp_path: Path, plaza_ts: bytes) -> Iterator[Callable[[int], GatedVideo]]:
    """Factory: the plaza footage through a named pipe in `parts` gated slices."""
    made: list[GatedVideo] = []

    def make(parts: int) -> GatedVideo:
        made.append(GatedVideo(plaza_ts, tmp_path / f"plaza-{len(made)}.ts", parts))
        return made[-1]

    yield make
    for video in made:
        video.close()


@dataclass
class DataflowProcess:
    """`vigil dataflow` as a child process with its own log file."""

    args: list[str]
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    runs: int = field(default=0)

    def start(self) -> DataflowProcess:
        self.runs += 1
        log = self.log_path.with_suffix(f".{self.runs}.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "vigil", "dataflow", *self.args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
            start_new_session=True,
        )
        return self

    def log(self, run: int | None = None) -> str:
        return self.log_path.with_suffix(f".{run or self.runs}.log").read_text(errors="replace")

    def wait(self, timeout: float = 240.0) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            tail = self.log()[-3000:]
            raise AssertionError(f"dataflow did not finish in {timeout} s:\n{tail}") from None

    def stop(self, timeout: float = 120.0) -> int:
        """SIGTERM (a clean stop) to every process of the run, then wait."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGTERM)
        return self.wait(timeout)

    def kill(self) -> None:
        """SIGKILL the whole process group: a crash, nothing flushed."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


@pytest.fixture
def dataflow_env(tmp_path: Path, database: str, tansu: str) -> Callable[..., dict[str, str]]:
    """The environment of a dataflow run: its own data dir, topic prefix and health port."""
    prefix = f"t{uuid.uuid4().hex[:8]}."

    def make(**overrides: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
        env |= {
            "VIGIL_DATA_DIR": str(tmp_path / "data"),
            "VIGIL_DATABASE_URL": database,
            "VIGIL_KAFKA_BOOTSTRAP": tansu,
            "VIGIL_KAFKA_TOPIC_PREFIX": prefix,
            "VIGIL_OBJECT_STORE": "local",
            "VIGIL_LAKE_ROLL_SECONDS": "1",
            "VIGIL_DATAFLOW_SNAPSHOT_SECONDS": "1",
            "VIGIL_DATAFLOW_SYNC_SECONDS": "1",
            "VIGIL_DATAFLOW_HEALTH_PORT": str(free_port()),
            "VIGIL_DETECTOR_THREADS": "1",  # same arithmetic whatever the worker count
            "VIGIL_LOG_JSON": "true",
            "PYTHONUNBUFFERED": "1",
        }
        return env | overrides

    return make


@pytest.fixture
def dataflows(tmp_path: Path) -> Iterator[Callable[..., DataflowProcess]]:
    made: list[DataflowProcess] = []

    def make(env: dict[str, str], *args: str, name: str = "dataflow") -> DataflowProcess:
        run = DataflowProcess(list(args), env, tmp_path / name)
        made.append(run)
        return run

    yield make
    for run in made:
        run.kill()
