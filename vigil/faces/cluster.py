"""Batch clustering of a window of faces and the refinement plan that keeps identity ids stable.

Clustering is scipy's average-linkage hierarchy on cosine distance, with faces of one track drawn
closer (a track is one person unless its faces clearly disagree); very large windows are first
pre-grouped into tight micro-clusters so the O(n^2) linkage stays bounded. `refine` then matches
clusters to the old identities by overlap: an identity keeps its id where most of its weight
lands, identities sharing a cluster merge into the heaviest (a named one first), and faces landing
elsewhere are split off. Named identities never merge away and never lose faces.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import squareform

from vigil.faces.assign import TRACK_FLOOR, IdentityRef
from vigil.faces.quality import FOUND_MIN_QUALITY, can_found, weight

DEFAULT_THRESHOLD = 0.30  # average cosine similarity at which two groups are one person
CENTER_MIN_IDENTITIES = 6  # centre the embeddings when a first pass finds this many people
CENTERED_SHIFT = 0.05  # centred similarities run lower: the cut moves by this much
QUALITY_EASE = 0.06  # poor faces match less well: ease their distances by up to this
# An identity's centroid matches faces better than any single face does: be stricter with it.
ANCHOR_PENALTY = 0.10
SINGLE_MIN_QUALITY = 0.45  # a lone face (or track) founds an identity only above this
TRACK_BONUS = 0.25  # faces of one track are this much closer: one person unless far apart
# Very large windows are pre-grouped, tightest first, until few enough groups remain.
PREGROUP_THRESHOLDS = (0.8, 0.7, 0.6)
MAX_POINTS = 6000

Matrix = npt.NDArray[np.float32]


@dataclass(frozen=True)
class FaceSample:
    detection_id: str
    embedding: np.ndarray  # unit float32[128]
    quality: float  # 0..1
    camera_id: int
    track_id: int | None
    ts: datetime
    face_id: int | None  # current identity


@dataclass(frozen=True)
class RefinePlan:
    """Apply in order: `assignments` (splits are recorded from them), then `merges`."""

    assignments: dict[str, int | str] = field(default_factory=dict)  # changed ones only
    merges: list[tuple[int, int]] = field(default_factory=list)  # (from_face_id, into_face_id)
    splits: list[tuple[int, list[str]]] = field(default_factory=list)  # (from, moved out)


@dataclass
class _Point:
    members: list[int]  # sample indices (empty for an identity anchor)
    vector: npt.NDArray[np.float64]  # weighted sum of unit embeddings
    weight: float
    anchor: int | None = None  # index into the identities when it stands for one's history
    track: int = -1  # index of the face's (camera, track), -1 for none


def cluster(samples: Sequence[FaceSample], *, threshold: float | None = None) -> dict[str, int]:
    """detection_id -> cluster label; -1 for faces too poor to stand alone (noise)."""
    labels, _ = _cluster(samples, (), DEFAULT_THRESHOLD if threshold is None else threshold)
    return {s.detection_id: int(label) for s, label in zip(samples, labels, strict=True)}


def refine(
    samples: Sequence[FaceSample],
    named: Set[int],
    *,
    threshold: float | None = None,
    identities: Sequence[IdentityRef] = (),
) -> RefinePlan:
    """Plan merges, splits and reassignments for a window of faces.

    `identities` (optional) anchors each identity's history as one weighted point, so a short
    window of new faces can be refined incrementally against identities it does not include.
    """
    t = DEFAULT_THRESHOLD if threshold is None else threshold
    labels, anchor_labels = _cluster(samples, identities, t)
    overlap: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
    for s, label in zip(samples, labels, strict=True):
        if label >= 0 and s.face_id is not None:
            overlap[int(label)][s.face_id] += weight(s.quality)
    for ref, label in zip(identities, anchor_labels, strict=True):
        if label >= 0:
            overlap[int(label)][ref.id] += ref.weight
    home: dict[int, tuple[int, float]] = {}  # face id -> (cluster, weight there)
    for label, by_face in overlap.items():
        for fid, w in by_face.items():
            if fid not in home or w > home[fid][1]:
                home[fid] = (label, w)
    claimants: dict[int, list[int]] = defaultdict(list)
    for fid, (label, _) in home.items():
        claimants[label].append(fid)
    keeper: dict[int, int | str] = {}
    merges: list[tuple[int, int]] = []
    fresh = 0
    for label in sorted({int(x) for x in labels if x >= 0}):
        ids = sorted(claimants.get(label, []), key=lambda f: (f not in named, -home[f][1], f))
        if not ids:
            keeper[label], fresh = f"new:{fresh}", fresh + 1
            continue
        keeper[label] = ids[0]
        merges += [(f, ids[0]) for f in ids[1:] if f not in named]
    merged = {f for f, _ in merges}
    assignments: dict[str, int | str] = {}
    moved: dict[int, list[str]] = defaultdict(list)
    for s, label in zip(samples, labels, strict=True):
        if label < 0 or s.face_id in named:
            continue
        target = keeper[int(label)]
        if s.face_id is not None and s.face_id in merged and target == dict(merges)[s.face_id]:
            continue  # moves with its identity's merge
        if target != s.face_id:
            assignments[s.detection_id] = target
            if s.face_id is not None:
                moved[s.face_id].append(s.detection_id)
    return RefinePlan(assignments, merges, sorted(moved.items()))


def _cluster(
    samples: Sequence[FaceSample], identities: Sequence[IdentityRef], threshold: float
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Labels for the samples and for the identity anchors (-1: noise)."""
    if not samples and not identities:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    points = _face_points(samples) + [
        _Point([], _unit(r.centroid).astype(np.float64) * r.weight, r.weight, anchor=k)
        for k, r in enumerate(identities)
    ]
    labels = np.full(len(samples), -1, np.int64)
    anchor_labels = np.full(len(identities), -1, np.int64)
    if not points:
        return labels, anchor_labels
    quality = np.array([s.quality for s in samples], np.float64)
    point_quality = np.array(
        [1.0 if p.anchor is not None else float(quality[p.members].max()) for p in points]
    )
    groups = [[i] for i in range(len(points))]
    for micro in PREGROUP_THRESHOLDS if len(points) > MAX_POINTS else ():
        groups = _pregroup(points, micro)
        if len(groups) <= MAX_POINTS:
            break
    units = _units(np.array([p.vector for p in points], np.float64))
    member_of = np.empty(len(points), np.int64)
    for k, g in enumerate(groups):
        member_of[g] = k
    group_quality = np.array([point_quality[g].max() for g in groups])
    anchored = np.array([any(points[i].anchor is not None for i in g) for g in groups])
    penalty = np.where(anchored, ANCHOR_PENALTY, 0.0)
    track = np.array([_shared_track([points[i] for i in g]) for g in groups])
    group_labels = _linkage_labels(
        units, member_of, len(groups), group_quality, penalty, track, threshold
    )
    sizes = Counter(group_labels.tolist())
    best: dict[int, float] = defaultdict(float)
    for gq, label in zip(group_quality, group_labels, strict=True):
        best[int(label)] = max(best[int(label)], float(gq))
    for g, label in zip(groups, group_labels, strict=True):
        alone = sizes[int(label)] == 1 and len(g) == 1
        floor = SINGLE_MIN_QUALITY if alone else FOUND_MIN_QUALITY
        if not can_found(best[int(label)], floor):
            continue  # only poor faces, or one face with no company: too little to found on
        for i in g:
            p = points[i]
            labels[p.members] = label
            if p.anchor is not None:
                anchor_labels[p.anchor] = label
    return _compact(labels, anchor_labels)


