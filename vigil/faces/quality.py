"""How much a face counts: a 0..1 quality from size, sharpness, detector score and pose, and the
gate that keeps poor faces from founding identities (they may still join one)."""

from __future__ import annotations

from vigil.vision.face_quality import measure_face_quality
from vigil.vision.faces import RawFace

FOUND_MIN_QUALITY = 0.15  # below it a face joins an existing identity or stays unassigned


def face_quality(
    face: RawFace, frame_shape: tuple[int, ...], *, blur: float | None = None
) -> float:
    """0..1; `blur` is the Laplacian variance of the aligned crop when known."""
    return measure_face_quality(face, frame_shape, blur)


def can_found(quality: float, floor: float = FOUND_MIN_QUALITY) -> bool:
    """Whether a face is good enough to start an identity of its own."""
    return quality >= floor


def weight(quality: float) -> float:
    """Weight of a face in an identity's centroid: good faces dominate, poor ones still count."""
    q = min(1.0, max(0.0, quality))
    return 0.05 + q * q
