"""SeaweedFS and Tansu process managers with the real binaries."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.services import ACCESS_KEY, SECRET_KEY, new_seaweedfs
from vigil.broker import broker_ready
from vigil.embedded import PortInUseError, SeaweedFS, SeaweedPorts, TansuBroker, free_port
from vigil.embedded.process import tcp_port_open
from vigil.processes import group_members
from vigil.settings import Settings
from vigil.storage import S3ObjectStore


def test_port_layout_derived_from_the_s3_port() -> None:
    ports = SeaweedPorts.from_s3_port(8333)
    assert (ports.s3, ports.master, ports.volume, ports.filer, ports.admin) == (
        8333,
        8334,
        8335,
        8336,
        8337,
    )
    assert "-admin.port.grpc=18337" in ports.flags()
    assert len(set(ports.all())) == 10
    with pytest.raises(ValueError, match="gRPC"):
        SeaweedFS.from_settings(Settings(_env_file=None, seaweedfs_s3_port=60000))  # type: ignore[call-arg]


def test_seaweedfs_second_instance_data_survives_restart(
    seaweedfs: SeaweedFS, tmp_path: Path
) -> None:
    # A second instance beside the session one (as tests beside `vigil up`).
    other = new_seaweedfs(tmp_path / "data", tmp_path / "logs", buckets=("media", "extra"))
    try:
        assert other.endpoint_url != seaweedfs.endpoint_url
        names = {b["Name"] for b in other.client().list_buckets()["Buckets"]}
        assert {"media", "extra"} <= names
        S3ObjectStore(other.client(), "media").put_bytes("clips/a.mp4", b"kept")

        pgid = other.pid
        assert pgid is not None
        other.stop()
        assert group_members(pgid) == []
        assert not any(tcp_port_open(port) for port in other.layout.all())

        other.start()
        assert S3ObjectStore(other.client(), "media").get_bytes("clips/a.mp4") == b"kept"
        # A new store keeps its metadata in SQLite, not in leveldb2's eight memtables.
        assert (other.data_dir / "filer.db").is_file()
        assert not (other.data_dir / "filerldb2").exists()
        # The session instance was never disturbed.
        seaweedfs.client().head_bucket(Bucket=seaweedfs.bucket)
    finally:
        other.stop()


def test_seaweedfs_refuses_a_taken_port(seaweedfs: SeaweedFS, tmp_path: Path) -> None:
    clash = SeaweedFS(
        tmp_path / "data",
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
        s3_port=seaweedfs.layout.s3,
        log_dir=tmp_path,
    )
    with pytest.raises(PortInUseError):
        clash.start()
    assert not clash.is_running


def test_seaweedfs_runs_with_a_soft_memory_limit(seaweedfs: SeaweedFS) -> None:
    """Its heap otherwise followed bursts of uploads and stayed up (bench/bench_soak.py)."""
    assert seaweedfs.pid is not None
    environ = Path(f"/proc/{seaweedfs.pid}/environ").read_bytes().split(b"\0")
    assert b"GOMEMLIMIT=200MiB" in environ and b"GOGC=50" in environ


def test_tansu_memory_broker_starts_and_stops_clean(tmp_path: Path, tansu: str) -> None:
    broker = TansuBroker(log_dir=tmp_path, port=free_port())
    with broker:
        assert broker_ready(broker.bootstrap)
        assert "--storage-engine=memory://tansu/" in broker.argv
        assert f"--listener-url=tcp://127.0.0.1:{broker.port}" in broker.argv
        pgid = broker.pid
        assert pgid is not None
    assert group_members(pgid) == []
    assert not broker_ready(broker.bootstrap, timeout=0.5)
    # The session broker's port is taken: refused before spawning.
    taken = TansuBroker(log_dir=tmp_path, port=int(tansu.rsplit(":", 1)[1]))
    with pytest.raises(PortInUseError):
        taken.start()


def test_tansu_from_settings(tmp_path: Path) -> None:
    local = TansuBroker.from_settings(
        Settings(_env_file=None, data_dir=tmp_path, object_store="local", kafka_embedded_port=19999)  # type: ignore[call-arg]
    )
    assert local.s3 is None
    assert local.bootstrap == "127.0.0.1:19999"
    embedded = TansuBroker.from_settings(
        Settings(  # type: ignore[call-arg]
            _env_file=None, data_dir=tmp_path, object_store="embedded", seaweedfs_s3_port=18333
        )
    )
    assert "--storage-engine=s3://vigil-broker/" in embedded.argv
    assert embedded.env is not None
    assert embedded.env["AWS_ENDPOINT"] == "http://127.0.0.1:18333"
    assert embedded.env["AWS_ALLOW_HTTP"] == "true"
