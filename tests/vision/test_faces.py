"""Faces: YuNet finds them, SFace tells people apart, quality filters and thumbnails."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest

from vigil.vision import SFACE_THRESHOLD, BestFacePerTrack, FaceQualityConfig, cosine_similarity
from vigil.vision.face_quality import (
    FaceCandidate,
    blur_score,
    encode_jpeg,
    measure_face_quality,
    passes_quality,
    thumbnail_crop,
)
from vigil.vision.faces import OpenCVFaceBackend
from vigil.vision.frames import Frame
from vigil.vision.types import Embedding

from .conftest import at, image


def embed_all(backend: OpenCVFaceBackend, img: Frame) -> list[Embedding]:
    return [backend.embed(backend.align(img, f)) for f in backend.detect(img)]


def only_face(backend: OpenCVFaceBackend, img: Frame) -> Embedding:
    found = embed_all(backend, img)
    assert len(found) == 1
    return found[0]


def test_group_photo_faces(face_backend: OpenCVFaceBackend) -> None:
    group = image("t1.jpg")
    h, w = group.shape[:2]
    faces = face_backend.detect(group)
    assert len(faces) >= 5
    for f in faces:
        assert 0 <= f.bbox.x1 < f.bbox.x2 <= w
        assert 0 <= f.bbox.y1 < f.bbox.y2 <= h
        assert f.score >= 0.6
        assert f.landmarks.shape == (5, 2)
        eyes_x = f.landmarks[:2, 0]
        assert f.bbox.x1 <= eyes_x.min()
        assert eyes_x.max() <= f.bbox.x2


def test_same_person_is_closer_than_different_people(face_backend: OpenCVFaceBackend) -> None:
    hanks = image("Tom_Hanks_54745.png")
    reference = only_face(face_backend, hanks)
    assert reference.dtype == np.float32
    assert reference.shape == (128,)
    assert np.linalg.norm(reference) == pytest.approx(1.0, abs=1e-5)
    flipped = only_face(face_backend, cv2.flip(hanks, 1))
    rescaled = only_face(face_backend, cv2.resize(hanks, None, fx=2.5, fy=2.5))
    others = [only_face(face_backend, image("astronaut.jpg"))]
    others += embed_all(face_backend, image("t1.jpg"))
    for same in (flipped, rescaled):
        assert cosine_similarity(reference, same) > SFACE_THRESHOLD
    for other in others:
        assert cosine_similarity(reference, other) < SFACE_THRESHOLD
        assert cosine_similarity(reference, flipped) > cosine_similarity(reference, other) + 0.3


def test_people_in_a_group_photo_are_told_apart(face_backend: OpenCVFaceBackend) -> None:
    embeddings = embed_all(face_backend, image("t1.jpg"))
    assert len(embeddings) >= 5
    for a, b in itertools.combinations(embeddings, 2):
        assert cosine_similarity(a, b) < SFACE_THRESHOLD


def test_blurred_and_small_faces_are_filtered(face_backend: OpenCVFaceBackend) -> None:
    cfg = FaceQualityConfig()
    sharp = image("astronaut.jpg")
    blurred = cv2.GaussianBlur(sharp, (0, 0), 6)
    [face] = face_backend.detect(sharp)
    [soft] = face_backend.detect(blurred)
    sharp_blur = blur_score(face_backend.align(sharp, face))
    soft_blur = blur_score(face_backend.align(blurred, soft))
    assert passes_quality(face.bbox, sharp_blur, cfg)
    assert not passes_quality(soft.bbox, soft_blur, cfg)
    # Milder blur passes the floor (small, soft faces still group) but weighs less.
    mild = cv2.GaussianBlur(sharp, (0, 0), 3)
    [mild_face] = face_backend.detect(mild)
    mild_blur = blur_score(face_backend.align(mild, mild_face))
    assert passes_quality(mild_face.bbox, mild_blur, cfg)
    assert measure_face_quality(mild_face, mild.shape, mild_blur) < measure_face_quality(
        face, sharp.shape, sharp_blur
    )
    tiny = cv2.resize(image("t1.jpg"), None, fx=0.15, fy=0.15, interpolation=cv2.INTER_AREA)
    tiny_faces = face_backend.detect(tiny)
    assert len(tiny_faces) >= 5  # small inputs are enlarged before detection: found...
    assert all(not passes_quality(f.bbox, sharp_blur, cfg) for f in tiny_faces)  # ...too small


def test_thumbnail_is_a_small_jpeg_of_the_face(face_backend: OpenCVFaceBackend) -> None:
    group = image("t1.jpg")
    face = face_backend.detect(group)[0]
    jpeg = encode_jpeg(thumbnail_crop(group, face.bbox, FaceQualityConfig(thumbnail_side=96)))
    assert jpeg[:2] == b"\xff\xd8"
    decoded = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None
    assert max(decoded.shape[:2]) == 96
    assert len(face_backend.detect(cv2.resize(decoded, None, fx=3, fy=3))) >= 1


def test_best_face_per_track_per_window(face_backend: OpenCVFaceBackend) -> None:
    astronaut = image("astronaut.jpg")
    [face] = face_backend.detect(astronaut)
    aligned = face_backend.align(astronaut, face)

    def cand(track: int | None, t: float, quality: float) -> FaceCandidate:
        return FaceCandidate(
            track,
            int(t * 10),
            at(t),
            face.bbox,
            face.bbox,
            face.score,
            100.0,
            quality,
            aligned,
            aligned,
        )

    best = BestFacePerTrack(window_seconds=1.0)
    assert best.offer(cand(1, 0.0, 0.5)) == []
    assert best.offer(cand(1, 0.3, 0.9)) == []
    assert best.offer(cand(1, 0.6, 0.7)) == []
    assert best.offer(cand(2, 0.6, 0.4)) == []
    [untracked] = best.offer(cand(None, 0.7, 0.1))  # nothing to group by: straight through
    assert untracked.track_id is None
    [winner] = best.offer(cand(1, 1.0, 0.2))  # window of track 1 closes
    assert (winner.track_id, winner.quality, winner.ts) == (1, 0.9, at(0.3))
    assert best.due(at(1.5)) == []
    [late] = best.due(at(1.6))  # track 2's window closes with no new face
    assert late.track_id == 2
    [rest] = best.flush([1])
    assert rest.quality == 0.2
    assert best.flush() == []
