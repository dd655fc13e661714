"""Grouping quality on a labelled folder (one sub-folder per person), through the same face
detection, quality filter, embedding, live assignment and refinement as the running system."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from vigil.faces.assign import LiveAssigner
from vigil.faces.cluster import FaceSample, refine
from vigil.vision.face_pipeline import FacePipeline
from vigil.vision.face_quality import FaceQualityConfig
from vigil.vision.faces import FaceBackend
from vigil.vision.types import FaceObservation

ARRIVAL_SEED = 9  # photos arrive shuffled (people interleave, as at a camera), reproducibly
CAMERA_ID = 1


@dataclass(frozen=True)
class Photo:
    person: str
    path: Path


@dataclass(frozen=True)
class Found:
    photo: Photo
    face: FaceObservation


def list_photos(root: Path) -> list[Photo]:
    """Every file in each person's sub-folder (unreadable ones are skipped when read)."""
    if not root.is_dir():
        raise ValueError(f"{root} is not a directory")
    people = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not people:
        raise ValueError(f"{root} has no sub-folders: make one per person")
    return [
        Photo(person.name, f)
        for person in people
        for f in sorted(person.iterdir())
        if f.is_file() and not f.name.startswith(".")
    ]


def find_faces(
    backend: FaceBackend,
    photos: Iterable[Photo],
    config: FaceQualityConfig | None = None,
    progress: Callable[[], None] | None = None,
) -> tuple[list[Found], int]:
    """The main face (largest, most confident) of each readable photo, and how many were read."""
    pipeline = FacePipeline(backend, config or FaceQualityConfig(), whole_frame=True)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    found: list[Found] = []
    read = 0
    for i, photo in enumerate(photos):
        image = cv2.imread(str(photo.path), cv2.IMREAD_COLOR)
        if progress is not None:
            progress()
        if image is None:
            continue
        read += 1
        # Photos an hour apart: no face track links two photos, and flush releases each at once.
        faces = pipeline.run(image, start + timedelta(hours=i), i, [], []) + pipeline.flush()
        if faces:
            found.append(Found(photo, max(faces, key=lambda f: f.bbox.area * f.score)))
    return found, read


def assign_identities(found: Sequence[Found], threshold: float | None = None) -> list[int]:
    """Live assignment in arrival order, then one refinement: an identity per face (-1: none)."""
    order = list(range(len(found)))
    random.Random(ARRIVAL_SEED).shuffle(order)
    assigner = LiveAssigner([], threshold=threshold)
    identity: list[int | None] = [None] * len(found)
    next_id = 1
    for i in order:
        face = found[i].face
        result = assigner.assign(face.embedding, face.quality)
        fid = result.identity_id
        if fid is None and result.accepted:
            fid, next_id = next_id, next_id + 1
        if fid is not None:
            assigner.add(fid, face.embedding, face.quality)
        identity[i] = fid
    samples = [
        FaceSample(
            str(i), f.face.embedding, f.face.quality, CAMERA_ID, None, f.face.ts, identity[i]
        )
        for i, f in enumerate(found)
    ]
    plan = refine(samples, set())
    fresh: dict[str, int] = {}
    final: list[int] = []
    merged = dict(plan.merges)
    for i, fid in enumerate(identity):
        target = plan.assignments.get(str(i), fid)
        if isinstance(target, str):
            target = fresh.setdefault(target, next_id + len(fresh))
        while target is not None and target in merged:
            target = merged[target]
        final.append(-1 if target is None else target)
    return final


def score(people: Sequence[str], identities: Sequence[int]) -> dict[str, float]:
    """Purity, completeness and pairwise precision/recall/F1; unassigned faces stand alone."""
    labels = [f"u{i}" if x < 0 else str(x) for i, x in enumerate(identities)]
    n = len(labels)
    if n == 0:
        return dict.fromkeys(
            ("purity", "completeness", "pairwise_precision", "pairwise_recall", "pairwise_f1"), 0.0
        )
    by_identity: dict[str, Counter[str]] = {}
    by_person: dict[str, Counter[str]] = {}
    for person, label in zip(people, labels, strict=True):
        by_identity.setdefault(label, Counter())[person] += 1
        by_person.setdefault(person, Counter())[label] += 1
    tp = fp = fn = 0
    for (pa, la), (pb, lb) in combinations(zip(people, labels, strict=True), 2):
        same_person, same_identity = pa == pb, la == lb
        tp += same_person and same_identity
        fp += same_identity and not same_person
        fn += same_person and not same_identity
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {
        "purity": sum(c.most_common(1)[0][1] for c in by_identity.values()) / n,
        "completeness": sum(c.most_common(1)[0][1] for c in by_person.values()) / n,
        "pairwise_precision": precision,
        "pairwise_recall": recall,
        "pairwise_f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    }


def evaluate(
    backend: FaceBackend,
    root: Path,
    *,
    threshold: float | None = None,
    progress: Callable[[int], Callable[[], None]] | None = None,
) -> dict[str, Any]:
    """The report `vigil faces evaluate` prints (its first keys are fixed by the CLI contract)."""
    photos = list_photos(root)
    found, read = find_faces(backend, photos, progress=progress(len(photos)) if progress else None)
    identities = assign_identities(found, threshold)
    people = [f.photo.person for f in found]
    assigned = [x for x in identities if x >= 0]
    return {
        **score(people, identities),
        "identities": len(set(assigned)),
        "people": len({p.person for p in photos}),
        "images": read,
        "faces_found": len(found),
        "faces_found_fraction": len(found) / read if read else 0.0,
        "unassigned": len(identities) - len(assigned),
        "unreadable": len(photos) - read,
    }


def quality_summary(found: Sequence[Found]) -> dict[str, float]:
    q = np.array([f.face.quality for f in found], np.float64)
    return {"quality_median": float(np.median(q))} if len(q) else {}
