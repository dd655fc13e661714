"""Storage used per camera, as Prometheus gauges: recorded segments, objects (clips, snapshots,
face thumbnails) and lake partitions. The ingest service measures it every
`storage_metrics_seconds` in a background thread (a directory walk and a bucket listing), and
the API's System page reads it from that service's /metrics, like every other figure."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

from prometheus_client import Gauge

from vigil.lake.partitions import hour_partitions
from vigil.lake.store import LakeRoot
from vigil.logs import get_logger
from vigil.media.paths import MediaPaths
from vigil.records.schemas import RECORD_TYPES
from vigil.retention.inventory import object_listing, recordings
from vigil.storage.keys import key_camera
from vigil.storage.objectstore import ObjectStore

log = get_logger(__name__)

AREAS = ("recordings", "objects", "lake")
STORAGE_BYTES = Gauge(
    "vigil_storage_bytes", "Bytes stored per camera and area", ["area", "camera_id"]
)
STORAGE_MEASURED = Gauge(
    "vigil_storage_measured_timestamp_seconds", "When storage was last measured (Unix time)"
)

Usage = Counter[tuple[str, int]]  # (area, camera id) -> bytes


def measure(paths: MediaPaths, store: ObjectStore, lake_root: LakeRoot) -> Usage:
    usage: Usage = Counter()
    for camera_key, _, _, size in recordings(paths):
        if camera_key.isdigit():
            usage["recordings", int(camera_key)] += size
    for key, info in object_listing(store).items():
        camera = key_camera(key)
        if camera is not None:
            usage["objects", camera] += info.size
    for part in hour_partitions(lake_root, tuple(RECORD_TYPES)):
        usage["lake", part.camera_id] += part.size()
    return usage


def publish(usage: Usage) -> None:
    """Replace the gauges' series with `usage` (a deleted camera's series go away)."""
    STORAGE_BYTES.clear()
    for (area, camera), size in sorted(usage.items()):
        STORAGE_BYTES.labels(area, str(camera)).set(size)
    STORAGE_MEASURED.set_to_current_time()


class StorageMeter:
    """Measures and publishes every `interval` seconds until stopped; a failed measurement
    (store unreachable) keeps the last figures and is logged."""

    def __init__(self, measure: Callable[[], Usage], interval: float) -> None:
        self.measure = measure
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="storage-meter")

    def start(self) -> StorageMeter:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                publish(self.measure())
            except Exception as exc:  # the next round retries; the service keeps recording
                log.warning("storage_measure_failed", error=str(exc))
            self._stop.wait(self.interval)
