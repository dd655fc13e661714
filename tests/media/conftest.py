"""Fixtures for media tests: a real GStreamer RTSP simulator on loopback and real FFmpeg.

Nothing is mocked. Ports are picked by the simulator itself (port 0). Waits are bounded polls
with generous timeouts; no assertion is about speed.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.fixtures.waiting import wait_for
from vigil.media.ffmpeg import IngestOptions, find_ffmpeg
from vigil.media.paths import MediaPaths
from vigil.media.supervisor import SupervisorConfig
from vigil.simulator import DEFAULT_FOOTAGE, RtspSimulator, transcode_for_simulator

# Short segments and snapshot interval so a test sees several of each within seconds.
TEST_OPTIONS = IngestOptions(
    hls_segment_seconds=1.0,
    hls_list_size=4,
    record_segment_seconds=4,
    snapshot_interval_seconds=1.0,
    io_timeout_seconds=3.0,
)


@pytest.fixture(scope="session")
def ffmpeg_exe() -> str:
    return find_ffmpeg()


@pytest.fixture(scope="session")
def footage() -> Path:
    assert DEFAULT_FOOTAGE.exists(), f"test footage missing: {DEFAULT_FOOTAGE}"
    return DEFAULT_FOOTAGE


@pytest.fixture(scope="session")
def simulator_cache(tmp_path_factory: pytest.TempPathFactory, footage: Path) -> Path:
    cache = tmp_path_factory.mktemp("simcache")
    transcode_for_simulator(footage, cache_dir=cache)  # once per session
    return cache


@pytest.fixture(scope="session")
def simulator(simulator_cache: Path) -> Iterator[RtspSimulator]:
    """A shared camera, no credentials, two mounts."""
    with RtspSimulator(mounts=("/stream", "/other"), cache_dir=simulator_cache) as sim:
        yield sim


@pytest.fixture(scope="session")
def auth_simulator(simulator_cache: Path) -> Iterator[RtspSimulator]:
    with RtspSimulator(user="cam-admin", password="Secr3t-Pa55", cache_dir=simulator_cache) as sim:
        yield sim


@pytest.fixture
def own_simulator(simulator_cache: Path) -> Iterator[RtspSimulator]:
    """A camera a test may stop and restart."""
    sim = RtspSimulator(cache_dir=simulator_cache).start()
    yield sim
    sim.stop()


@pytest.fixture
def media_paths(tmp_path: Path) -> MediaPaths:
    return MediaPaths(tmp_path / "media")


@pytest.fixture
def supervisor_config(media_paths: MediaPaths, ffmpeg_exe: str) -> SupervisorConfig:
    return SupervisorConfig(
        paths=media_paths,
        ffmpeg=ffmpeg_exe,
        options=TEST_OPTIONS,
        stall_seconds=6.0,
        startup_seconds=12.0,
        backoff_initial_seconds=0.5,
        backoff_max_seconds=2.0,
        stop_grace_seconds=5.0,
    )


@dataclass
class StatusLog:
    """Thread-safe record of on_status callbacks."""

    events: list[tuple[str, str, str | None]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, camera_id: int | str, status: str, error: str | None) -> None:
        with self.lock:
            self.events.append((str(camera_id), status, error))

    def latest(self, camera_id: int | str) -> tuple[str, str | None] | None:
        with self.lock:
            mine = [(s, e) for c, s, e in self.events if c == str(camera_id)]
        return mine[-1] if mine else None

    def wait_status(self, camera_id: int | str, status: str, timeout: float = 30.0) -> str | None:
        """Wait until the camera's latest status is `status`; returns its error text."""
        found = wait_for(lambda: (self.latest(camera_id) or ("", None))[0] == status, timeout)
        assert found, f"camera {camera_id} not {status} within {timeout}s: {self.events}"
        latest = self.latest(camera_id)
        return latest[1] if latest else None


@pytest.fixture
def status_log() -> StatusLog:
    return StatusLog()


def processes_mentioning(marker: str) -> list[int]:
    """PIDs (other than ours) whose command line contains `marker`, zombies included."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if marker.encode() in cmdline:
            found.append(int(entry))
    return found


def zombie_children() -> list[int]:
    """Our child processes that exited but were never reaped."""
    zombies = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if state == "Z" and int(ppid) == os.getpid():
            zombies.append(int(entry))
    return zombies
