"""The soak benchmark's own arithmetic, on fixed inputs: RSS read from /proc texts and summed
per service tree, latency percentiles, recording gaps, the lake/topic agreement and restarts
seen as pid changes. (The benchmark itself runs `vigil up` for a quarter of an hour: too long
for the suite; its figures are in bench/results/soak.json.)"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))  # the benchmarks import each other as scripts

from _platform import Proc, descendants, parse_ppid, parse_rss, rss_by_service, service_name  # noqa: E402
from bench_soak import (  # noqa: E402
    agreement,
    epoch_us,
    growth,
    latency_summary,
    recording_gaps,
    unexpected_restarts,
)

PY = sys.executable


def test_rss_and_parent_come_from_proc_texts() -> None:
    status = "Name:\tpython\nVmPeak:\t  900 kB\nVmRSS:\t  1234 kB\nRssAnon:\t 1000 kB\n"
    assert parse_rss(status) == 1234 * 1024
    assert parse_rss("Name:\tkthreadd\n") == 0  # kernel threads have no VmRSS
    assert parse_ppid("42 (weird ) name) S 7 42 42 0 -1") == 7
    own = Path(f"/proc/{os.getpid()}")
    assert parse_ppid((own / "stat").read_text()) == os.getppid()
    assert parse_rss((own / "status").read_text()) > 0


def test_each_child_of_vigil_up_is_named_and_its_tree_summed() -> None:
    ports = {"VIGIL_DEMO_DESK_RTSP_PORT": "8555"}
    table = {
        1: Proc(1, 0, (PY, "-m", "vigil", "up"), 100),
        2: Proc(2, 1, (PY, "-m", "vigil", "dataflow"), 200),
        3: Proc(3, 2, ("/usr/bin/ffmpeg", "-i", "rtsp://x"), 30),  # a decoder, own session
        4: Proc(4, 3, ("/usr/bin/ffmpeg",), 5),
        5: Proc(5, 1, ("/venv/bin/tansu", "broker"), 50),
        6: Proc(6, 1, ("/usr/bin/python3", "rtsp_server.py", "--port", "8555"), 10),
        7: Proc(7, 1, ("/usr/bin/python3", "rtsp_server.py", "--port", "8554"), 10),
        8: Proc(8, 99, (PY, "-m", "vigil", "ingest"), 1000),  # not ours
    }
    assert descendants(2, table) == {2, 3, 4}
    services = rss_by_service(1, table, ports)
    assert services["dataflow"] == {"pid": 2, "processes": 3, "rss_bytes": 235}
    assert services["supervisor"]["rss_bytes"] == 100
    assert set(services) == {"supervisor", "dataflow", "broker", "demo-desk", "demo-camera"}
    names = {
        (PY, "-m", "vigil", "api", "--host", "127.0.0.1", "--port", "8000"): "api",
        (PY, "-m", "vigil", "dagster", "daemon"): "dagster-daemon",
        ("/venv/bin/dagster", "api", "grpc", "-m", "pipelines.definitions", "-p", "1"): (
            "dagster-code-server"
        ),
        ("/venv/bin/dagster-webserver", "-h", "127.0.0.1", "-p", "3000"): "dagster-webserver",
        ("/venv/bin/weed", "server", "-s3"): "object-store",
        (PY, "/venv/bin/dagster-webserver", "-h", "127.0.0.1", "-p", "3"): "dagster-webserver",
        (PY, "-m", "streamlit", "run", "dashboard/server.py"): "dashboard",
    }
    for argv, name in names.items():
        assert service_name(argv) == name


def test_latency_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]  # 1..100 ms
    assert latency_summary(values) == {"requests": 100, "p50": 50.0, "p99": 99.0, "max": 100.0}
    assert latency_summary([7.0]) == {"requests": 1, "p50": 7.0, "p99": 7.0, "max": 7.0}
    assert latency_summary([]) is None


def test_a_recording_gap_is_a_hole_between_consecutive_segments() -> None:
    segments = [
        (1000.0, 10.0),
        (1010.0, 10.5),  # contiguous (starts are whole seconds)
        (1020.0, 10.0),
        (1045.0, 10.0),  # 15 s missing before it
        (1055.0, None),  # not probed: not judged
        (1090.0, 10.0),
    ]
    assert recording_gaps(reversed(segments)) == [(1030.0, 15.0)]
    assert recording_gaps([]) == []


def test_committed_frames_must_agree_between_lake_and_topic() -> None:
    committed = {(1, 100), (1, 200), (2, 100)}
    lake = [(1, 100, 0, 5), (1, 100, 1, None), (1, 200, 0, 5), (2, 100, 0, 9), (1, 300, 0, 5)]
    topic = [
        (1, 100, 0, 5),
        (1, 100, 1, None),
        (1, 100, 1, None),  # delivered twice
        (2, 100, 0, 9),
        (1, 300, 0, 5),  # an uncommitted frame: not judged
        (3, 100, 0, 1),
    ]
    assert agreement(committed, lake, topic) == {
        "committed_frames": 3,
        "lake_detections": 4,
        "topic_detections": 4,
        "lake_duplicates": 0,
        "topic_duplicates": 1,
        "missing_on_topic": 1,  # (1, 200, 0, 5)
        "missing_in_lake": 0,
    }
    assert epoch_us("1970-01-01T00:00:01.000002+00:00") == 1_000_002
    assert epoch_us(datetime(1970, 1, 1, 0, 0, 2)) == 2_000_000  # naive: UTC, as DuckDB gives
    assert epoch_us(datetime(1970, 1, 1, 0, 0, 3, tzinfo=UTC)) == 3_000_000


def _sample(t: float, **services: tuple[int, float]) -> dict:
    return {"t": t, "services": {n: {"pid": p, "rss_mb": r} for n, (p, r) in services.items()}}


def test_growth_stops_at_a_kill_and_pid_changes_count_as_restarts() -> None:
    samples = [
        _sample(0, api=(10, 100.0), dataflow=(20, 400.0)),
        _sample(30, api=(10, 104.0), dataflow=(20, 420.0)),
        _sample(60, api=(11, 80.0), dataflow=(21, 300.0)),  # api restarted on its own
        _sample(90, api=(11, 110.0), dataflow=(21, 350.0)),
    ]
    report = growth(samples, {"dataflow": 45.0})
    assert report["api"] == {
        "start_mb": 100.0,
        "end_mb": 110.0,
        "peak_mb": 110.0,
        "growth_pct": 10.0,
    }
    assert report["dataflow"]["end_mb"] == 420.0
    assert report["dataflow"]["growth_pct"] == 5.0
    assert report["dataflow"]["measured_until_its_kill"] is True
    assert unexpected_restarts(samples, {"dataflow"}) == {"api": 1}
