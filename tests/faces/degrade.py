"""A surveillance-like copy of a per-person photo folder: faces shrunk to 28-56 px high, blurred,
re-lit and saved as JPEG quality 25-50, with a fixed seed so every run makes the same copy."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np

from vigil.vision.faces import OpenCVFaceBackend

SEED = 9
FACE_HEIGHT = (28, 56)  # pixels, after shrinking
BLUR_SIGMA = (0.4, 1.2)
GAIN = (0.55, 1.35)  # brightness (re-lighting), with a gamma of its own
GAMMA = (0.7, 1.5)
JPEG_QUALITY = (25, 50)


def degrade_folder(source: Path, target: Path, seed: int = SEED) -> int:
    """Write the degraded copy of `source` (one sub-folder per person) into `target`."""
    rng = random.Random(seed)
    backend = OpenCVFaceBackend()
    written = 0
    for person in sorted(p for p in source.iterdir() if p.is_dir()):
        (target / person.name).mkdir(parents=True, exist_ok=True)
        for photo in sorted(p for p in person.iterdir() if p.is_file()):
            image = cv2.imread(str(photo), cv2.IMREAD_COLOR)
            if image is None:
                continue
            out = degrade(image, _face_height(backend, image), rng)
            cv2.imwrite(
                str(target / person.name / f"{photo.stem}.jpg"),
                out,
                [cv2.IMWRITE_JPEG_QUALITY, rng.randint(*JPEG_QUALITY)],
            )
            written += 1
    return written


def degrade(image: np.ndarray, face_height: float, rng: random.Random) -> np.ndarray:
    scale = min(1.0, rng.uniform(*FACE_HEIGHT) / face_height)
    h, w = image.shape[:2]
    small = cv2.resize(
        image, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA
    )
    small = cv2.GaussianBlur(small, (0, 0), rng.uniform(*BLUR_SIGMA))
    lut = np.clip(
        255.0 * rng.uniform(*GAIN) * (np.arange(256) / 255.0) ** rng.uniform(*GAMMA), 0, 255
    )
    return cv2.LUT(small, lut.astype(np.uint8))


def _face_height(backend: OpenCVFaceBackend, image: np.ndarray) -> float:
    """The photo's main face height (largest found), else most of the photo (tight crops)."""
    faces = backend.detect(image)
    if not faces:
        return 0.8 * image.shape[0]
    return max(f.bbox.height for f in faces)
