"""The benchmark summary is generated from the JSON results alone, in the shapes the
benchmarks actually save (lists of runs with ratio_vs_baseline, named comparisons, ingest)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))  # the benchmarks import each other as scripts

from summary import collect, render, write_summary  # noqa: E402


def _write(directory: Path, name: str, data: dict) -> None:
    (directory / name).write_text(json.dumps(data))


def _fixtures(directory: Path) -> None:
    _write(
        directory,
        "detector_precision.json",
        {
            "bench": "detector_precision",
            "measured_at": "2026-11-20T10:00:00+00:00",
            "baseline": "fp32, 1 thread",
            "settings": {"ratio_vs_nothing": 9.0},  # settings are never headlines
            "results": [
                {"precision": "fp32", "threads": 1, "ratio_vs_baseline": 1.0},
                {"precision": "int8", "threads": 1, "ratio_vs_baseline": 2.5},
            ],
        },
    )
    _write(
        directory,
        "clips.json",
        {
            "bench": "clips",
            "measured_at": "2026-11-21T10:00:00+00:00",
            "baseline": "re-encoded clips",
            "results": {"copy_speedup_wall": 4.0, "copy": {"clips": 3}},
            "ratio_event_vs_detection": {"p50": 0.5},
        },
    )
    _write(
        directory,
        "ingest.json",
        {
            "benchmark": "ingest",
            "run_at": "2026-11-22T10:00:00+00:00",
            "results": [
                {"variant": "copy", "cameras": 4, "cpu_seconds_per_camera_minute": 0.5},
                {"variant": "reencode", "cameras": 4, "cpu_seconds_per_camera_minute": 3.0},
            ],
        },
    )


def test_headlines_come_from_every_result_shape(tmp_path: Path) -> None:
    _fixtures(tmp_path)
    rows = {(r.source, r.figure): r for r in collect(tmp_path)}
    assert set(rows) == {
        ("detector_precision.json", "int8 (threads 1)"),
        ("clips.json", "copy speedup wall"),
        ("clips.json", "ratio event vs detection p50"),
        ("ingest.json", "stream copy CPU saving, 4 cameras (reencode ÷ copy)"),
    }
    int8 = rows["detector_precision.json", "int8 (threads 1)"]
    assert (int8.ratio, int8.baseline, int8.measured_at) == (2.5, "fp32, 1 thread", "2026-11-20")
    ingest = rows["ingest.json", "stream copy CPU saving, 4 cameras (reencode ÷ copy)"]
    assert ingest.ratio == 6.0
    assert ingest.measured_at == "2026-11-22"
    assert "re-encoded" in ingest.baseline


def test_summary_only_writes_the_table_without_running_anything(tmp_path: Path) -> None:
    _fixtures(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--summary-only", "--results", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    summary = (tmp_path / "SUMMARY.md").read_text()
    int8 = "| detector_precision | int8 (threads 1) | 2.5 | fp32, 1 thread | 2026-11-20 |"
    assert int8 in summary
    assert "| clips | copy speedup wall | 4 | re-encoded clips | 2026-11-21 |" in summary
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "SUMMARY.md",
        "clips.json",
        "detector_precision.json",
        "ingest.json",
    ]


def test_a_broken_result_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"bad\.json"):
        write_summary(tmp_path)


def test_the_committed_summary_matches_the_committed_results() -> None:
    results = ROOT / "bench" / "results"
    assert (results / "SUMMARY.md").read_text() == render(collect(results))
