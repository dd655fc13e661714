"""Prometheus metrics of the detection dataflow (served on /metrics by `vigil dataflow`).

Per camera: frames in (decoded), analysed, skipped by the motion gate, dropped (a newer frame
arrived before the old one was analysed), inference time, frames waiting, and fps gauges over
a sliding window, analysis seconds per stage, the detection path and the recall that chose it.
Per sink: work waiting, errors, and anything
given up on (never silent).
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Mapping

from prometheus_client import Counter, Gauge, Histogram

FRAMES_IN = Counter("vigil_dataflow_frames_in", "Frames decoded", ["camera_id"])
FRAMES_ANALYSED = Counter("vigil_dataflow_frames_analysed", "Frames analysed", ["camera_id"])
FRAMES_SKIPPED = Counter(
    "vigil_dataflow_frames_skipped_by_gate",
    "Analysed frames on which the motion gate skipped person detection",
    ["camera_id"],
)
FRAMES_DROPPED = Counter(
    "vigil_dataflow_frames_dropped",
    "Frames replaced by a newer one before analysis (analysis slower than the stream)",
    ["camera_id"],
)
FPS_IN = Gauge("vigil_dataflow_fps_in", "Decoded frames per second (10 s window)", ["camera_id"])
FPS_ANALYSED = Gauge(
    "vigil_dataflow_fps_analysed", "Analysed frames per second (10 s window)", ["camera_id"]
)
INFERENCE_MS = Histogram(
    "vigil_dataflow_inference_ms",
    "Person detector time per detected frame (ms)",
    ["camera_id"],
    buckets=(10, 25, 50, 100, 150, 200, 300, 500, 1000, 2000, 5000),
)
QUEUE_DEPTH = Gauge(
    "vigil_dataflow_queue_depth", "Decoded frames waiting for analysis", ["camera_id"]
)
CAMERAS = Gauge("vigil_dataflow_cameras", "Cameras analysed by this process")
SINK_PENDING = Gauge(
    "vigil_dataflow_sink_pending",
    "Work waiting in a sink: lake rows buffered, Kafka records undelivered, store writes queued",
    ["sink", "partition"],
)
SINK_ERRORS = Counter(
    "vigil_dataflow_sink_errors", "Failed sink writes (retried with backoff)", ["sink"]
)
SINK_LOST = Counter(
    "vigil_dataflow_sink_lost", "Items a sink gave up on (reported in the log)", ["sink"]
)

# Where a camera's analysis time goes (the detect stream's FFmpeg decoder is a process of its
# own: its CPU shows in the process table, not here).
STAGES = ("motion", "detection", "tracking", "faces")
STAGE_SECONDS = Counter(
    "vigil_dataflow_stage_seconds", "Analysis CPU seconds per stage", ["camera_id", "stage"]
)

# Each camera's detection path (vigil.vision.detection_path) and the recall that chose it.
DETECTION_PATHS = ("regions", "whole")
DETECTION_PATH = Gauge(
    "vigil_dataflow_detection_path",
    "1 on the camera's current detection path (regions or whole), 0 on the other",
    ["camera_id", "path"],
)
DETECTION_PATH_RECALL = Gauge(
    "vigil_dataflow_detection_path_recall",
    "Recall of the regions path against the whole frame at the camera's last check",
    ["camera_id"],
)

_PER_CAMERA = (
    FRAMES_IN,
    FRAMES_ANALYSED,
    FRAMES_SKIPPED,
    FRAMES_DROPPED,
    FPS_IN,
    FPS_ANALYSED,
    INFERENCE_MS,
    QUEUE_DEPTH,
    DETECTION_PATH_RECALL,
)


class RateWindow:
    """Events per second over the last `window` seconds."""

    def __init__(self, window: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.window = window
        self.clock = clock
        self._times: deque[float] = deque()
        self._started = clock()

    def add(self, count: int = 1) -> None:
        now = self.clock()
        self._times.extend([now] * count)

    def rate(self) -> float:
        now = self.clock()
        while self._times and now - self._times[0] > self.window:
            self._times.popleft()
        span = min(self.window, max(now - self._started, 1e-3))
        return len(self._times) / span


class CameraMeter:
    """The metrics of one camera; `forget()` removes its series when the camera goes away."""

    def __init__(self, camera_id: int) -> None:
        self.label = str(camera_id)
        self.fps_in = RateWindow()
        self.fps_analysed = RateWindow()
        self._seen_in = self._seen_dropped = 0
        # Counters exist at zero from the start: "no frame dropped" is a figure too, and a
        # dashboard or rate() query must not find the series missing on a fast machine.
        for counter in (FRAMES_IN, FRAMES_ANALYSED, FRAMES_SKIPPED, FRAMES_DROPPED):
            counter.labels(self.label)

    def reader(self, frames_in: int, dropped: int, queued: int) -> None:
        """Reader counters (cumulative since the reader started)."""
        if frames_in < self._seen_in:  # a new reader: its counters restart at zero
            self._seen_in = self._seen_dropped = 0
        new_in, new_dropped = frames_in - self._seen_in, dropped - self._seen_dropped
        self._seen_in, self._seen_dropped = frames_in, dropped
        if new_in > 0:
            FRAMES_IN.labels(self.label).inc(new_in)
            self.fps_in.add(new_in)
        if new_dropped > 0:
            FRAMES_DROPPED.labels(self.label).inc(new_dropped)
        QUEUE_DEPTH.labels(self.label).set(queued)
        FPS_IN.labels(self.label).set(self.fps_in.rate())
        FPS_ANALYSED.labels(self.label).set(self.fps_analysed.rate())

    def analysed(
        self, detected: bool, inference_ms: float, stage_ms: Mapping[str, float] | None = None
    ) -> None:
        for stage, ms in (stage_ms or {}).items():
            STAGE_SECONDS.labels(self.label, stage).inc(ms / 1000)
        FRAMES_ANALYSED.labels(self.label).inc()
        self.fps_analysed.add()
        if detected:
            INFERENCE_MS.labels(self.label).observe(inference_ms)
        else:
            FRAMES_SKIPPED.labels(self.label).inc()

    def detection_path(self, path: str, recall: float | None) -> None:
        for name in DETECTION_PATHS:
            DETECTION_PATH.labels(self.label, name).set(1 if name == path else 0)
        if recall is not None:
            DETECTION_PATH_RECALL.labels(self.label).set(recall)

    def forget(self) -> None:
        for stage in STAGES:
            with contextlib.suppress(KeyError):
                STAGE_SECONDS.remove(self.label, stage)
        for name in DETECTION_PATHS:
            with contextlib.suppress(KeyError):
                DETECTION_PATH.remove(self.label, name)
        for metric in _PER_CAMERA:
            with contextlib.suppress(KeyError):  # never observed: no series to remove
                metric.remove(self.label)
