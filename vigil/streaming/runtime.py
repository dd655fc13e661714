"""What one dataflow process shares across its Bytewax workers: settings, the camera catalog,
the per-thread vision backends, the health board and the stop flag."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from vigil.broker import Topics, bootstrap_from_settings
from vigil.media.ffmpeg import find_ffmpeg
from vigil.settings import Settings
from vigil.storage import ObjectStore, object_store_from_settings
from vigil.streaming.backends import BackendConfig, VisionBackends
from vigil.streaming.catalog import Catalog, CatalogCache, DatabaseCatalog, ReplayCatalog
from vigil.streaming.health import HealthBoard
from vigil.streaming.pipeline import PipelineEnv
from vigil.vision.detection_path import PathConfig
from vigil.vision.quantize import shared_cache_dir


def detector_threads(settings: Settings, workers_per_process: int) -> int:
    """VIGIL_DETECTOR_THREADS (default 1: scale with workers, not threads), or with 0 the
    cores shared evenly by this process's workers (more would make the workers fight)."""
    if settings.detector_threads:
        return settings.detector_threads
    return max(1, (os.cpu_count() or 1) // max(1, workers_per_process))


def calibration_source(settings: Settings) -> Path | None:
    """INT8 calibration footage: VIGIL_DETECTOR_CALIBRATION_PATH, else the demo video."""
    if settings.detector_calibration_path is not None:
        return settings.detector_calibration_path
    from vigil.platform import demo_video  # deferred: it imports every embedded service

    return demo_video(settings)


def model_cache_dirs(settings: Settings) -> tuple[Path, ...]:
    """Where INT8 builds are written (the data dir) and also looked for (the user's cache)."""
    return (settings.data_dir.resolve() / "models", shared_cache_dir())


@dataclass
class DataflowRuntime:
    settings: Settings
    slots: int
    catalog: CatalogCache
    env: PipelineEnv
    health: HealthBoard
    topics: Topics
    bootstrap: str
    stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def from_settings(cls, settings: Settings, *, workers_per_process: int = 1) -> DataflowRuntime:
        database_url = settings.resolved_database_url
        catalog: Catalog = (
            ReplayCatalog(settings.dataflow_cameras_file, database_url)
            if settings.dataflow_cameras_file is not None
            else DatabaseCatalog(database_url)
        )
        backends = VisionBackends(
            BackendConfig(
                detector_backend=settings.detector_backend,
                detector_model_path=settings.detector_model_path,
                detector_threads=detector_threads(settings, workers_per_process),
                detector_precision=settings.detector_precision,
                calibration=calibration_source(settings),
                model_cache_dirs=model_cache_dirs(settings),
                region_size=settings.detector_region_size or None,
                frame_size=settings.detector_frame_size or None,
                face_backend=settings.face_backend,
                face_model_dir=settings.face_model_dir,
                insightface_model_pack=settings.insightface_model_pack,
            )
        )
        health = HealthBoard()
        env = PipelineEnv(
            ffmpeg=find_ffmpeg(settings.ffmpeg_path),
            backends=backends,
            gating=settings.motion_gating,
            region_size=settings.detector_region_size or settings.detector_frame_size or 640,
            regions=settings.detector_region_size > 0,
            max_regions=settings.detector_max_regions,
            path=PathConfig(
                mode=settings.detector_path,
                recall_floor=settings.detector_path_recall_floor,
                check_interval_seconds=settings.detector_path_check_seconds,
            ),
            camera_paths=settings.detector_camera_paths,
            tracker_confidence=settings.detector_confidence,
            backoff_initial_seconds=settings.ingest_backoff_initial_seconds,
            backoff_max_seconds=settings.ingest_backoff_max_seconds,
            stall_seconds=settings.ingest_stall_seconds,
            health=health,
        )
        return cls(
            settings=settings,
            slots=settings.dataflow_partitions,
            catalog=CatalogCache(catalog, settings.dataflow_sync_seconds),
            env=env,
            health=health,
            topics=Topics.from_settings(settings),
            bootstrap=bootstrap_from_settings(settings),
        )

    def object_store(self) -> ObjectStore:
        return object_store_from_settings(self.settings)
