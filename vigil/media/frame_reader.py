"""Decode a camera's detect stream at a low frame rate and size for the detection dataflow.

FFmpeg turns the stream into raw BGR frames on a pipe
(`-vf fps=N,scale=min(W,iw):-2 -f rawvideo -pix_fmt bgr24 pipe:1`); the frame size is read
from FFmpeg's own description of its output, so any input size or aspect ratio works.

- LiveFrameReader (RTSP): a thread keeps only the NEWEST frame, stamped with the wall clock
  when it arrived. Detection is slower than decoding on a small CPU, so a frame nobody took
  before the next one arrived is dropped and counted, never queued: analysis always sees the
  present. The stream is reopened with exponential backoff when it ends or stalls.
- FileFrameReader (a local video file): EVERY frame in order, frame i stamped
  `start + i / fps`, so tests, benchmarks and replays are deterministic. A resumed reader
  skips the frames already processed (decoding from the start keeps the frames identical).

Credentials in stream URLs never reach a log line or an error message (vigil.cameras.urls).
"""

from __future__ import annotations

import queue
import re
import select
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import numpy as np

from vigil.cameras.urls import mask_url
from vigil.logs import get_logger
from vigil.media.diagnostics import Failure, Status, classify_failure, mask_secrets
from vigil.media.ffmpeg import ffmpeg_env
from vigil.processes import backoff_delay
from vigil.vision.frames import Frame

log = get_logger(__name__)

MAX_FPS = 30.0
MIN_WIDTH, MAX_WIDTH = 64, 4096
# FFmpeg describes its output as "Stream #0:0: Video: rawvideo (...), bgr24(...), 640x480, ..."
_OUTPUT_SIZE = re.compile(r"Video: rawvideo\b.*?\b(\d{2,5})x(\d{2,5})\b")

StatusCallback = Callable[[Status, str | None], None]


class DecoderError(RuntimeError):
    """FFmpeg could not decode the source; the message says why (credentials masked)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    fps: float = 5.0
    width: int = 640  # output width; smaller sources are not enlarged
    io_timeout_seconds: float = 5.0  # RTSP socket timeout: a dead camera ends FFmpeg
    offset_seconds: float = 0.0  # files only: start this far into the file
    duration_seconds: float | None = None  # files only: stop after this long

    def __post_init__(self) -> None:
        if not 0 < self.fps <= MAX_FPS:
            raise ValueError(f"detect fps must be in (0, {MAX_FPS:g}], got {self.fps!r}")
        if not MIN_WIDTH <= self.width <= MAX_WIDTH:
            raise ValueError(
                f"detect width must be {MIN_WIDTH}..{MAX_WIDTH} pixels, got {self.width!r}"
            )
        if self.io_timeout_seconds <= 0:
            raise ValueError("io_timeout_seconds must be > 0")
        if self.offset_seconds < 0:
            raise ValueError("offset_seconds must be >= 0")
        if self.duration_seconds is not None and self.duration_seconds <= 0:
            raise ValueError("duration_seconds must be > 0")


def build_decode_command(
    ffmpeg: str, source: str, options: DecodeOptions, *, live: bool
) -> list[str]:
    """argv of an FFmpeg that writes `source` as raw BGR frames to stdout."""
    cmd = [ffmpeg, "-hide_banner", "-nostdin", "-nostats", "-loglevel", "info"]
    if live:
        cmd += ["-rtsp_transport", "tcp", "-timeout", str(int(options.io_timeout_seconds * 1e6))]
        # Probe ~1 s, not 5: every probed second delays the first analysed frame.
        cmd += ["-probesize", "1000000", "-analyzeduration", "1000000"]
        cmd += ["-fflags", "nobuffer", "-flags", "low_delay"]
    elif options.offset_seconds:
        cmd += ["-ss", f"{options.offset_seconds:g}"]
    cmd += ["-i", source]
    if not live and options.duration_seconds is not None:
        cmd += ["-t", f"{options.duration_seconds:g}"]
    scale = f"scale='min({options.width},iw)':-2"  # -2: keep the aspect, even height
    cmd += ["-map", "0:v:0", "-an", "-sn", "-vf", f"fps={options.fps:g},{scale}"]
    cmd += ["-f", "rawvideo", "-pix_fmt", "bgr24", "pipe:1"]
    return cmd


def parse_output_size(line: str) -> tuple[int, int] | None:
    """(width, height) from FFmpeg's description of its rawvideo output stream, if `line` is it."""
    match = _OUTPUT_SIZE.search(line)
    return (int(match[1]), int(match[2])) if match else None


