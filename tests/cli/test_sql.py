"""`vigil sql` over a lake written by the real lake writer: a table, CSV or JSON for a query,
statements from stdin without one, a one-line error and exit code 2 for bad SQL, and the same
over the lake on S3 (SeaweedFS)."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.services import ACCESS_KEY, SECRET_KEY
from tests.pipelines import lakedata
from vigil.embedded import SeaweedFS
from vigil.lake.store import LakeStore

HOUR = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
WALKS = [
    lakedata.Walk(1, HOUR + timedelta(minutes=58), 40, (0.0, 0.5), (0.5, 0.5)),
    lakedata.Walk(2, HOUR + timedelta(minutes=59), 30, (0.5, 0.5), (1.0, 0.5)),
]
ROWS = list(lakedata.rows(4, HOUR + timedelta(minutes=57), 240, 5, WALKS))  # 12:57-13:01


def vigil_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    env |= {"VIGIL_DATA_DIR": str(data_dir), "VIGIL_OBJECT_STORE": "local", "VIGIL_LOG_JSON": "1"}
    return env | settings


def vigil_sql(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil", "sql", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def lake_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    data_dir = tmp_path_factory.mktemp("sql")
    lakedata.write(data_dir / "lake", ROWS, roll_rows=300)
    return vigil_env(data_dir)


def expected_per_hour() -> dict[int, tuple[int, int]]:
    """(frames, detections) per hour, from the rows that were written."""
    frames = Counter(f["ts"].hour for f, _ in ROWS)
    detections = Counter(d["ts"].hour for _, ds in ROWS for d in ds)
    return {h: (frames[h], detections[h]) for h in frames}


PER_HOUR = (
    "SELECT f.hour, count(*) AS frames, "
    "(SELECT count(*) FROM detections d WHERE d.hour = f.hour) AS detections "
    "FROM frames f GROUP BY f.hour ORDER BY f.hour"
)


def test_json_output(lake_env: dict[str, str]) -> None:
    result = vigil_sql(lake_env, PER_HOUR, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["hour"]: (r["frames"], r["detections"]) for r in rows} == expected_per_hour()
    assert set(expected_per_hour()) == {12, 13}


def test_csv_output_keeps_timestamps_and_lists(lake_env: dict[str, str]) -> None:
    query = "SELECT ts, track_id, bbox FROM detections WHERE track_id = 2 ORDER BY ts LIMIT 3"
    result = vigil_sql(lake_env, query, "--csv")
    assert result.returncode == 0, result.stderr
    header, *rows = list(csv.reader(io.StringIO(result.stdout)))
    assert header == ["ts", "track_id", "bbox"]
    written = sorted(
        (d for _, ds in ROWS for d in ds if d["track_id"] == 2), key=lambda d: d["ts"]
    )[:3]
    assert [datetime.fromisoformat(r[0]) for r in rows] == [d["ts"] for d in written]
    assert [json.loads(r[2]) for r in rows] == [pytest.approx(d["bbox"]) for d in written]


def test_table_output(lake_env: dict[str, str]) -> None:
    result = vigil_sql(lake_env, "SELECT camera_id, count(*) AS frames FROM frames GROUP BY 1")
    assert result.returncode == 0, result.stderr
    assert "camera_id" in result.stdout and "frames" in result.stdout
    assert f"│ {len(ROWS)} " in result.stdout.replace("  ", " ")
    assert "1 row(s)" in result.stdout


def test_every_view_of_views_sql_and_hourly_stats_is_loaded(lake_env: dict[str, str]) -> None:
    views = Path(__file__).resolve().parents[2] / "sql" / "duckdb" / "views.sql"
    names = [line.split()[4] for line in views.read_text().splitlines() if "CREATE" in line]
    assert names == ["frames", "detections", "faces", "events", "camera_health"]
    query = " UNION ALL ".join(
        f"SELECT '{n}' AS view, count(*) AS n FROM {n}" for n in [*names, "hourly_stats"]
    )
    result = vigil_sql(lake_env, query, "--json")
    assert result.returncode == 0, result.stderr
    counts = {r["view"]: r["n"] for r in json.loads(result.stdout)}
    assert counts["frames"] == len(ROWS)
    assert counts["faces"] == counts["hourly_stats"] == 0


@pytest.mark.parametrize(
    "query",
    ["SELEC 1", "SELECT * FROM no_such_view", "SELECT nope FROM frames", "   "],
)
def test_bad_sql_is_one_line_and_exit_code_2(lake_env: dict[str, str], query: str) -> None:
    result = vigil_sql(lake_env, query)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: ")


def test_csv_and_json_together_are_refused(lake_env: dict[str, str]) -> None:
    result = vigil_sql(lake_env, "SELECT 1", "--csv", "--json")
    assert result.returncode == 2
    assert "one of --csv and --json" in result.stderr


def test_statements_from_stdin_until_eof(lake_env: dict[str, str]) -> None:
    script = (
        "SELECT count(*) AS n\n  FROM frames;\n"
        "SELECT broken FROM;\n"  # reported, and the next statements still run
        "SELECT max(persons) AS most FROM frames;\n"
        "SELECT 42 AS answer"  # the last one needs no semicolon
    )
    result = vigil_sql(lake_env, "--json", stdin=script)
    assert result.returncode == 2  # one statement failed
    decoder = json.JSONDecoder()
    outputs, text = [], result.stdout.strip()
    while text:
        value, end = decoder.raw_decode(text)
        outputs.append(value)
        text = text[end:].strip()
    most = max(f["persons"] for f, _ in ROWS)
    assert outputs == [[{"n": len(ROWS)}], [{"most": most}], [{"answer": 42}]]
    (error,) = result.stderr.strip().splitlines()
    assert error.startswith("error: ")

    clean = vigil_sql(lake_env, "--csv", stdin="SELECT 1 AS one;\nSELECT 2 AS two;\n")
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout == "one\n1\ntwo\n2\n"


def test_the_lake_on_s3(seaweedfs: SeaweedFS, s3_bucket: str, tmp_path: Path) -> None:
    lakedata.write(LakeStore.s3(seaweedfs.s3_config, s3_bucket, "lake"), ROWS, roll_rows=300)
    env = vigil_env(
        tmp_path,
        VIGIL_OBJECT_STORE="s3",
        VIGIL_S3_ENDPOINT_URL=seaweedfs.endpoint_url,
        VIGIL_S3_BUCKET=s3_bucket,
        VIGIL_S3_ACCESS_KEY=ACCESS_KEY,
        VIGIL_S3_SECRET_KEY=SECRET_KEY,
    )
    result = vigil_sql(env, PER_HOUR, "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert {r["hour"]: (r["frames"], r["detections"]) for r in rows} == expected_per_hour()
    assert not (tmp_path / "lake").exists()  # nothing read from or written to a directory
