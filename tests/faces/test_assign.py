"""Live assignment on real SFace embeddings: nearest identity, founding, the quality gate, track
continuity and named identities."""

from __future__ import annotations

import numpy as np

from tests.faces.samples import faces
from vigil.faces.assign import DEFAULT_THRESHOLD, IdentityRef, LiveAssigner, unit
from vigil.faces.quality import FOUND_MIN_QUALITY, weight


def found_identities(assigner: LiveAssigner, person_faces: dict[str, list]) -> dict[str, set[int]]:
    """Feed people interleaved, as a camera sees them; return the identities each one got."""
    got: dict[str, set[int]] = {}
    next_id = 1
    rounds = max(len(v) for v in person_faces.values())
    for k in range(rounds):
        for person, items in person_faces.items():
            if k >= len(items):
                continue
            face = items[k]
            result = assigner.assign(face.embedding, face.quality)
            fid = result.identity_id
            if fid is None:
                assert result.accepted
                fid, next_id = next_id, next_id + 1
            assigner.add(fid, face.embedding, face.quality)
            got.setdefault(person, set()).add(fid)
    return got


def test_each_person_gets_one_identity_of_their_own() -> None:
    people = faces()
    got = found_identities(LiveAssigner([]), people)
    assert set(got) == set(people)
    for person, ids in got.items():
        assert len(ids) == 1, (person, ids)
    assert len(set.union(*got.values())) == len(people)


def test_a_new_face_joins_the_nearest_identity_within_the_threshold() -> None:
    a, b = faces()["orl_s03"], faces()["orl_s11"]
    assigner = LiveAssigner(
        [
            IdentityRef(7, a[0].embedding, weight(a[0].quality), named=False),
            IdentityRef(9, b[0].embedding, weight(b[0].quality), named=False),
        ]
    )
    result = assigner.assign(a[1].embedding, a[1].quality)
    assert (result.identity_id, result.accepted) == (7, True)
    assert result.similarity >= DEFAULT_THRESHOLD
    stranger = faces()["John_Savage"][0]
    result = assigner.assign(stranger.embedding, stranger.quality)
    assert (result.identity_id, result.accepted) == (None, True)
    assert result.similarity < DEFAULT_THRESHOLD


def test_a_poor_face_never_founds_an_identity_but_may_join_one() -> None:
    a = faces()["orl_s07"]
    assigner = LiveAssigner([])
    poor = FOUND_MIN_QUALITY / 2
    result = assigner.assign(a[0].embedding, poor)
    assert (result.identity_id, result.accepted) == (None, False)
    assigner.add(3, a[0].embedding, a[0].quality)
    result = assigner.assign(a[1].embedding, poor)
    assert (result.identity_id, result.accepted) == (3, True)


def test_adding_faces_moves_the_centroid_and_sums_the_weights() -> None:
    a = faces()["orl_s15"]
    assigner = LiveAssigner([])
    assigner.add(5, a[0].embedding, a[0].quality)
    first = assigner.centroid(5)
    assert np.allclose(first.centroid, unit(a[0].embedding), atol=1e-5)
    assigner.add(5, a[1].embedding, a[1].quality)
    ref = assigner.centroid(5)
    assert ref.weight == weight(a[0].quality) + weight(a[1].quality)
    assert abs(float(np.linalg.norm(ref.centroid)) - 1) < 1e-5
    assert float(ref.centroid @ unit(a[1].embedding)) > float(first.centroid @ unit(a[1].embedding))
    assert not ref.named


def blend_towards(base: np.ndarray, other: np.ndarray, similarity: float) -> np.ndarray:
    """A unit vector between two embeddings whose similarity to `base` is about `similarity`."""
    for alpha in np.linspace(1, 0, 201):
        v = unit(alpha * base + (1 - alpha) * other)
        if float(v @ unit(base)) <= similarity:
            return v
    raise AssertionError("no blend reaches that similarity")


def test_faces_of_one_track_stay_together_unless_strongly_contradicted() -> None:
    a, b, c = faces()["orl_s03"][0], faces()["orl_s11"][0], faces()["John_Simm"][0]
    assigner = LiveAssigner([])
    assigner.add(1, a.embedding, a.quality, track_key=(4, 17))
    assigner.add(2, b.embedding, b.quality)
    # A weak view of the track's person (turned head, blur): alone it would found a new identity.
    weak = blend_towards(a.embedding, c.embedding, DEFAULT_THRESHOLD - 0.1)
    assert assigner.assign(weak, 0.5).identity_id is None
    assert assigner.assign(weak, 0.5, track_key=(4, 17)).identity_id == 1
    assert assigner.assign(weak, 0.5, track_key=(5, 17)).identity_id is None  # other camera
    # Another known person under the track (the tracker swapped people): the evidence wins.
    swapped = assigner.assign(faces()["orl_s11"][1].embedding, 0.8, track_key=(4, 17))
    assert swapped.identity_id == 2


def test_named_identities_are_matched_and_reported_as_named() -> None:
    a = faces()["orl_s07"]
    assigner = LiveAssigner([IdentityRef(42, a[0].embedding, 3.0, named=True)])
    assert assigner.assign(a[2].embedding, a[2].quality).identity_id == 42
    assigner.add(42, a[2].embedding, a[2].quality)
    ref = assigner.centroid(42)
    assert ref.named
    assert ref.weight == 3.0 + weight(a[2].quality)
    assert [r.id for r in assigner.identities()] == [42]


def test_a_forgotten_identity_no_longer_matches_and_frees_its_tracks() -> None:
    a = faces()["orl_s15"]
    assigner = LiveAssigner([])
    assigner.add(1, a[0].embedding, a[0].quality, track_key=(1, 1))
    assigner.forget(1)
    assert len(assigner) == 0
    assert assigner.assign(a[1].embedding, a[1].quality, track_key=(1, 1)).identity_id is None


def test_a_track_that_now_shows_a_stranger_founds_a_new_identity() -> None:
    # A playlist cut or a tracker swap: the box goes on, the face is someone else entirely.
    a, stranger = faces()["orl_s03"][0], faces()["John_Savage"][0]
    assigner = LiveAssigner([])
    assigner.add(1, a.embedding, a.quality, track_key=(2, 3))
    result = assigner.assign(stranger.embedding, stranger.quality, track_key=(2, 3))
    assert (result.identity_id, result.accepted) == (None, True)
    assigner.add(2, stranger.embedding, stranger.quality, track_key=(2, 3))
    again = faces()["John_Savage"][1]
    assert assigner.assign(again.embedding, again.quality, track_key=(2, 3)).identity_id == 2
