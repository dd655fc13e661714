"""Dagster resources: thin handles on Vigil's database, lake, media, object store and retention
policy. Every field left unset is read from Vigil's settings (VIGIL_* environment, `.env`) in
the run's process, so the definitions carry no secret that the Dagster UI would display;
tests set the fields explicitly."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
from sqlalchemy.orm import Session, sessionmaker

from vigil.clips.cutter import ClipPolicy
from vigil.db.session import session_factory
from vigil.lake.store import LakeStore, lake_from_settings
from vigil.media.ffmpeg import find_ffmpeg
from vigil.media.paths import MediaPaths
from vigil.retention import RetentionPolicy
from vigil.settings import Settings, get_settings
from vigil.storage import LocalObjectStore, ObjectStore, S3Config, S3ObjectStore
from vigil.storage.factory import object_store_from_settings


def _settings() -> Settings:
    return get_settings()


class DatabaseResource(dg.ConfigurableResource):
    """The OLTP database (events, clips, cameras, zones)."""

    url: str | None = None

    def sessions(self) -> sessionmaker[Session]:
        return session_factory(self.url or _settings().resolved_database_url)


class LakeResource(dg.ConfigurableResource):
    """The Parquet lake written by the dataflow, and how it is kept."""

    root: str | None = None
    compaction_min_files: int | None = None
    compaction_grace_seconds: float | None = None

    @property
    def path(self) -> LakeStore:
        """The lake: `root` (a directory) when set, else where the settings put it (a
        directory, or the object store's bucket on S3)."""
        if self.root:
            return LakeStore.directory(Path(self.root))
        return lake_from_settings(_settings())

    @property
    def compaction(self) -> tuple[int, timedelta]:
        s = _settings()
        grace = self.compaction_grace_seconds
        return (
            self.compaction_min_files or s.lake_compaction_min_files,
            timedelta(seconds=s.lake_compaction_grace_seconds if grace is None else grace),
        )


class MediaResource(dg.ConfigurableResource):
    """Recorded segments (ingest) and how clips are cut from them."""

    root: str | None = None
    segment_seconds: float | None = None
    clip_pre_seconds: float | None = None
    clip_post_seconds: float | None = None
    ffmpeg_path: str | None = None

    @property
    def paths(self) -> MediaPaths:
        return MediaPaths(Path(self.root) if self.root else _settings().media_dir)

    @property
    def ffmpeg(self) -> str:
        return find_ffmpeg(self.ffmpeg_path or _settings().ffmpeg_path)

    @property
    def clip_policy(self) -> ClipPolicy:
        s = _settings()
        pre, post = self.clip_pre_seconds, self.clip_post_seconds
        pre = s.clip_pre_padding_seconds if pre is None else pre
        post = s.clip_post_padding_seconds if post is None else post
        return ClipPolicy(
            pre=timedelta(seconds=pre),
            post=timedelta(seconds=post),
            segment_seconds=self.segment_seconds or s.record_segment_seconds,
        )


class ObjectStoreResource(dg.ConfigurableResource):
    """Clips, snapshots and thumbnails: a directory (`local_root`) or an S3 bucket
    (`endpoint_url` ...); with neither set, the store Vigil's settings name."""

    local_root: str | None = None
    endpoint_url: str | None = None
    bucket: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    region: str | None = None

    def store(self) -> ObjectStore:
        if self.local_root:
            return LocalObjectStore(Path(self.local_root))
        if self.endpoint_url:
            s = _settings()
            config = S3Config(
                endpoint_url=self.endpoint_url,
                access_key=self.access_key or s.s3_access_key.get_secret_value(),
                secret_key=self.secret_key or s.s3_secret_key.get_secret_value(),
                region=self.region or s.s3_region,
            )
            return S3ObjectStore.connect(config, self.bucket or s.s3_bucket)
        return object_store_from_settings(_settings())


class RetentionResource(dg.ConfigurableResource):
    """The global storage cap and how the sweep batches its work."""

    cap_bytes: int | None = None
    batch_size: int | None = None
    orphan_grace_seconds: float | None = None
    lake_days: int | None = None

    @property
    def policy(self) -> RetentionPolicy:
        s = _settings()
        grace = self.orphan_grace_seconds
        return RetentionPolicy(
            lake_days=self.lake_days or s.lake_retention_days,
            cap_bytes=s.storage_cap_bytes if self.cap_bytes is None else self.cap_bytes,
            batch_size=self.batch_size or s.retention_batch_size,
            orphan_grace=timedelta(
                seconds=s.retention_orphan_grace_seconds if grace is None else grace
            ),
            alert_delivery_days=s.alert_delivery_retention_days,
        )


def default_resources() -> dict[str, dg.ConfigurableResource]:
    """Resources for a deployment: everything from the settings."""
    return {
        "database": DatabaseResource(),
        "lake": LakeResource(),
        "media": MediaResource(),
        "object_store": ObjectStoreResource(),
        "retention_policy": RetentionResource(),
    }
