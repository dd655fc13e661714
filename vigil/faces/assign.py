"""Live assignment: each new face joins the nearest identity within a threshold, else founds one.

Identities are quality-weighted centroids of unit embeddings held in one matrix, so a face costs
one matrix-vector product. Faces of one track stay with the track's identity unless another
identity matches clearly better and the track's own identity does not match at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vigil.faces.quality import can_found, weight

DEFAULT_THRESHOLD = 0.40  # cosine similarity to an identity's centroid to join it
TRACK_MARGIN = 0.15  # how much better a matching identity must be to pull a face off its track
TRACK_FLOOR = 0.20  # below this the track's identity does not match at all: decide afresh
MIN_QUALITY_JOIN = 0.0  # any face may join an identity it matches

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class IdentityRef:
    id: int
    centroid: np.ndarray  # unit float32[128]
    weight: float  # summed quality weight of its faces
    named: bool  # labelled by the user: new faces match it, it never founds/merges away


@dataclass(frozen=True)
class Assignment:
    identity_id: int | None  # None: found a new identity (the caller creates it, then add())
    similarity: float  # to the chosen identity, or to the nearest one when founding
    accepted: bool  # False: too poor to found an identity; store the face unassigned


def unit(vector: npt.ArrayLike) -> Vector:
    v = np.asarray(vector, np.float32).reshape(-1)
    n = float(np.linalg.norm(v))
    return v / n if n > 0 else v


class LiveAssigner:
    """Per owner. Not thread-safe: one per dataflow worker (or guarded by the caller)."""

    def __init__(
        self, identities: Iterable[IdentityRef], *, threshold: float | None = None
    ) -> None:
        self.threshold = DEFAULT_THRESHOLD if threshold is None else threshold
        refs = list(identities)
        self._ids: list[int] = [r.id for r in refs]
        self._index: dict[int, int] = {r.id: i for i, r in enumerate(refs)}
        self._named: list[bool] = [r.named for r in refs]
        self._weights = np.array([max(r.weight, 1e-6) for r in refs], np.float64)
        # Weighted sums, not means: adding a face is then one vector addition.
        sums = [unit(r.centroid) * max(r.weight, 1e-6) for r in refs]
        dim = len(sums[0]) if sums else 128
        self._sums = np.array(sums, np.float64).reshape(len(refs), dim)
        self._centroids = _normalised(self._sums)
        self._tracks: dict[tuple[int, int], int] = {}

    def __len__(self) -> int:
        return len(self._ids)

    def assign(
        self, embedding: np.ndarray, quality: float, track_key: tuple[int, int] | None = None
    ) -> Assignment:
        e = unit(embedding)
        n = len(self._ids)
        sims = self._centroids[:n] @ e if n else np.zeros(0, np.float32)
        best = int(np.argmax(sims)) if len(sims) else -1
        best_sim = float(sims[best]) if best >= 0 else -1.0
        held = self._tracks.get(track_key) if track_key is not None else None
        if held is not None and held in self._index:
            own = float(sims[self._index[held]])
            pulled = best_sim >= self.threshold and best_sim - own >= TRACK_MARGIN
            if own >= self.threshold or (own >= TRACK_FLOOR and not pulled):
                return Assignment(held, own, True)
            # Strongly contradicted (the tracker swapped people, or a cut): decide afresh.
        if best_sim >= self.threshold:
            return Assignment(self._ids[best], best_sim, True)
        return Assignment(None, best_sim, can_found(quality))

    def add(
        self,
        identity_id: int,
        embedding: np.ndarray,
        quality: float,
        track_key: tuple[int, int] | None = None,
    ) -> None:
        """Count a face the caller stored under `identity_id` (a new id creates the identity)."""
        e = unit(embedding).astype(np.float64)
        w = weight(quality)
        i = self._index.get(identity_id)
        if i is None:
            i = self._index[identity_id] = len(self._ids)
            self._ids.append(identity_id)
            self._named.append(False)
            self._grow(i + 1, len(e))
        self._sums[i] += w * e
        self._weights[i] += w
        self._centroids[i] = _normalised(self._sums[i : i + 1])[0]
        if track_key is not None:
            self._tracks[track_key] = identity_id

    def _grow(self, rows: int, dim: int) -> None:
        """Room for `rows` identities; storage doubles so adding stays cheap."""
        if rows <= len(self._sums):
            return
        capacity = max(rows, 2 * len(self._sums), 16)
        sums = np.zeros((capacity, dim), np.float64)
        sums[: len(self._sums)] = self._sums
        centroids = np.zeros((capacity, dim), np.float32)
        centroids[: len(self._centroids)] = self._centroids
        weights = np.zeros(capacity, np.float64)
        weights[: len(self._weights)] = self._weights
        self._sums, self._centroids, self._weights = sums, centroids, weights

    def forget(self, identity_id: int) -> None:
        """Drop an identity (deleted or merged away); its tracks start afresh."""
        i = self._index.pop(identity_id, None)
        if i is None:
            return
        del self._ids[i], self._named[i]
        n = len(self._ids)
        self._weights = np.delete(self._weights[: n + 1], i)
        self._sums = np.delete(self._sums[: n + 1], i, axis=0)
        self._centroids = np.delete(self._centroids[: n + 1], i, axis=0)
        self._index = {fid: j for j, fid in enumerate(self._ids)}
        self._tracks = {k: v for k, v in self._tracks.items() if v != identity_id}

    def centroid(self, identity_id: int) -> IdentityRef:
        i = self._index[identity_id]
        return IdentityRef(
            identity_id,
            self._centroids[i].astype(np.float32),
            float(self._weights[i]),
            self._named[i],
        )

    def identities(self) -> list[IdentityRef]:
        return [self.centroid(i) for i in self._ids]


def _normalised(sums: npt.NDArray[np.float64]) -> Vector:
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return (sums / np.where(norms > 0, norms, 1.0)).astype(np.float32)
