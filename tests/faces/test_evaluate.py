"""`vigil faces evaluate` on faces_multi and on the degraded copy the tests make: the quality
floors of issue 9 (what the grouping reaches, measured), the report's keys, and bad input."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.conftest import SHARED_DATA
from tests.faces.degrade import degrade_folder

FACES_MULTI = SHARED_DATA / "faces_multi"
KEYS = [
    "purity",
    "completeness",
    "pairwise_precision",
    "pairwise_recall",
    "pairwise_f1",
    "identities",
    "people",
    "images",
    "faces_found",
]


def evaluate(directory: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VIGIL_LOG_JSON": "true"}
    return subprocess.run(
        [sys.executable, "-m", "vigil", "faces", "evaluate", str(directory), *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=1800,
        check=False,
    )


def report(directory: Path) -> dict[str, Any]:
    done = evaluate(directory, "--json")
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout)
    assert list(out)[: len(KEYS)] == KEYS
    return out


@pytest.fixture(scope="module")
def degraded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("faces_degraded")
    assert degrade_folder(FACES_MULTI, target) == 251
    return target


def test_clean_photos_group_almost_perfectly() -> None:
    out = report(FACES_MULTI)
    assert (out["people"], out["images"]) == (25, 251)
    assert out["faces_found"] >= 0.99 * out["images"]
    assert out["pairwise_f1"] >= 0.99
    assert out["purity"] >= 0.99 and out["completeness"] >= 0.99
    assert abs(out["identities"] - out["people"]) <= 1


def test_small_blurred_compressed_faces_still_group_well(degraded: Path) -> None:
    photos = [cv2.imread(str(p)) for p in sorted(degraded.glob("orl_s01/*.jpg"))]
    assert all(p is not None and p.shape[0] <= 80 for p in photos)  # the copy really is small
    out = report(degraded)
    assert (out["people"], out["images"]) == (25, 251)
    assert out["faces_found"] >= 0.95 * out["images"]
    assert out["pairwise_f1"] >= 0.97
    assert out["pairwise_precision"] >= 0.97
    assert abs(out["identities"] - out["people"]) <= 0.1 * out["people"]


def test_photos_without_a_face_and_unreadable_files_are_counted(tmp_path: Path) -> None:
    for person in ("orl_s01", "John_Simm"):
        shutil.copytree(FACES_MULTI / person, tmp_path / person)
    cv2.imwrite(str(tmp_path / "orl_s01" / "wall.png"), np.full((120, 100, 3), 128, np.uint8))
    (tmp_path / "John_Simm" / "notes.txt").write_text("not a photo")
    out = report(tmp_path)
    assert (out["people"], out["images"], out["faces_found"]) == (2, 21, 20)
    assert out["unreadable"] == 1
    assert out["identities"] == 2
    assert out["pairwise_f1"] == 1.0
    human = evaluate(tmp_path)
    assert human.returncode == 0, human.stderr
    assert "faces found 20" in human.stdout
    assert "pairwise_f1" in human.stdout


@pytest.mark.parametrize("kind", ["missing", "no-people", "file"])
def test_bad_directories_are_refused_with_a_clear_message(tmp_path: Path, kind: str) -> None:
    target = {"missing": tmp_path / "absent", "no-people": tmp_path, "file": tmp_path / "f.jpg"}[
        kind
    ]
    if kind == "file":
        target.write_bytes(b"x")
    done = evaluate(target, "--json")
    assert done.returncode == 2
    assert "error:" in done.stderr
    assert done.stdout == ""
