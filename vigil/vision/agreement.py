"""How closely a cheaper detection configuration follows a reference run on the same frames.

The reference is the most expensive configuration (fp32, the whole frame at 640, every frame);
the accuracy guard of the cheaper defaults is measured against it, by tests and benchmarks:
- recall: of the people the reference detected with score >= `min_score` on a frame, the share
  the candidate reported on that frame (any reported person, detected or carried by the
  tracker through a gated frame) with IoU >= `iou`;
- precision: of the people the candidate reported, the share matching any person the
  reference reported on that frame;
- fragmentation: distinct track ids of each run (more ids for the same people: broken tracks).

`people_found` is the per-frame recall count, shared with the live check of a camera's
detection path (vigil.vision.detection_path).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vigil.vision.types import BBox, FrameAnalysis


@dataclass(frozen=True, slots=True)
class Agreement:
    frames: int
    reference_people: int  # (frame, person) pairs of the reference with score >= min_score
    recall: float
    precision: float
    reference_tracks: int
    tracks: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "frames": self.frames,
            "reference_people": self.reference_people,
            "recall": round(self.recall, 4),
            "precision": round(self.precision, 4),
            "reference_tracks": self.reference_tracks,
            "tracks": self.tracks,
        }


def _matched(box: BBox, others: Sequence[BBox], iou: float) -> bool:
    return any(box.iou(o) >= iou for o in others)


def people_found(
    reference: Sequence[tuple[BBox, float]],
    candidate: Sequence[BBox],
    *,
    min_score: float = 0.5,
    iou: float = 0.5,
) -> tuple[int, int]:
    """On one frame: the reference's people (box, score) with score >= `min_score`, and how
    many of them the candidate has (a box with IoU >= `iou`)."""
    wanted = [box for box, score in reference if score >= min_score]
    return len(wanted), sum(_matched(box, candidate, iou) for box in wanted)


def _tracks(run: Sequence[FrameAnalysis]) -> int:
    return len({p.track_id for f in run for p in f.persons if p.track_id is not None})


def agreement(
    reference: Sequence[FrameAnalysis],
    candidate: Sequence[FrameAnalysis],
    *,
    min_score: float = 0.5,
    iou: float = 0.5,
) -> Agreement:
    """Compare two runs over the same frames (matched by frame index)."""
    if [f.frame_index for f in reference] != [f.frame_index for f in candidate]:
        raise ValueError("the runs must cover the same frames")
    wanted = found = reported = correct = 0
    for ref, cand in zip(reference, candidate, strict=True):
        ours = [p.bbox for p in cand.persons]
        theirs = [p.bbox for p in ref.persons]
        people = [(p.bbox, p.score) for p in ref.persons if p.detected]
        frame_wanted, frame_found = people_found(people, ours, min_score=min_score, iou=iou)
        wanted, found = wanted + frame_wanted, found + frame_found
        reported += len(ours)
        correct += sum(_matched(box, theirs, iou) for box in ours)
    return Agreement(
        frames=len(reference),
        reference_people=wanted,
        recall=found / wanted if wanted else 1.0,
        precision=correct / reported if reported else 1.0,
        reference_tracks=_tracks(reference),
        tracks=_tracks(candidate),
    )
