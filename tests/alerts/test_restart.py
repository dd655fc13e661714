"""`vigil alerts` killed mid-stream (SIGKILL, while a message is on the wire) and started
again: every event is emailed, and none twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import httpx

from tests.alerts.conftest import T0, World
from tests.alerts.servers import Mailbox
from tests.conftest import TEST_JWT_SECRET
from tests.fixtures.waiting import wait_for
from vigil.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]


def service_env(world: World, health_port: int) -> dict[str, str]:
    s = world.settings
    return os.environ | {
        "PYTHONPATH": str(ROOT),
        "VIGIL_DATA_DIR": str(s.data_dir),
        "VIGIL_DATABASE_URL": s.resolved_database_url,
        "VIGIL_JWT_SECRET": TEST_JWT_SECRET,
        "VIGIL_OBJECT_STORE": "local",
        "VIGIL_KAFKA_BOOTSTRAP": s.kafka_bootstrap or "",
        "VIGIL_KAFKA_TOPIC_PREFIX": s.kafka_topic_prefix,
        "VIGIL_SMTP_HOST": "127.0.0.1",
        "VIGIL_SMTP_PORT": str(s.smtp_port),
        "VIGIL_SMTP_STARTTLS": "false",
        "VIGIL_SMTP_FROM": s.smtp_from,
        "VIGIL_ALERTS_HEALTH_PORT": str(health_port),
        "VIGIL_ALERTS_CONSUMER_GROUP": s.alerts_consumer_group,
        "VIGIL_ALERTS_RETRY_INITIAL_SECONDS": "0.1",
        "VIGIL_ALERTS_RETRY_MAX_SECONDS": "0.5",
        "VIGIL_LOG_LEVEL": "WARNING",
    }


@contextmanager
def alert_process(world: World, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    port = free_port()
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vigil", "alerts"],
            env=service_env(world, port),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:

        def healthy() -> bool:
            assert proc.poll() is None, log.read_text()[-3000:]
            try:
                return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        assert wait_for(healthy), "vigil alerts /healthz not healthy"
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def test_killed_mid_stream_neither_repeats_nor_skips(
    world: World, smtp: tuple[Mailbox, int], tmp_path: Path
) -> None:
    mailbox, _ = smtp
    mailbox.hold_at = 4  # the 4th message waits on the wire until the process is dead
    camera = world.camera(world.user("owner@example.com"))
    world.configure(camera, cooldown_seconds=0)
    before = [world.open_event(camera, T0 + timedelta(minutes=i)) for i in range(8)]
    log = tmp_path / "alerts.log"
    with alert_process(world, log) as proc:
        assert wait_for(mailbox.holding.is_set), "the message was never held"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    mailbox.release.set()
    during = [world.open_event(camera, T0 + timedelta(minutes=10 + i)) for i in range(4)]
    assert len(mailbox.messages()) == 3  # the held one was never accepted
    with alert_process(world, log):
        rows = world.settled(12)
    sent = [m["X-Vigil-Event-Id"] for m in mailbox.messages()]
    assert sorted(sent) == sorted(before + during)  # each exactly once
    assert {r.status for r in rows} == {"sent"}
    assert len(rows) == 12
