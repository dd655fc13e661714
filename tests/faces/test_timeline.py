"""The face timeline through the API: visits in time order, a gap ends a visit, time, camera
and identity filters, and each appearance linked to the events and clips covering it."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.faces.test_api_faces import API, camera
from tests.faces.world import T0, add_event, store_faces, visit_rows
from vigil.db.session import session_scope
from vigil.faces.store import LiveFaces
from vigil.settings import Settings
from vigil.storage.factory import object_store_from_settings


def _store(settings: Settings, live: LiveFaces, rows: list[dict]) -> list[str]:
    store = object_store_from_settings(settings)
    return store_faces(settings.resolved_database_url, store, live, rows)


def test_visits_order_gaps_filters_and_covering_clips(
    client: TestClient, alice: dict, settings: Settings
) -> None:
    live = LiveFaces()
    desk, door = camera(client, alice, "Desk"), camera(client, alice, "Door")
    gap = timedelta(seconds=settings.face_visit_gap_seconds)
    # A at the desk for 5 s, away longer than the gap, back for 3 s; B at the door in between.
    a1 = _store(settings, live, visit_rows(desk, "orl_s01", T0, 5, track_id=1))
    back = T0 + timedelta(seconds=4) + gap + timedelta(seconds=10)
    a2 = _store(settings, live, visit_rows(desk, "orl_s01", back, 3, track_id=7, first_photo=5))
    b1 = _store(
        settings, live, visit_rows(door, "orl_s02", T0 + timedelta(seconds=20), 4, track_id=2)
    )
    with session_scope(settings.resolved_database_url) as session:
        # covers A's first visit from its 2nd to 4th second; one without a clip covers B;
        # one at the desk long before covers nothing.
        covering, clip = add_event(
            session, desk, T0 + timedelta(seconds=1), T0 + timedelta(seconds=3), clip=True
        )
        at_door, _ = add_event(session, door, T0 + timedelta(seconds=19), None, clip=False)
        add_event(session, desk, T0 - timedelta(hours=1), T0 - timedelta(minutes=59), clip=True)

    params = {"since": T0.isoformat(), "until": (T0 + timedelta(hours=1)).isoformat()}
    response = client.get(f"{API}/faces/timeline", params=params, headers=alice)
    assert response.status_code == 200, response.text
    body = response.json()
    visits = body["visits"]
    assert body["truncated"] is False
    starts = [v["start"] for v in visits]
    assert starts == sorted(starts)
    a = visits[0]["face_id"]
    shape = [(v["face_id"] == a, v["camera_id"], len(v["appearances"])) for v in visits]
    assert shape == [(True, desk, 5), (False, door, 4), (True, desk, 3)]
    assert [x["detection_id"] for x in visits[0]["appearances"]] == a1
    assert [x["detection_id"] for x in visits[1]["appearances"]] == b1
    assert [x["detection_id"] for x in visits[2]["appearances"]] == a2

    first = visits[0]
    assert [e["id"] for e in first["events"]] == [covering]
    assert first["events"][0]["clip_url"] == f"{API}/clips/{clip}"
    covered = [x["event_ids"] for x in first["appearances"]]
    assert covered == [[], [covering], [covering], [covering], []]
    assert [e["id"] for e in visits[1]["events"]] == [at_door]
    assert visits[1]["events"][0]["clip_url"] is None
    assert all(x["event_ids"] == [at_door] for x in visits[1]["appearances"])
    assert visits[2]["events"] == []
    thumb = client.get(first["thumbnail_url"], headers=alice)
    assert thumb.status_code == 200 and thumb.content[:2] == b"\xff\xd8"

    def shape_of(**extra: object) -> list[tuple[int, int]]:
        got = client.get(f"{API}/faces/timeline", params={**params, **extra}, headers=alice)
        assert got.status_code == 200, got.text
        return [(v["camera_id"], len(v["appearances"])) for v in got.json()["visits"]]

    assert shape_of(camera_id=door) == [(door, 4)]
    assert shape_of(face_id=a) == [(desk, 5), (desk, 3)]
    assert shape_of(until=(T0 + timedelta(seconds=2)).isoformat()) == [(desk, 2)]
    assert shape_of(since=back.isoformat()) == [(desk, 3)]
    assert shape_of(limit=6) == [(desk, 5), (door, 1)]
    cut = client.get(f"{API}/faces/timeline", params={**params, "limit": 6}, headers=alice)
    assert cut.json()["truncated"] is True


def test_a_visit_continues_across_tracks_within_the_gap(
    client: TestClient, alice: dict, settings: Settings
) -> None:
    live = LiveFaces()
    desk = camera(client, alice, "Desk")
    gap = settings.face_visit_gap_seconds
    _store(settings, live, visit_rows(desk, "orl_s03", T0, 3, track_id=1))
    later = T0 + timedelta(seconds=2 + gap / 2)
    _store(settings, live, visit_rows(desk, "orl_s03", later, 3, track_id=2, first_photo=3))
    visits = client.get(
        f"{API}/faces/timeline",
        params={"since": T0.isoformat(), "until": (T0 + timedelta(hours=1)).isoformat()},
        headers=alice,
    ).json()["visits"]
    assert [len(v["appearances"]) for v in visits] == [6]
    assert visits[0]["start"].startswith("2026-11-25T12:00:00")
