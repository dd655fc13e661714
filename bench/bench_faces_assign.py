"""Live face assignment cost per face against the SFace embedding it follows, in one run.

Workload: the aligned crops of faces_multi (real photos). Timed on the same machine, same run:
- embed:  the dataflow's embedding of one aligned face (SFace, flip-averaged as shipped);
- assign: LiveAssigner.assign + add for one face against N known identities (N = 100, 1,000 and
  10,000 synthetic identities around the real embeddings), i.e. what the dataflow adds per face.

    .venv/bin/python bench/bench_faces_assign.py [--faces 200]
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
from _faces_data import ROOT, aligned_faces, synthetic_people
from _report import machine, now_iso, save_report
from tqdm import tqdm

from vigil.faces.assign import IdentityRef, LiveAssigner
from vigil.vision.faces import OpenCVFaceBackend

RESULTS = ROOT / "bench" / "results" / "faces_assign.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--faces", type=int, default=200)
    args = parser.parse_args()
    load = os.getloadavg()
    backend = OpenCVFaceBackend()
    crops = aligned_faces(backend)[: args.faces]
    embeddings = []
    started = time.perf_counter()
    for crop in tqdm(crops, desc="embed", unit="face"):
        embeddings.append(backend.embed(crop))
    embed_ms = (time.perf_counter() - started) * 1000 / len(crops)
    real = np.array(embeddings, np.float32)

    rows = []
    for n in (100, 1_000, 10_000):
        centres, _ = synthetic_people(real, n, 1)
        refs = [IdentityRef(i, c, 2.0, named=False) for i, c in enumerate(centres)]
        assigner = LiveAssigner(refs)
        started = time.perf_counter()
        for k, e in enumerate(tqdm(real, desc=f"assign vs {n}", unit="face")):
            result = assigner.assign(e, 0.8, track_key=(1, k % 7))
            assigner.add(result.identity_id if result.identity_id is not None else n + k, e, 0.8)
        assign_ms = (time.perf_counter() - started) * 1000 / len(real)
        rows.append(
            {
                "identities": n,
                "assign_ms_per_face": round(assign_ms, 4),
                "ratio_to_embedding": round(assign_ms / embed_ms, 4),
            }
        )
        print(
            f"{n:>6} identities: assign {assign_ms:.3f} ms/face = "
            f"{assign_ms / embed_ms:.2%} of the SFace embedding ({embed_ms:.1f} ms/face)"
        )
    save_report(
        RESULTS,
        {
            "benchmark": "faces_assign",
            "when": now_iso(),
            "machine": machine(load),
            "faces": len(real),
            "embed_ms_per_face": round(embed_ms, 3),
            "assign": rows,
        },
    )


if __name__ == "__main__":
    main()