class Decoder:
    """One FFmpeg process and the frames on its stdout."""

    def __init__(self, cmd: list[str], source: str, startup_timeout: float = 20.0) -> None:
        self.cmd = cmd
        self.source = source
        self.startup_timeout = startup_timeout
        self.stderr: deque[str] = deque(maxlen=40)
        self.size: tuple[int, int] | None = None
        self._sized = threading.Event()
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Decoder:
        self._proc = subprocess.Popen(
            self.cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=ffmpeg_env(),
            bufsize=0,
            start_new_session=True,  # a Ctrl-C to the dataflow must not kill FFmpeg first
        )
        threading.Thread(target=self._drain_stderr, daemon=True, name="ffmpeg-stderr").start()
        return self

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _drain_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        for raw in self._proc.stderr:
            line = raw.decode(errors="replace").rstrip()
            self.stderr.append(line)
            if self.size is None and (size := parse_output_size(line)) is not None:
                self.size = size
                self._sized.set()
        self._sized.set()  # stderr closed: FFmpeg ended, sized or not

    def wait_size(self) -> tuple[int, int]:
        """The output frame size, once FFmpeg has opened the source; DecoderError if it can't."""
        if not self._sized.wait(self.startup_timeout):
            self.close()
            raise DecoderError(self._failure("FFmpeg did not open the source in time"))
        if self.size is None:
            self.close()
            raise DecoderError(self._failure("FFmpeg ended before describing its output"))
        return self.size

    def read_frame(self, timeout: float | None = None) -> Frame | None:
        """The next frame; None at the end of the stream. DecoderError when no byte arrives
        within `timeout` seconds (a stalled camera)."""
        assert self._proc is not None and self._proc.stdout is not None
        width, height = self.wait_size()
        buffer = bytearray(width * height * 3)
        view, filled = memoryview(buffer), 0
        stdout: IO[bytes] = self._proc.stdout
        while filled < len(buffer):
            if timeout is not None:
                ready, _, _ = select.select([stdout], [], [], timeout)
                if not ready:
                    self.close()
                    raise DecoderError(self._failure(f"no frame for {timeout:g} s (stalled)"))
            n = stdout.readinto(view[filled:])  # type: ignore[attr-defined]
            if not n:
                return None  # EOF; a partial last frame is dropped
            filled += n
        return np.frombuffer(buffer, np.uint8).reshape(height, width, 3)

    def failure(self) -> Failure:
        """Why FFmpeg stopped, from its stderr (after `close`)."""
        return self._failure(None)

    def _failure(self, fallback: str | None) -> Failure:
        returncode = self._proc.poll() if self._proc is not None else None
        found = classify_failure(list(self.stderr), returncode, self.source)
        if fallback is not None and found.reason == "exited":
            return Failure("offline", "stalled", mask_secrets(fallback, self.source))
        return found

    def close(self, grace: float = 2.0) -> None:
        proc = self._proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(grace)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@dataclass(frozen=True, slots=True)
class TimedFrame:
    index: int  # position in the reader's output (files: frame number from the start)
    ts: datetime  # UTC
    frame: Frame


@dataclass(frozen=True, slots=True)
class ReaderStats:
    frames_in: int  # frames decoded
    dropped: int  # frames replaced by a newer one before anybody took them
    reconnects: int
    queued: int  # frames decoded and waiting to be taken


