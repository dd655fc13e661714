"""Batch clustering and refinement plans on real SFace embeddings: people apart, stable ids,
merges, splits, named identities, returning people, incremental refinement and noise."""

from __future__ import annotations

import numpy as np

from tests.faces.samples import PEOPLE, Face, faces, sample
from vigil.faces.assign import IdentityRef, unit
from vigil.faces.cluster import FaceSample, RefinePlan, cluster, refine
from vigil.faces.quality import weight


def correctly_assigned(first_id: int = 10) -> list[FaceSample]:
    """Every face of PEOPLE under its own identity (ids first_id, first_id + 1, ...)."""
    return [
        sample(face, f"{person}/{k}", first_id + n, minutes=k)
        for n, person in enumerate(PEOPLE)
        for k, face in enumerate(faces()[person])
    ]


def test_clusters_match_people() -> None:
    samples = correctly_assigned()
    labels = cluster(samples)
    by_person: dict[str, set[int]] = {}
    for s in samples:
        by_person.setdefault(s.detection_id.split("/")[0], set()).add(labels[s.detection_id])
    assert all(len(v) == 1 for v in by_person.values()), by_person
    assert len(set.union(*by_person.values())) == len(PEOPLE)
    assert -1 not in labels.values()


def test_refining_a_correct_grouping_changes_nothing() -> None:
    assert refine(correctly_assigned(), set()) == RefinePlan({}, [], [])


def test_two_identities_of_one_person_merge_into_the_heavier() -> None:
    samples = correctly_assigned()
    a = faces()["orl_s03"]
    split_off = {f"orl_s03/{k}" for k in range(len(a) - 3, len(a))}
    samples = [
        FaceSample(s.detection_id, s.embedding, s.quality, 1, None, s.ts, 99)
        if s.detection_id in split_off
        else s
        for s in samples
    ]
    plan = refine(samples, set())
    assert plan.merges == [(99, 11)]
    assert plan.assignments == {}  # the faces move with the merge
    assert plan.splits == []


def test_a_named_identity_is_kept_and_never_merged_away() -> None:
    samples = correctly_assigned()
    moved = {"orl_s03/0", "orl_s03/1"}
    samples = [
        FaceSample(s.detection_id, s.embedding, s.quality, 1, None, s.ts, 77)
        if s.detection_id in moved
        else s
        for s in samples
    ]
    assert refine(samples, {77}).merges == [(11, 77)]  # the lighter, named one keeps the person
    assert refine(samples, {77, 11}).merges == []  # two labels: the user decides


def test_a_wrong_identity_is_split_and_exactly_the_stray_faces_move() -> None:
    samples = correctly_assigned()
    strays = [f"orl_s07/{k}" for k in range(3)]
    samples = [
        FaceSample(s.detection_id, s.embedding, s.quality, 1, None, s.ts, 10)
        if s.detection_id in strays
        else s
        for s in samples
    ]
    plan = refine(samples, set())
    assert plan.splits == [(10, strays)]
    assert plan.assignments == dict.fromkeys(strays, 12)  # back to orl_s07's identity
    assert plan.merges == []


def test_a_person_with_no_identity_of_their_own_is_split_into_a_new_one() -> None:
    samples = [s for s in correctly_assigned() if not s.detection_id.startswith("John_Simm")]
    simm = [
        sample(face, f"simm/{k}", 10, minutes=100 + k)
        for k, face in enumerate(faces()["John_Simm"])
    ]
    plan = refine(samples + simm, set())
    moved = [s.detection_id for s in simm]
    assert plan.splits == [(10, moved)]
    assert plan.assignments == dict.fromkeys(moved, "new:0")
    assert plan.merges == []


def test_a_returning_person_keeps_their_id() -> None:
    a = faces()["orl_s11"]
    early = [sample(f, f"early/{k}", 13, minutes=k) for k, f in enumerate(a[:5])]
    late = [sample(f, f"late/{k}", None, minutes=600 + k) for k, f in enumerate(a[5:])]
    others = [s for s in correctly_assigned() if not s.detection_id.startswith("orl_s11")]
    plan = refine(others + early + late, set())
    assert plan.assignments == {s.detection_id: 13 for s in late}
    assert (plan.merges, plan.splits) == ([], [])


def anchor(fid: int, items: list[Face], named: bool = False) -> IdentityRef:
    total = sum(weight(f.quality) for f in items)
    centroid = unit(sum(weight(f.quality) * unit(f.embedding) for f in items))
    return IdentityRef(fid, centroid, total, named)


def test_incremental_refinement_places_new_faces_against_identity_anchors() -> None:
    people = faces()
    known = [anchor(10 + n, people[p][:-2]) for n, p in enumerate(PEOPLE[:-1])]
    new = [
        sample(f, f"{p}/{k}", None, minutes=k) for p in PEOPLE for k, f in enumerate(people[p][-2:])
    ]
    plan = refine(new, set(), identities=known)
    for n, p in enumerate(PEOPLE[:-1]):
        assert {plan.assignments[f"{p}/{k}"] for k in range(2)} == {10 + n}
    assert {plan.assignments[f"{PEOPLE[-1]}/{k}"] for k in range(2)} == {"new:0"}
    assert plan.merges == []


def test_faces_of_one_track_group_together_and_a_lone_poor_face_is_noise() -> None:
    people = faces()
    track = [
        sample(f, f"t/{k}", None, track_id=5, minutes=k)
        for k, f in enumerate(people["John_Savage"][:4])
    ]
    others = [s for s in correctly_assigned() if s.detection_id.startswith("orl_s03")]
    lone = sample(people["orl_s15"][0], "lone", None, quality=0.05)
    labels = cluster(track + others + [lone])
    assert len({labels[s.detection_id] for s in track}) == 1
    assert labels["lone"] == -1
    assert labels[track[0].detection_id] != labels[others[0].detection_id]


def test_large_windows_are_pregrouped_and_still_separate_people() -> None:
    rng = np.random.default_rng(9)
    samples = []
    for n, person in enumerate(PEOPLE):
        for k, face in enumerate(faces()[person]):
            for j in range(80):
                jitter = unit(face.embedding + rng.normal(0, 0.02, face.embedding.shape))
                samples.append(sample(Face(person, jitter, face.quality), f"{person}/{k}/{j}", n))
    assert len(samples) > 4000
    labels = cluster(samples)
    by_person: dict[str, set[int]] = {}
    for s in samples:
        by_person.setdefault(s.detection_id.split("/")[0], set()).add(labels[s.detection_id])
    assert all(len(v) == 1 for v in by_person.values())
    assert len(set.union(*by_person.values())) == len(PEOPLE)


def test_empty_and_single_windows() -> None:
    assert cluster([]) == {}
    assert refine([], set()) == RefinePlan({}, [], [])
    one = sample(faces()["orl_s03"][0], "only", None, quality=0.9)
    assert cluster([one]) == {"only": 0}
    assert refine([one], set()).assignments == {"only": "new:0"}
