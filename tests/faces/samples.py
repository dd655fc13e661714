"""Real SFace embeddings of faces_multi photos (clean and degraded) through the same face stage
as the dataflow, shared by the assignment and clustering tests."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import cv2
import numpy as np

from tests.conftest import SHARED_DATA
from tests.faces.degrade import degrade
from vigil.faces.cluster import FaceSample
from vigil.vision.face_pipeline import FacePipeline
from vigil.vision.face_quality import FaceQualityConfig
from vigil.vision.faces import OpenCVFaceBackend

PEOPLE = ("John_Savage", "orl_s03", "orl_s07", "orl_s11", "orl_s15", "John_Simm")
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Face:
    person: str
    embedding: np.ndarray
    quality: float


@lru_cache(maxsize=1)
def backend() -> OpenCVFaceBackend:
    return OpenCVFaceBackend()


@lru_cache(maxsize=2)
def faces(degraded: bool = False) -> dict[str, list[Face]]:
    """Person -> the main face of each of their photos (degraded: as tests/faces/degrade.py)."""
    pipeline = FacePipeline(backend(), FaceQualityConfig(), whole_frame=True)
    rng = random.Random(9)
    out: dict[str, list[Face]] = {}
    for n, person in enumerate(PEOPLE):
        for k, path in enumerate(sorted((SHARED_DATA / "faces_multi" / person).iterdir())):
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            assert image is not None, path
            if degraded:
                image = degrade(image, 0.8 * image.shape[0], rng)
            ts = T0 + timedelta(hours=100 * n + k)
            found = pipeline.run(image, ts, k, [], []) + pipeline.flush()
            if found:
                main = max(found, key=lambda f: f.bbox.area)
                out.setdefault(person, []).append(Face(person, main.embedding, main.quality))
    return out


def sample(
    face: Face,
    detection_id: str,
    face_id: int | None,
    *,
    track_id: int | None = None,
    camera_id: int = 1,
    minutes: float = 0.0,
    quality: float | None = None,
) -> FaceSample:
    return FaceSample(
        detection_id,
        face.embedding,
        face.quality if quality is None else quality,
        camera_id,
        track_id,
        T0 + timedelta(minutes=minutes),
        face_id,
    )
