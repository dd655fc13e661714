"""Run the detection dataflow in this process: one Bytewax process, alone or in a cluster.

SIGTERM / Ctrl-C ask for a clean stop: every slot ends its input, so the sinks write what they
buffer and the last state is snapshotted; a second signal aborts at once (recovery then
resumes from the last snapshot).
"""

from __future__ import annotations

import json
import signal
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from types import FrameType

from bytewax._bytewax import cli_main
from bytewax.recovery import RecoveryConfig, init_db_dir

from dataflows.detect import FLOW_ID, build_flow
from vigil.healthserver import HealthServer
from vigil.logs import get_logger
from vigil.streaming.runtime import DataflowRuntime

log = get_logger(__name__)

MARKER = "vigil-dataflow.json"


class RecoveryDirError(RuntimeError):
    """The recovery directory can't be used as it is; the message says what to do."""


@dataclass(frozen=True)
class ClusterOptions:
    workers_per_process: int = 1
    process_id: int | None = None  # None: a single process
    addresses: tuple[str, ...] = ()  # every process's host:port, this one included

    def __post_init__(self) -> None:
        if self.workers_per_process < 1:
            raise ValueError("workers per process must be >= 1")
        if self.process_id is None and self.addresses:
            raise ValueError("--addresses needs --process-id")
        if self.process_id is not None:
            if len(self.addresses) < 2:
                raise ValueError("a cluster needs --addresses with every process, ';'-separated")
            if not 0 <= self.process_id < len(self.addresses):
                raise ValueError(
                    f"--process-id must be 0..{len(self.addresses) - 1} for "
                    f"{len(self.addresses)} addresses"
                )

    @property
    def total_workers(self) -> int:
        return self.workers_per_process * max(1, len(self.addresses))


def prepare_recovery(
    directory: Path, slots: int, partitions: int, *, initialise: bool = True
) -> RecoveryConfig:
    """The recovery directory, initialised with `partitions` SQLite partitions on first use.

    The camera slots are Bytewax partitions, which can't change for the life of the directory:
    a different VIGIL_DATAFLOW_PARTITIONS is refused here with a clear message instead of
    Bytewax aborting mid-start.
    """
    directory = Path(directory)
    marker = directory / MARKER
    has_parts = directory.is_dir() and any(directory.glob("part-*.sqlite3"))
    if marker.is_file():
        saved = json.loads(marker.read_text())
        if saved.get("partitions") != slots:
            raise RecoveryDirError(
                f"recovery dir {directory} was made for VIGIL_DATAFLOW_PARTITIONS="
                f"{saved.get('partitions')}, not {slots}: set it back, or move the directory "
                "away to start without the saved state"
            )
    if not has_parts:
        if not initialise:
            raise RecoveryDirError(
                f"recovery dir {directory} has no partitions: create them once for the whole "
                f"cluster with `python -m bytewax.recovery {directory} N` and give each machine "
                "its share (or a shared volume)"
            )
        directory.mkdir(parents=True, exist_ok=True)
        init_db_dir(directory, partitions)
        log.info("recovery_dir_initialised", path=str(directory), partitions=partitions)
    if not marker.is_file():
        marker.write_text(json.dumps({"flow": FLOW_ID, "partitions": slots}) + "\n")
    return RecoveryConfig(str(directory))


def install_stop_handlers(runtime: DataflowRuntime, repeat_grace: float = 1.0) -> None:
    """First signal: stop cleanly. A second one at least `repeat_grace` s later: abort. (One
    Ctrl-C can arrive twice: from the terminal to the process group, and passed on by the
    `--processes` launcher.)"""
    first: list[float] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if first:
            if time.monotonic() - first[0] >= repeat_grace:
                log.warning("dataflow_abort", signal=name)
                raise KeyboardInterrupt
            return
        first.append(time.monotonic())
        log.info("dataflow_stopping", signal=name)
        runtime.health.state = "stopping"
        runtime.stop.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def run_dataflow(
    runtime: DataflowRuntime,
    cluster: ClusterOptions,
    *,
    recovery: RecoveryConfig | None,
) -> None:
    """Build the flow and run this process's workers until the input ends or a stop signal."""
    settings = runtime.settings
    flow = build_flow(runtime)
    install_stop_handlers(runtime)
    server = None
    if settings.dataflow_health_port:
        port = settings.dataflow_health_port + (cluster.process_id or 0)
        try:
            server = HealthServer(runtime.health.check, port).start()
        except OSError as exc:
            raise RuntimeError(f"health port {port} is not free ({exc.strerror})") from None
    log.info(
        "dataflow_starting",
        workers=cluster.workers_per_process,
        process_id=cluster.process_id,
        processes=max(1, len(cluster.addresses)),
        slots=runtime.slots,
        recovery=str(recovery.db_dir) if recovery is not None else None,
        snapshot_seconds=settings.dataflow_snapshot_seconds,
        replay=str(settings.dataflow_cameras_file) if settings.dataflow_cameras_file else None,
    )
    runtime.health.state = "running"
    try:
        cli_main(
            flow,
            workers_per_process=cluster.workers_per_process,
            process_id=cluster.process_id,
            addresses=list(cluster.addresses) or None,
            epoch_interval=timedelta(seconds=settings.dataflow_snapshot_seconds),
            recovery_config=recovery,
        )
    except BaseException as exc:
        runtime.health.state, runtime.health.failure = "failed", str(exc)
        raise
    finally:
        if runtime.health.state != "failed":
            runtime.health.state = "stopped"
        if server is not None:
            server.stop()
    log.info("dataflow_stopped")