def _linkage_labels(
    units: npt.NDArray[np.float64],
    member_of: npt.NDArray[np.int64],
    n_groups: int,
    quality: npt.NDArray[np.float64],
    penalty: npt.NDArray[np.float64],
    track: npt.NDArray[np.int64],
    threshold: float,
) -> npt.NDArray[np.int64]:
    """Average linkage on cosine distance, eased for poor faces, after removing the direction
    every face shares once the window holds enough identities to estimate it.

    A group's vector is the mean of its members' unit vectors, so the dot product of two groups
    is the mean similarity of their members, as average linkage wants.
    """
    if n_groups == 1:
        return np.zeros(1, np.int64)
    cut = 1.0 - threshold
    first = _cut(_group_means(units, member_of, n_groups), quality, penalty, track, cut)
    if len(set(first.tolist())) >= CENTER_MIN_IDENTITIES:
        centred = _group_means(_units(units - units.mean(axis=0)), member_of, n_groups)
        return _cut(centred, quality, penalty, track, cut + CENTERED_SHIFT)
    return first


def _group_means(
    units: npt.NDArray[np.float64], member_of: npt.NDArray[np.int64], n_groups: int
) -> npt.NDArray[np.float64]:
    sums = np.zeros((n_groups, units.shape[1]), np.float64)
    np.add.at(sums, member_of, units)
    return sums / np.bincount(member_of, minlength=n_groups)[:, None]


