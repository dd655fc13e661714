"""Run and babysit one FFmpeg ingest process per camera.

Threads, not asyncio: each camera is a blocking subprocess with two pipes to drain, the caller
(the ingest service loop) is plain synchronous code reading the cameras table, and the callback
must work whether or not the caller runs an event loop. A camera costs three mostly-sleeping
threads (monitor + stdout + stderr readers); tens of cameras are cheap. `on_status` is called
from a monitor thread: keep it quick and thread-safe (e.g. put the change on a queue).

Lifecycle of one camera: spawn FFmpeg in its own process group -> `online` once `-progress`
shows frames advancing -> on exit, classify stderr (`offline` for connection problems, `error`
for bad credentials / unusable data) -> wait an exponential backoff with jitter -> respawn. No
progress for `stall_seconds` counts as a failure too (kill, restart). Stopping sends SIGTERM (FFmpeg
then finalises its files), SIGKILL to the group after a grace period, and always reaps.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import IO, TYPE_CHECKING

from vigil.cameras.urls import InvalidStreamURL, mask_url, validate_rtsp_url
from vigil.logs import get_logger
from vigil.media.diagnostics import Failure, ProgressParser, Status, classify_failure
from vigil.media.ffmpeg import IngestOptions, build_ingest_command, ffmpeg_env, find_ffmpeg
from vigil.media.paths import MediaPaths, camera_key
from vigil.processes import backoff_delay, die_with_parent, signal_group

if TYPE_CHECKING:
    from vigil.settings import Settings

log = get_logger(__name__)
StatusCallback = Callable[[int | str, Status, str | None], None]


@dataclass(frozen=True)
class CameraSpec:
    """What the cameras table says one camera should be doing."""

    id: int | str
    record_url: str
    enabled: bool = True
    fingerprint: str = ""  # e.g. updated_at: any change restarts the process
    transcode: bool = False  # force re-encoding (else automatic when copy can't carry the codec)


@dataclass(frozen=True)
class SupervisorConfig:
    paths: MediaPaths
    ffmpeg: str = field(default_factory=find_ffmpeg)
    options: IngestOptions = field(default_factory=IngestOptions)
    stall_seconds: float = 10.0
    startup_seconds: float = 15.0  # connect + probe + first keyframe, before stall detection
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 30.0
    stop_grace_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> SupervisorConfig:
        return cls(
            paths=MediaPaths(settings.media_dir),
            ffmpeg=find_ffmpeg(settings.ffmpeg_path),
            options=IngestOptions.from_settings(settings),
            stall_seconds=settings.ingest_stall_seconds,
            backoff_initial_seconds=settings.ingest_backoff_initial_seconds,
            backoff_max_seconds=settings.ingest_backoff_max_seconds,
        )


@dataclass(frozen=True)
class CameraState:
    status: Status | None  # None until the first attempt has an outcome
    error: str | None
    last_seen: datetime | None
    pid: int | None
    restarts: int


class CameraProcess:
    """One camera's FFmpeg, kept running until `stop()`."""

    POLL_SECONDS = 0.25
    STABLE_SECONDS = 30.0

    def __init__(
        self, spec: CameraSpec, config: SupervisorConfig, on_status: StatusCallback | None = None
    ) -> None:
        self.spec = spec
        self.key = camera_key(spec.id)
        self.config = config
        self._on_status = on_status
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self._status: Status | None = None
        self._error: str | None = None
        self._last_seen: datetime | None = None
        self._restarts = 0
        self._transcode = spec.transcode
        self._log = log.bind(camera_id=self.key, url=mask_url(spec.record_url))

    # --- public --------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("already started")
        self._thread = threading.Thread(target=self._run, name=f"ingest-{self.key}", daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        """Begin stopping without waiting (so many cameras stop in parallel)."""
        self._stop.set()
        self._signal(signal.SIGTERM)

    def stop(self, timeout: float | None = None) -> None:
        self.request_stop()
        self.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(
                timeout if timeout is not None else self.config.stop_grace_seconds + 5
            )

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def state(self) -> CameraState:
        with self._lock:
            proc = self._proc
            return CameraState(
                status=self._status,
                error=self._error,
                last_seen=self._last_seen,
                pid=proc.pid if proc is not None and proc.returncode is None else None,
                restarts=self._restarts,
            )

    # --- the monitor loop ----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            url = validate_rtsp_url(self.spec.record_url)
        except InvalidStreamURL as exc:
            self._set_status("error", f"invalid stream URL: {exc}")
            return
        attempt = 0
        while not self._stop.is_set():
            failure, online_seconds = self._run_once(url)
            if failure is None or self._stop.is_set():
                break
            if failure.codec_unsupported and not self._transcode:
                self._log.warning("ingest.fallback_transcode", error=failure.message)
                self._transcode = True
            self._log.info("ingest.failed", reason=failure.reason, detail=failure.detail)
            self._set_status(failure.status, failure.message)
            # Only a stable run resets the backoff: a flapping camera keeps backing off.
            attempt = 0 if online_seconds >= self.STABLE_SECONDS else attempt + 1
            with self._lock:
                self._restarts += 1
            cfg = self.config
            self._stop.wait(
                backoff_delay(attempt, cfg.backoff_initial_seconds, cfg.backoff_max_seconds)
            )
        self._clean_live_dir()

    def _run_once(self, url: str) -> tuple[Failure | None, float]:
        """One FFmpeg lifetime: why it ended (None when asked to stop), seconds it was online."""
        self._prepare_dirs()
        options = replace(self.config.options, transcode=self._transcode)
        cmd = build_ingest_command(self.config.ffmpeg, url, self.config.paths, self.key, options)
        stderr: deque[str] = deque(maxlen=40)
        progress = ProgressParser()
        frames = [0]
        advanced = threading.Event()

        def on_stdout(line: str) -> None:
            report = progress.feed(line)
            if report is not None and report.frame > frames[0]:
                frames[0] = report.frame
                advanced.set()

        try:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                errors="replace",
                env=ffmpeg_env(),
                start_new_session=True,  # own process group: stop() can kill all it spawned
                # FFmpeg ignores SIGPIPE: if the ingest service is killed, an orphaned recorder
                # would keep recording beside the restarted service's own.
                preexec_fn=die_with_parent,
            )
        except OSError as exc:
            return Failure("error", "spawn", f"cannot start ffmpeg: {exc}"), 0.0
        with self._lock:
            self._proc = proc
        readers = [
            _drain(proc.stdout, on_stdout),
            _drain(proc.stderr, stderr.append),
        ]
        self._log.info("ingest.started", pid=proc.pid, transcode=self._transcode)
        last_progress = time.monotonic()
        stalled = was_online = False
        online_since = 0.0
        next_dir_check = time.monotonic() + 60
        while proc.poll() is None and not self._stop.is_set():
            if advanced.wait(self.POLL_SECONDS):
                advanced.clear()
                if not was_online:
                    was_online, online_since = True, time.monotonic()
                last_progress = time.monotonic()
                with self._lock:
                    self._last_seen = datetime.now(UTC)
                self._set_status("online", None)
            elif time.monotonic() - last_progress > (
                self.config.stall_seconds if was_online else self.config.startup_seconds
            ):
                stalled = True
                break
            if time.monotonic() > next_dir_check:  # the day dir must exist before midnight
                self._prepare_dirs()
                next_dir_check = time.monotonic() + 60
        self._reap(proc)
        for reader in readers:
            reader.join(timeout=2)
        self._log.info("ingest.exited", pid=proc.pid, returncode=proc.returncode)
        online_seconds = time.monotonic() - online_since if was_online else 0.0
        if self._stop.is_set():
            return None, online_seconds
        if stalled:
            waited = self.config.stall_seconds if was_online else self.config.startup_seconds
            stall = Failure("offline", "stalled", f"no frames for {waited:g} s")
            return stall, online_seconds
        return classify_failure(list(stderr), proc.returncode, url), online_seconds

    # --- helpers -------------------------------------------------------------------------------
    def _reap(self, proc: subprocess.Popen[str]) -> None:
        if proc.poll() is None:
            self._signal(signal.SIGTERM)  # FFmpeg finalises its outputs on SIGTERM
        try:
            proc.wait(timeout=self.config.stop_grace_seconds)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            proc.wait()
        with self._lock:
            self._proc = None

    def _signal(self, signum: int) -> None:
        with self._lock:
            proc = self._proc
        if proc is not None and proc.returncode is None:
            signal_group(proc.pid, signum)  # pgid == pid (start_new_session)

    def _set_status(self, status: Status, error: str | None) -> None:
        with self._lock:
            changed = (status, error) != (self._status, self._error)
            self._status, self._error = status, error
        if not changed:
            return
        self._log.info("ingest.status", status=status, error=error)
        if self._on_status is not None:
            try:
                self._on_status(self.spec.id, status, error)
            except Exception:
                self._log.exception("ingest.status_callback_failed")

    def _prepare_dirs(self) -> None:
        paths = self.config.paths
        today = datetime.now(UTC).date()
        for day in (today, today + timedelta(days=1)):  # the segment muxer can't mkdir
            paths.record_day_dir(self.key, day).mkdir(parents=True, exist_ok=True)
        paths.snapshot_dir(self.key).mkdir(parents=True, exist_ok=True)
        paths.live_dir(self.key).mkdir(parents=True, exist_ok=True)
        self._clean_live_dir()

    def _clean_live_dir(self) -> None:
        # FFmpeg deletes only segments it wrote itself; leftovers of a previous run would leak.
        live = self.config.paths.live_dir(self.key)
        for stale in (*live.glob("seg_*.ts*"), *live.glob("index.m3u8*")):
            stale.unlink(missing_ok=True)


