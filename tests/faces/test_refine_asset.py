"""The Dagster `face_identities` asset refines the recent window on demand: an identity the
live path split in two is merged back under the older id, and the merge is logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
from sqlalchemy import select

from pipelines.assets.faces import face_identities
from pipelines.definitions import defs
from pipelines.resources import DatabaseResource
from tests.faces.world import add_camera, add_user, identities, identity_of, store_faces, visit_rows
from vigil.db.models import FaceChange
from vigil.db.session import session_scope
from vigil.faces.store import LiveFaces
from vigil.storage import LocalObjectStore


def test_the_asset_merges_an_identity_split_live(database_url: str, tmp_path: Path) -> None:
    with session_scope(database_url) as session:
        owner = add_user(session, "owner@example.com")
        desk = add_camera(session, owner, "Desk")
    objects = LocalObjectStore(tmp_path / "objects")
    now = datetime.now(UTC).replace(microsecond=0)
    first = store_faces(
        database_url,
        objects,
        LiveFaces(),
        visit_rows(desk, "orl_s02", now - timedelta(hours=1), 5, track_id=1),
    )
    split_live = store_faces(
        database_url,
        objects,
        LiveFaces(threshold=0.999),  # founds an identity per face
        visit_rows(desk, "orl_s02", now - timedelta(minutes=30), 3, every=60, first_photo=5),
    )
    (kept,) = set(identity_of(database_url, first).values())
    assert len(identities(database_url, owner)) >= 3

    result = dg.materialize(
        [face_identities],
        resources={"database": DatabaseResource(url=database_url)},
        run_config={"ops": {"face_identities": {"config": {"window_hours": 2.0}}}},
    )
    assert result.success
    metadata = result.asset_materializations_for_node("face_identities")[0].metadata
    merges, faces = metadata["merges"], metadata["faces"]
    assert isinstance(merges, dg.IntMetadataValue) and isinstance(faces, dg.IntMetadataValue)
    assert (merges.value or 0) >= 2 and faces.value == 8
    assert set(identity_of(database_url, first + split_live).values()) == {kept}
    assert set(identities(database_url, owner)) == {kept}
    with session_scope(database_url) as session:
        logged = session.scalars(select(FaceChange).where(FaceChange.kind == "merge")).all()
        assert logged and {m.into_face_id for m in logged} == {kept}


def test_the_asset_is_scheduled_and_in_the_definitions() -> None:
    schedule = defs.get_schedule_def("face_identities_schedule")
    assert schedule.job_name == "face_identities_job"
    assert defs.get_assets_def("face_identities").key == dg.AssetKey("face_identities")
