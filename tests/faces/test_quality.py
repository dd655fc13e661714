"""Face quality from size, sharpness, detector score, pose and the frame edge, and the gate that
keeps poor faces from founding identities."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from tests.conftest import SHARED_DATA
from tests.faces.samples import backend
from vigil.faces.quality import FOUND_MIN_QUALITY, can_found, face_quality, weight
from vigil.vision.face_quality import blur_score
from vigil.vision.faces import RawFace
from vigil.vision.types import BBox


@pytest.fixture(scope="module")
def astronaut() -> tuple[np.ndarray, RawFace]:
    image = cv2.imread(str(SHARED_DATA / "faces" / "astronaut.jpg"))
    assert image is not None
    [face] = backend().detect(image)
    return image, face


def quality_of(image: np.ndarray, face: RawFace) -> float:
    return face_quality(face, image.shape, blur=blur_score(backend().align(image, face)))


def test_a_large_sharp_frontal_face_scores_high(astronaut: tuple[np.ndarray, RawFace]) -> None:
    image, face = astronaut
    q = quality_of(image, face)
    assert 0.7 <= q <= 1.0
    assert can_found(q)


def test_smaller_and_blurrier_faces_score_lower(astronaut: tuple[np.ndarray, RawFace]) -> None:
    image, face = astronaut
    sharp = quality_of(image, face)
    small = cv2.resize(image, None, fx=0.15, fy=0.15, interpolation=cv2.INTER_AREA)
    [small_face] = backend().detect(small)
    blurred = cv2.GaussianBlur(image, (0, 0), 3)
    [blurred_face] = backend().detect(blurred)
    assert quality_of(small, small_face) < sharp
    assert quality_of(blurred, blurred_face) < sharp
    assert face_quality(face, image.shape) >= quality_of(blurred, blurred_face)  # blur unknown


def moved(face: RawFace, **changes: object) -> RawFace:
    landmarks = face.landmarks.copy()
    if "nose_dx" in changes:
        eye_distance = float(np.linalg.norm(landmarks[1] - landmarks[0]))
        landmarks[2, 0] += float(changes["nose_dx"]) * eye_distance  # type: ignore[arg-type]
    bbox = changes.get("bbox", face.bbox)
    score = changes.get("score", face.score)
    assert isinstance(bbox, BBox) and isinstance(score, float)
    return RawFace(bbox, score, landmarks)


def test_a_turned_head_a_weak_detection_and_a_cut_face_score_lower(
    astronaut: tuple[np.ndarray, RawFace],
) -> None:
    image, face = astronaut
    base = face_quality(face, image.shape)
    assert face_quality(moved(face, nose_dx=0.5), image.shape) < 0.7 * base  # near profile
    assert face_quality(moved(face, score=0.65), image.shape) < base
    h, w = image.shape[:2]
    b = face.bbox
    at_edge = moved(face, bbox=BBox(0.0, b.y1, b.width, b.y2))
    assert face_quality(at_edge, (h, w, 3)) < base


def test_the_gate_and_the_weights_follow_quality() -> None:
    assert not can_found(FOUND_MIN_QUALITY / 2)
    assert can_found(FOUND_MIN_QUALITY)
    assert 0 < weight(0.0) < weight(0.5) < weight(1.0)
    assert weight(2.0) == weight(1.0)  # clipped to 0..1
