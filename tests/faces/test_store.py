"""Identity stability through live assignment, refinement and a user's edits; delete and
retention remove rows and thumbnails. Real SFace embeddings, both databases, a real object
store directory."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from tests.faces.world import (
    T0,
    add_camera,
    add_user,
    identities,
    identity_of,
    store_faces,
    visit_rows,
)
from vigil.db.models import Camera, Face, FaceChange, FaceDetection, PendingDeletion
from vigil.db.session import session_factory, session_scope
from vigil.faces.edits import FaceEditError, delete_identity, merge, set_label, split
from vigil.faces.refinement import refine_all
from vigil.faces.store import LiveFaces
from vigil.media.paths import MediaPaths
from vigil.retention import RetentionPolicy, drain, sweep
from vigil.storage import LocalObjectStore


@pytest.fixture
def objects(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "objects")


@pytest.fixture
def world(database_url: str) -> tuple[int, int, int]:
    """(owner, desk camera, door camera) with face recognition on."""
    with session_scope(database_url) as session:
        owner = add_user(session, "owner@example.com")
        return owner, add_camera(session, owner, "Desk"), add_camera(session, owner, "Door")


def _ids(url: str, detection_ids: list[str]) -> set[int]:
    """The identities of stored detections (every one assigned)."""
    found = set(identity_of(url, detection_ids).values())
    assert None not in found, "a face was left unassigned"
    return {f for f in found if f is not None}


def test_new_faces_of_known_identities_keep_their_ids(
    database_url: str, objects: LocalObjectStore, world: tuple[int, int, int]
) -> None:
    owner, desk, door = world
    live = LiveFaces()
    a1 = store_faces(database_url, objects, live, visit_rows(desk, "orl_s01", T0, 4, track_id=1))
    b1 = store_faces(database_url, objects, live, visit_rows(desk, "orl_s02", T0, 4, track_id=2))
    (a,), (b,) = _ids(database_url, a1), _ids(database_url, b1)
    assert a is not None and b is not None and a != b
    # A restarted sink (state loaded from the table), other photos, another camera, no track.
    later = T0 + timedelta(hours=2)
    restarted = LiveFaces()
    a2 = visit_rows(door, "orl_s01", later, 5, first_photo=4)
    b2 = visit_rows(door, "orl_s02", later, 5, first_photo=4)
    a2_ids = store_faces(database_url, objects, restarted, a2)
    b2_ids = store_faces(database_url, objects, restarted, b2)
    assert _ids(database_url, a2_ids) == {a}
    assert _ids(database_url, b2_ids) == {b}
    faces = identities(database_url, owner)
    assert set(faces) == {a, b}
    assert faces[a].detection_count == 9
    assert (faces[a].first_seen_at, faces[a].last_seen_at) == (T0, later + timedelta(seconds=4))


def test_refinement_keeps_ids_and_merges_an_identity_split_live(
    database_url: str, objects: LocalObjectStore, world: tuple[int, int, int]
) -> None:
    owner, desk, _door = world
    live = LiveFaces()
    a_ids = store_faces(database_url, objects, live, visit_rows(desk, "orl_s01", T0, 6, track_id=1))
    c_ids = store_faces(database_url, objects, live, visit_rows(desk, "orl_s03", T0, 6, track_id=3))
    (a,), (c,) = _ids(database_url, a_ids), _ids(database_url, c_ids)
    # A sink with an absurd threshold founds a new identity per face of person C.
    strict = LiveFaces(threshold=0.999)
    later = T0 + timedelta(minutes=30)
    c_split = store_faces(
        database_url, objects, strict, visit_rows(desk, "orl_s03", later, 3, every=120)
    )
    assert len(_ids(database_url, c_split) - {c}) >= 2

    report = refine_all(session_factory(database_url), T0 - timedelta(hours=1))
    assert _ids(database_url, a_ids) == {a}
    assert _ids(database_url, c_ids + c_split) == {c}  # the older identity keeps its id
    assert set(identities(database_url, owner)) == {a, c}
    assert report.merges and all(into == c for _from, into in report.merges)
    with session_scope(database_url) as session:
        logged = session.scalars(select(FaceChange).where(FaceChange.kind == "merge")).all()
        assert {(m.face_id, m.into_face_id, m.source) for m in logged} == {
            (f, c, "refine") for f, _ in report.merges
        }
    again = refine_all(session_factory(database_url), T0 - timedelta(hours=1))
    assert not again.merges and again.reassigned == 0 and again.created == 0


def test_a_label_and_a_merge_survive_later_runs(
    database_url: str, objects: LocalObjectStore, world: tuple[int, int, int]
) -> None:
    owner, desk, door = world
    live = LiveFaces()
    a_ids = store_faces(database_url, objects, live, visit_rows(desk, "orl_s01", T0, 4, track_id=1))
    b_ids = store_faces(database_url, objects, live, visit_rows(desk, "orl_s02", T0, 4, track_id=2))
    c_ids = store_faces(database_url, objects, live, visit_rows(door, "orl_s03", T0, 4, track_id=3))
    (a,), (b,), (c,) = (_ids(database_url, x) for x in (a_ids, b_ids, c_ids))
    with session_scope(database_url) as session:
        set_label(session, session.get_one(Face, a), "Alice")
        # The user says B and C are one person (they are not: the user decides).
        merge(session, session.get_one(Face, c), session.get_one(Face, b))
    refine_all(session_factory(database_url), T0 - timedelta(hours=1))
    later = T0 + timedelta(hours=1)
    new_a = store_faces(
        database_url, objects, live, visit_rows(door, "orl_s01", later, 3, first_photo=6)
    )
    new_c = store_faces(
        database_url, objects, live, visit_rows(desk, "orl_s03", later, 3, first_photo=6)
    )
    refine_all(session_factory(database_url), T0 - timedelta(hours=1))
    faces = identities(database_url, owner)
    assert set(faces) == {a, b}
    assert (faces[a].label, faces[a].named) == ("Alice", True)
    assert _ids(database_url, a_ids + new_a) == {a}
    assert _ids(database_url, b_ids + c_ids + new_c) == {b}


def test_split_moves_exactly_the_chosen_detections(
    database_url: str, objects: LocalObjectStore, world: tuple[int, int, int]
) -> None:
    owner, desk, _door = world
    live = LiveFaces()
    ids = store_faces(database_url, objects, live, visit_rows(desk, "orl_s02", T0, 8, track_id=1))
    (b,) = _ids(database_url, ids)
    chosen = ids[2:5]
    with session_scope(database_url) as session:
        new = split(session, session.get_one(Face, b), chosen)
        new_id = new.id
    owner_of = identity_of(database_url, ids)
    assert {d for d, f in owner_of.items() if f == new_id} == set(chosen)
    assert {d for d, f in owner_of.items() if f == b} == set(ids) - set(chosen)
    faces = identities(database_url, owner)
    assert (faces[b].detection_count, faces[new_id].detection_count) == (5, 3)
    # Refinement leaves a user's split alone, and so does the live path for the split track.
    refine_all(session_factory(database_url), T0 - timedelta(hours=1))
    assert identity_of(database_url, ids) == owner_of
    with session_scope(database_url) as session:
        face = session.get_one(Face, b)
        with pytest.raises(FaceEditError, match="at least one"):
            split(session, face, [])
        with pytest.raises(FaceEditError, match="not detections of identity"):
            split(session, face, chosen[:1])
        with pytest.raises(FaceEditError, match="leave at least one"):
            split(session, face, [d for d, f in owner_of.items() if f == b])


def test_delete_removes_rows_and_thumbnails(
    database_url: str, objects: LocalObjectStore, world: tuple[int, int, int]
) -> None:
    owner, desk, _door = world
    live = LiveFaces()
    gone = store_faces(database_url, objects, live, visit_rows(desk, "orl_s01", T0, 4, track_id=1))
    kept = store_faces(database_url, objects, live, visit_rows(desk, "orl_s02", T0, 4, track_id=2))
    (a,) = _ids(database_url, gone)
    with session_scope(database_url) as session:
        keys = {k for k in session.scalars(select(FaceDetection.thumbnail_key)) if k}
        assert keys and all(objects.exists(k) for k in keys)
        journal = delete_identity(session, session.get_one(Face, a))
    drain(session_factory(database_url), objects, ids=journal)
    assert identity_of(database_url, gone) == {}
    assert a not in identities(database_url, owner)
    with session_scope(database_url) as session:
        left = set(session.scalars(select(FaceDetection.thumbnail_key)))
        assert session.scalar(select(func.count()).select_from(PendingDeletion)) == 0
    assert len(left) == len(kept)
    for key in keys:
        assert objects.exists(key) == (key in left)


def test_retention_expires_unlabelled_identities_and_keeps_labelled_ones(
    database_url: str, objects: LocalObjectStore, world: tuple[int, int, int], tmp_path: Path
) -> None:
    owner, desk, _door = world
    live = LiveFaces()
    old = T0 - timedelta(days=10)  # the camera keeps snapshots and thumbnails 7 days
    unnamed = store_faces(
        database_url, objects, live, visit_rows(desk, "orl_s01", old, 3, track_id=1)
    )
    named = store_faces(
        database_url, objects, live, visit_rows(desk, "orl_s02", old, 3, track_id=2)
    )
    recent = store_faces(
        database_url, objects, live, visit_rows(desk, "orl_s03", T0, 3, track_id=3)
    )
    (a,), (b,), (c,) = (_ids(database_url, x) for x in (unnamed, named, recent))
    with session_scope(database_url) as session:
        set_label(session, session.get_one(Face, b), "Bob")
        of_a = select(FaceDetection.thumbnail_key).where(FaceDetection.face_id == a)
        unnamed_keys = {k for k in session.scalars(of_a) if k}
    report = sweep(
        session_factory(database_url),
        objects,
        MediaPaths(tmp_path / "media"),
        tmp_path / "lake",
        RetentionPolicy(),
        now=T0 + timedelta(minutes=5),
    )
    assert report.deleted["face_identity"] == 1
    assert set(identities(database_url, owner)) == {b, c}
    assert identity_of(database_url, unnamed) == {}
    assert _ids(database_url, named) == {b} and _ids(database_url, recent) == {c}
    assert unnamed_keys and not any(objects.exists(k) for k in unnamed_keys)


def test_faces_of_a_camera_with_recognition_off_are_not_kept(
    database_url: str, objects: LocalObjectStore, world: tuple[int, int, int]
) -> None:
    owner, _desk, _door = world
    with session_scope(database_url) as session:
        private = add_camera(session, owner, "Bedroom", recognition=False)
    rows = visit_rows(private, "orl_s01", T0, 3, track_id=1)
    from vigil.streaming.store_output import StoreOutput, StoreWork

    not_kept = REGISTRY.get_sample_value("vigil_faces_not_kept_total") or 0.0
    output = StoreOutput(database_url, lambda: objects, "001")
    work = StoreWork(
        private, (), (), tuple({k: v for k, v in r.items() if k != "_jpeg"} for r in rows)
    )
    for row in rows:
        objects.put_bytes(row["thumbnail_key"], row["_jpeg"])
    output.pending.append(work)
    output.close()
    assert identity_of(database_url, [r["face_detection_id"] for r in rows]) == {}
    assert identities(database_url, owner) == {}
    assert not any(objects.exists(r["thumbnail_key"]) for r in rows)
    assert REGISTRY.get_sample_value("vigil_faces_not_kept_total") == not_kept + len(rows)


def test_identities_of_a_deleted_camera_expire_unless_labelled(
    database_url: str, objects: LocalObjectStore, world: tuple[int, int, int], tmp_path: Path
) -> None:
    owner, desk, door = world
    live = LiveFaces()
    at_door = store_faces(database_url, objects, live, visit_rows(door, "orl_s01", T0, 3))
    named = store_faces(database_url, objects, live, visit_rows(door, "orl_s02", T0, 3))
    at_desk = store_faces(database_url, objects, live, visit_rows(desk, "orl_s03", T0, 3))
    (a,), (b,), (c,) = (_ids(database_url, x) for x in (at_door, named, at_desk))
    with session_scope(database_url) as session:
        set_label(session, session.get_one(Face, b), "Bea")
        session.delete(session.get_one(Camera, door))  # its face rows go with it
    sweep(
        session_factory(database_url),
        objects,
        MediaPaths(tmp_path / "media"),
        tmp_path / "lake",
        RetentionPolicy(),
        now=T0 + timedelta(minutes=5),
    )
    assert set(identities(database_url, owner)) == {b, c}
    assert a not in identities(database_url, owner)
