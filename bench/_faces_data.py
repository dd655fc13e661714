"""Real SFace embeddings of ../shared/data/faces_multi (the face benchmarks' seed data), and
synthetic people built around them for large windows."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vigil.vision.faces import OpenCVFaceBackend

ROOT = Path(__file__).resolve().parents[1]
FACES_MULTI = ROOT.parent / "shared" / "data" / "faces_multi"


def aligned_faces(backend: OpenCVFaceBackend) -> list[np.ndarray]:
    """The aligned 112x112 crop of the main face of every photo."""
    crops = []
    for path in sorted(FACES_MULTI.glob("*/*")):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        faces = backend.detect(image)
        if faces:
            face = max(faces, key=lambda f: f.bbox.area)
            crops.append(backend.align(image, face))
    return crops


def synthetic_people(
    real: np.ndarray, people: int, per_person: int, seed: int = 9
) -> tuple[np.ndarray, np.ndarray]:
    """Unit embeddings of `people` people (each a real face moved well away from it, so two
    people built on one face still differ), `per_person` faces each, spread like real
    same-person faces (cosine about 0.65)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(real), people)
    centres = real[picks] + rng.normal(0, 0.15, (people, real.shape[1]))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    person = np.repeat(np.arange(people), per_person)
    faces = centres[person] + rng.normal(0, 0.065, (len(person), real.shape[1]))
    faces /= np.linalg.norm(faces, axis=1, keepdims=True)
    order = rng.permutation(len(person))
    return faces[order].astype(np.float32), person[order]
