"""Refinement time at 1k, 10k and 100k faces: full re-clustering of the window against
incremental refinement (only the newest 5 % of faces, against the identities as anchors).

Workload: synthetic people built around real SFace embeddings of faces_multi (20 faces each),
already assigned to their identities except the newest 5 %, as the live assigner leaves them.

    .venv/bin/python bench/bench_faces_refine.py [--sizes 1000 10000 100000]
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime

import numpy as np
from _faces_data import ROOT, aligned_faces, synthetic_people
from _report import machine, now_iso, save_report
from tqdm import tqdm

from vigil.faces.assign import IdentityRef
from vigil.faces.cluster import FaceSample, refine
from vigil.faces.quality import weight
from vigil.vision.faces import OpenCVFaceBackend

RESULTS = ROOT / "bench" / "results" / "faces_refine.json"
PER_PERSON = 20
NEW_SHARE = 0.05
T0 = datetime(2026, 11, 30, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    args = parser.parse_args()
    load = os.getloadavg()
    backend = OpenCVFaceBackend()
    real = np.array([backend.embed(c) for c in aligned_faces(backend)], np.float32)
    rows = []
    for n in tqdm(args.sizes, desc="sizes", unit="size"):
        faces, person = synthetic_people(real, max(1, n // PER_PERSON), PER_PERSON)
        old = int(len(faces) * (1 - NEW_SHARE))
        samples = [
            FaceSample(str(i), faces[i], 0.8, 1, None, T0, int(person[i]) if i < old else None)
            for i in range(len(faces))
        ]
        anchors = []
        for pid in np.unique(person[:old]):
            members = faces[:old][person[:old] == pid]
            centroid = members.sum(axis=0)
            anchors.append(
                IdentityRef(
                    int(pid),
                    centroid / np.linalg.norm(centroid),
                    weight(0.8) * len(members),
                    named=False,
                )
            )
        started = time.perf_counter()
        full = refine(samples, set())
        full_s = time.perf_counter() - started
        started = time.perf_counter()
        incremental = refine(samples[old:], set(), identities=anchors)
        incremental_s = time.perf_counter() - started
        placed = sum(
            1 for i in range(old, len(faces)) if incremental.assignments.get(str(i)) == person[i]
        )
        rows.append(
            {
                "faces": len(faces),
                "full_s": round(full_s, 3),
                "incremental_s": round(incremental_s, 3),
                "speedup": round(full_s / incremental_s, 1),
                "full_merges": len(full.merges),
                "full_moved": len(full.assignments),
                "incremental_new_faces_placed_right": round(placed / (len(faces) - old), 3),
            }
        )
        tqdm.write(
            f"{len(faces):>7} faces: full {full_s:.2f} s, incremental {incremental_s:.3f} s "
            f"({full_s / incremental_s:.0f}x), new faces placed right "
            f"{placed / (len(faces) - old):.1%}"
        )
    save_report(
        RESULTS,
        {"benchmark": "faces_refine", "when": now_iso(), "machine": machine(load), "rows": rows},
    )


if __name__ == "__main__":
    main()
