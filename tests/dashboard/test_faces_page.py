"""The Faces screen in Chromium: the desk camera's identities on the timeline strip, a click on
one plays the clip covering its faces, and a label, a merge and a split (after confirmation)
work."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.conftest import Stack, choose, log_in, new_email, open_screen, settled
from tests.dashboard.footage import Footage
from tests.faces.world import store_faces, visit_rows
from vigil.faces.store import LiveFaces
from vigil.storage.local import LocalObjectStore


def _desk(stack: Stack, token: str) -> int:
    response = httpx.post(
        f"{stack.api_url}/api/v1/cameras",
        json={"name": "Demo desk", "stream_url": "rtsp://cam.local/desk", "face_recognition": True},
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return int(response.json()["id"])


def _faces(stack: Stack, token: str) -> dict[int, str]:
    response = httpx.get(
        f"{stack.api_url}/api/v1/faces", headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    return {f["id"]: f["label"] for f in response.json()["items"]}


def test_faces_page_shows_identities_plays_a_clip_labels_and_merges(
    page: Page, stack: Stack, footage: Footage
) -> None:
    email = new_email("faces")
    token = stack.token(email)
    desk = _desk(stack, token)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    objects = LocalObjectStore(stack.data_dir / "objects")
    live = LiveFaces()
    first = visit_rows(desk, "orl_s01", start + timedelta(seconds=1), 3, track_id=1)
    store_faces(stack.database_url, objects, live, first)
    later = start + timedelta(minutes=10)
    store_faces(
        stack.database_url, objects, live, visit_rows(desk, "orl_s02", later, 3, track_id=2)
    )
    footage.add_event(stack.database_url, stack.data_dir, desk, start=start)
    faces = _faces(stack, token)
    assert len(faces) == 2
    first_id, second_id = sorted(faces)

    log_in(page, stack, email)
    open_screen(page, "Faces")
    strip = page.locator(".face-strip")
    expect(strip.locator(".visit")).to_have_count(2)
    expect(strip.locator("img.face-thumb").first).to_have_js_property("complete", True)
    assert strip.locator("img.face-thumb").first.evaluate("i => i.naturalWidth") > 0
    card = page.locator(f".st-key-identity_{first_id}")
    expect(card.get_by_text(f"Unknown #{first_id}")).to_be_visible()
    expect(page.locator(f".st-key-identity_{second_id}")).to_be_visible()

    card.get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name=f"Unknown #{first_id}")).to_be_visible()
    clip = page.locator("video.face-clip")
    expect(clip).to_have_count(1)
    clip.evaluate(
        "v => v.readyState >= 1 ? null : new Promise((ok, fail) => {"
        "  v.addEventListener('loadedmetadata', ok, {once: true});"
        "  v.addEventListener('error', () => fail(new Error('clip failed to load')), {once: true});"
        "})"
    )
    assert clip.evaluate("v => v.duration") == pytest.approx(4.0, abs=0.5)
    clip.evaluate(
        "v => { v.muted = true; return v.play().then(() => new Promise(done => {"
        "  const check = () => v.currentTime > 0 ? done() : requestAnimationFrame(check);"
        "  check();"
        "})); }"
    )

    settled(page)
    page.get_by_role("textbox", name="Label").fill("Ana")
    page.get_by_role("button", name="Save label").click()
    expect(page.get_by_text("Saved the label of")).to_be_visible()
    expect(page.get_by_role("heading", name="Ana")).to_be_visible()
    assert _faces(stack, token)[first_id] == "Ana"

    choose(page, "Merge into", f"Unknown #{second_id}")
    page.get_by_role("button", name="Merge…").click()
    expect(page.get_by_text(f"Merge Ana into Unknown #{second_id}?")).to_be_visible()
    page.get_by_role("button", name="Yes, merge").click()
    expect(page.get_by_text("Merged Ana into Ana.")).to_be_visible()
    expect(strip.locator(".visit")).to_have_count(2)  # both visits, one identity now
    expect(page.locator(f".st-key-identity_{first_id}")).to_have_count(0)
    assert _faces(stack, token) == {second_id: "Ana"}  # the name carried over


def _detections(stack: Stack, token: str, face_id: int) -> list[str]:
    response = httpx.get(
        f"{stack.api_url}/api/v1/faces/{face_id}", headers={"Authorization": f"Bearer {token}"}
    )
    response.raise_for_status()
    return [d["id"] for d in response.json()["detections"]]  # newest first


def test_faces_page_splits_the_chosen_faces_into_a_new_identity(page: Page, stack: Stack) -> None:
    email = new_email("split")
    token = stack.token(email)
    desk = _desk(stack, token)
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=20)
    objects = LocalObjectStore(stack.data_dir / "objects")
    store_faces(
        stack.database_url, objects, LiveFaces(), visit_rows(desk, "orl_s01", start, 4, track_id=1)
    )
    (face_id,) = _faces(stack, token)
    newest_first = _detections(stack, token, face_id)
    assert len(newest_first) == 4

    log_in(page, stack, email)
    open_screen(page, "Faces")
    page.locator(f".st-key-identity_{face_id}").get_by_role("button", name="Open").click()
    expect(page.get_by_role("heading", name=f"Unknown #{face_id}")).to_be_visible()
    choose(page, "Split off faces", "1. ")  # the gallery's numbers: the two newest faces
    choose(page, "Split off faces", "2. ")
    page.keyboard.press("Escape")  # close the list, which covers the buttons below it
    settled(page)
    page.get_by_role("button", name="Split…").click()
    expect(
        page.get_by_text(f"Split 2 faces off Unknown #{face_id} into a new identity?")
    ).to_be_visible()
    page.get_by_role("button", name="Yes, split").click()
    done = page.get_by_text(
        re.compile(rf"Split 2 faces off Unknown #{face_id} into Unknown #\d+\.")
    )
    expect(done).to_be_visible()

    (new_id,) = set(_faces(stack, token)) - {face_id}
    expect(page.get_by_role("heading", name=f"Unknown #{new_id}")).to_be_visible()
    assert sorted(_detections(stack, token, new_id)) == sorted(newest_first[:2])
    assert sorted(_detections(stack, token, face_id)) == sorted(newest_first[2:])