class LiveFrameReader:
    """Newest-frame reader of an RTSP stream, reconnecting until `stop()`."""

    def __init__(
        self,
        url: str,
        options: DecodeOptions,
        ffmpeg: str,
        *,
        on_status: StatusCallback | None = None,
        backoff_initial_seconds: float = 1.0,
        backoff_max_seconds: float = 30.0,
        stall_seconds: float = 10.0,
        camera_id: int | str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not url:
            raise ValueError("stream URL must not be empty")
        self.url = url
        self.options = options
        self.ffmpeg = ffmpeg
        self.on_status = on_status
        self.backoff = (backoff_initial_seconds, backoff_max_seconds)
        self.stall_seconds = stall_seconds
        self.clock = clock
        self._log = log.bind(camera_id=str(camera_id) if camera_id is not None else None)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._latest: TimedFrame | None = None
        self._frames_in = self._dropped = self._reconnects = 0
        self._decoder: Decoder | None = None
        self._thread: threading.Thread | None = None
        self.status: Status | None = None
        self.error: str | None = None

    def start(self) -> LiveFrameReader:
        if self._thread is not None:
            raise RuntimeError("reader already started")
        self._thread = threading.Thread(target=self._run, daemon=True, name="frame-reader")
        self._thread.start()
        return self

    def take(self) -> TimedFrame | None:
        """The newest frame not taken yet, or None."""
        with self._lock:
            frame, self._latest = self._latest, None
        return frame

    @property
    def stats(self) -> ReaderStats:
        with self._lock:
            return ReaderStats(
                self._frames_in, self._dropped, self._reconnects, int(self._latest is not None)
            )

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        decoder = self._decoder
        if decoder is not None:
            decoder.close()
        if self._thread is not None:
            self._thread.join(timeout)

    # --- the reader thread -----------------------------------------------------------------
    def _run(self) -> None:
        attempt = 0
        cmd = build_decode_command(self.ffmpeg, self.url, self.options, live=True)
        while not self._stop.is_set():
            self._decoder = decoder = Decoder(cmd, self.url).start()
            started, frames = time.monotonic(), 0
            try:
                while not self._stop.is_set():
                    frame = decoder.read_frame(timeout=self.stall_seconds)
                    if frame is None:
                        break
                    frames += 1
                    self._publish(frame)
                failure = decoder.failure()
            except DecoderError as exc:
                failure = exc.failure
            finally:
                decoder.close()
            if self._stop.is_set():
                break
            if (failure.status, failure.message) != (self.status, self.error):
                # Once per new reason: a camera that stays down doesn't flood the log.
                self._log.warning(
                    "frame_reader_disconnected",
                    url=mask_url(self.url),
                    reason=failure.reason,
                    error=failure.message,
                )
            self._set_status(failure.status, failure.message)
            # A run that delivered frames for a while resets the backoff; a flapping one doesn't.
            attempt = 0 if frames and time.monotonic() - started > 30 else attempt + 1
            with self._lock:
                self._reconnects += 1
            self._stop.wait(backoff_delay(attempt, *self.backoff))

    def _publish(self, frame: Frame) -> None:
        ts = self.clock()
        with self._lock:
            if self._latest is not None:
                self._dropped += 1  # nobody took it in time: the newer frame replaces it
            self._latest = TimedFrame(self._frames_in, ts, frame)
            self._frames_in += 1
        if self.status != "online":
            self._set_status("online", None)

    def _set_status(self, status: Status, error: str | None) -> None:
        changed = (status, error) != (self.status, self.error)
        self.status, self.error = status, error
        if changed and self.on_status is not None:
            self.on_status(status, error)


_END = object()


class FileFrameReader:
    """Every frame of a local video file in order, at `start + i / fps`, prefetched a little."""

    def __init__(
        self,
        path: Path | str,
        options: DecodeOptions,
        ffmpeg: str,
        start: datetime,
        *,
        start_index: int = 0,
        prefetch: int = 4,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("replay start must be timezone-aware (UTC)")
        if start_index < 0:
            raise ValueError("start_index must be >= 0")
        self.path = Path(path)
        self.options = options
        self.ffmpeg = ffmpeg
        self.start_ts = start.astimezone(UTC)
        self.start_index = start_index
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max(1, prefetch))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._decoder: Decoder | None = None
        self._frames_in = 0
        self.finished = False
        self.error: str | None = None

    def ts_of(self, index: int) -> datetime:
        return self.start_ts + timedelta(seconds=index / self.options.fps)

    def start(self) -> FileFrameReader:
        if not (self.path.is_file() or self.path.is_fifo()):
            raise FileNotFoundError(f"video file not found: {self.path}")
        self._thread = threading.Thread(target=self._run, daemon=True, name="file-reader")
        self._thread.start()
        return self

    def poll(self) -> TimedFrame | None:
        """The next frame if one is decoded; None if not yet, or at the end (see `finished`)."""
        if self.finished:
            return None
        try:
            item = self._queue.get_nowait()
        except queue.Empty:
            return None
        if item is _END:
            self.finished = True
            return None
        if isinstance(item, DecoderError):
            self.finished, self.error = True, str(item)
            return None
        assert isinstance(item, TimedFrame)
        return item

    @property
    def stats(self) -> ReaderStats:
        return ReaderStats(self._frames_in, 0, 0, self._queue.qsize())

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._decoder is not None:
            self._decoder.close()
        while True:  # unblock a producer waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        if self._thread is not None:
            self._thread.join(timeout)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        cmd = build_decode_command(self.ffmpeg, str(self.path), self.options, live=False)
        self._decoder = decoder = Decoder(cmd, str(self.path)).start()
        index = 0
        try:
            while not self._stop.is_set():
                frame = decoder.read_frame()
                if frame is None:
                    if index == 0:
                        raise DecoderError(decoder.failure())
                    break
                self._frames_in += 1
                if index >= self.start_index and not self._put(
                    TimedFrame(index, self.ts_of(index), frame)
                ):
                    return
                index += 1
            self._put(_END)
        except DecoderError as exc:
            self._put(exc)
        finally:
            decoder.close()