def _cut(
    vectors: npt.NDArray[np.float64],
    quality: npt.NDArray[np.float64],
    penalty: npt.NDArray[np.float64],
    track: npt.NDArray[np.int64],
    cut: float,
) -> npt.NDArray[np.int64]:
    ease = QUALITY_EASE * (1.0 - np.sqrt(np.outer(quality, quality)))
    strict = penalty[:, None] + penalty[None, :]
    similarity = vectors @ vectors.T
    same_track = (track[:, None] == track[None, :]) & (track[:, None] >= 0)
    together = TRACK_BONUS * (same_track & (similarity >= TRACK_FLOOR))  # unless they disagree
    distance = np.maximum(1.0 - similarity - ease + strict - together, 0.0)
    np.fill_diagonal(distance, 0.0)
    tree = linkage(squareform(distance, checks=False), method="average")
    return np.asarray(fcluster(tree, t=cut, criterion="distance") - 1, np.int64)


def _face_points(samples: Sequence[FaceSample]) -> list[_Point]:
    emb = np.array([_unit(s.embedding) for s in samples], np.float64)
    tracks: dict[tuple[int, int], int] = {}
    points = []
    for i, s in enumerate(samples):
        key = None if s.track_id is None else (s.camera_id, s.track_id)
        track = -1 if key is None else tracks.setdefault(key, len(tracks))
        w = weight(s.quality)
        points.append(_Point([i], emb[i] * w, w, track=track))
    return points


def _shared_track(points: list[_Point]) -> int:
    tracks = {p.track for p in points}
    return tracks.pop() if len(tracks) == 1 else -1


def _pregroup(points: list[_Point], micro: float, chunk: int = 2048) -> list[list[int]]:
    """Greedy leader grouping at similarity `micro`, a chunk of points at a time (matrix ops)."""
    vectors = np.array([p.vector for p in points], np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    leaders = np.zeros((0, vectors.shape[1]), np.float32)
    groups: list[list[int]] = []
    for start in range(0, len(points), chunk):
        block = vectors[start : start + chunk]
        sims = block @ leaders.T if len(leaders) else np.zeros((len(block), 0), np.float32)
        new_leaders: list[int] = []
        for j in range(len(block)):
            if sims.shape[1] and sims[j].max() >= micro:
                groups[int(sims[j].argmax())].append(start + j)
                continue
            if new_leaders:
                local = block[new_leaders] @ block[j]
                k = int(local.argmax())
                if local[k] >= micro:
                    groups[len(leaders) + k].append(start + j)
                    continue
            new_leaders.append(j)
            groups.append([start + j])
        leaders = np.vstack([leaders, block[new_leaders]])
    return groups


def _compact(
    labels: npt.NDArray[np.int64], anchor_labels: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Renumber labels 0..k-1 in order of first appearance (noise stays -1)."""
    mapping: dict[int, int] = {}
    for label in [*labels.tolist(), *anchor_labels.tolist()]:
        if label >= 0 and label not in mapping:
            mapping[label] = len(mapping)
    remap = np.vectorize(lambda x: mapping.get(int(x), -1), otypes=[np.int64])
    return (
        remap(labels) if len(labels) else labels,
        remap(anchor_labels) if len(anchor_labels) else anchor_labels,
    )


def _units(vectors: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _unit(vector: npt.ArrayLike) -> npt.NDArray[np.float32]:
    v = np.asarray(vector, np.float32).reshape(-1)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v