def _drain(stream: IO[str] | None, sink: Callable[[str], None]) -> threading.Thread:
    def run() -> None:
        if stream is None:
            return
        with stream:
            for line in stream:
                sink(line.rstrip("\n"))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


class IngestSupervisor:
    """Keeps one CameraProcess per enabled camera, matching the desired set given to `sync`."""

    def __init__(self, config: SupervisorConfig, on_status: StatusCallback | None = None) -> None:
        self.config = config
        self._on_status = on_status
        self._cameras: dict[str, CameraProcess] = {}
        self._lock = threading.Lock()

    def sync(self, desired: Iterable[CameraSpec]) -> dict[str, list[str]]:
        """Start new cameras, stop removed/disabled ones, restart changed ones (URL, fingerprint,
        transcode). Returns the camera keys per action."""
        wanted = {camera_key(spec.id): spec for spec in desired if spec.enabled}
        with self._lock:
            current = dict(self._cameras)
            to_stop = [key for key, proc in current.items() if wanted.get(key) != proc.spec]
            to_start = [key for key in wanted if key not in current or key in to_stop]
            for key in to_stop:
                current[key].request_stop()
            for key in to_stop:
                current[key].join()
                del self._cameras[key]
            for key in to_start:
                proc = CameraProcess(wanted[key], self.config, self._on_status)
                self._cameras[key] = proc
                proc.start()
        restarted = [key for key in to_start if key in to_stop]
        return {
            "started": [key for key in to_start if key not in to_stop],
            "stopped": [key for key in to_stop if key not in wanted],
            "restarted": restarted,
        }

    def states(self) -> dict[str, CameraState]:
        """Status, last_seen, error per camera: for the caller's batched DB writes."""
        with self._lock:
            cameras = dict(self._cameras)
        return {key: proc.state() for key, proc in cameras.items()}

    def process(self, camera_id: int | str) -> CameraProcess | None:
        with self._lock:
            return self._cameras.get(camera_key(camera_id))

    def stop_all(self) -> None:
        self.sync([])

    def __enter__(self) -> IngestSupervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


__all__ = [
    "CameraProcess",
    "CameraSpec",
    "CameraState",
    "IngestSupervisor",
    "SupervisorConfig",
]
