"""Live, Events, Zones and Stats with real media: HLS cut by ffmpeg into the API's media dir,
clips and snapshots in its object store, events in its database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.conftest import Stack, choose, log_in, new_email, open_screen, settled
from tests.dashboard.footage import Footage
from vigil.stats import write_hourly_stats

pytestmark = pytest.mark.browser


def test_live_plays_hls_and_falls_back_to_the_snapshot(
    page: Page, stack: Stack, footage: Footage
) -> None:
    email = new_email("live")
    token = stack.token(email)
    playing = stack.add_camera(token, "Driveway")
    footage.publish_live(stack.media_dir, playing)
    pictured = stack.add_camera(token, "Back yard")
    footage.publish_snapshot(stack.media_dir, pictured)
    waiting = stack.add_camera(token, "Garage")

    log_in(page, stack, email)
    grid = page.frame_locator("iframe[title='Live view of 3 cameras']")
    tile = grid.locator(f".tile[data-camera='{playing}']")
    expect(tile).to_have_attribute("data-mode", "live")
    video = tile.locator("video")
    expect(video).to_have_attribute("data-player", "hls")  # hls.js attached, not native HLS
    assert grid.locator("body").evaluate("() => typeof Hls === 'function' && Hls.isSupported()")
    start = video.evaluate("v => v.currentTime")
    video.evaluate(
        "(v, start) => new Promise(done => {"
        "  const check = () => v.currentTime > start ? done() : requestAnimationFrame(check);"
        "  check();"
        "})",
        start,
    )
    assert video.evaluate("v => v.readyState") >= 2

    pictured_tile = grid.locator(f".tile[data-camera='{pictured}']")
    expect(pictured_tile).to_have_attribute("data-mode", "snapshot")
    snapshot = pictured_tile.get_by_role("img", name="Latest picture from Back yard")
    expect(snapshot).to_be_visible()
    assert snapshot.evaluate("img => img.naturalWidth") > 0

    waiting_tile = grid.locator(f".tile[data-camera='{waiting}']")
    expect(waiting_tile.get_by_text("Waiting for the first picture")).to_be_visible()


def test_events_list_filters_pages_and_plays_the_clip(
    page: Page, stack: Stack, footage: Footage
) -> None:
    email = new_email("events")
    token = stack.token(email)
    front = stack.add_camera(token, "Front door")
    newest = footage.add_event(stack.database_url, stack.data_dir, front)
    start = datetime.now(UTC) - timedelta(hours=2)
    for minute in range(24):  # older motion events without clips, to page through
        footage.add_event(
            stack.database_url,
            stack.data_dir,
            front,
            start=start - timedelta(minutes=minute),
            kind="motion",
            with_clip=False,
        )

    log_in(page, stack, email)
    open_screen(page, "Events")
    expect(page.get_by_text("Showing 21 events, newest first")).to_be_visible()
    card = page.locator(f".st-key-event_{newest}")
    expect(card.get_by_text("Intrusion", exact=True)).to_be_visible()
    expect(card.get_by_text("Front door")).to_be_visible()
    clip = card.locator("video.event-clip")
    expect(clip).to_have_attribute("preload", "metadata")
    clip.evaluate(
        "v => v.readyState >= 1 ? null : new Promise((ok, fail) => {"
        "  v.addEventListener('loadedmetadata', ok, {once: true});"
        "  v.addEventListener('error', () => fail(new Error('clip failed to load')), {once: true});"
        "})"
    )
    assert clip.evaluate("v => v.duration") == pytest.approx(4.0, abs=0.5)
    # Playing it goes on through Range requests, via the dashboard's passthrough.
    clip.evaluate(
        "v => { v.muted = true; return v.play().then(() => new Promise(done => {"
        "  const check = () => v.currentTime > 0 ? done() : requestAnimationFrame(check);"
        "  check();"
        "})); }"
    )

    page.get_by_role("button", name="Load more events").click()
    expect(page.get_by_text("Showing 25 events, newest first")).to_be_visible()
    expect(page.get_by_role("button", name="Load more events")).to_have_count(0)
    settled(page)

    choose(page, "Clip", "With a clip")
    expect(page.get_by_text("Showing 1 event, newest first")).to_be_visible()


def test_events_page_shows_and_filters_face_events(
    page: Page, stack: Stack, footage: Footage
) -> None:
    email = new_email("faceevents")
    front = stack.add_camera(stack.token(email), "Front door")
    intrusion = footage.add_event(stack.database_url, stack.data_dir, front, with_clip=False)
    face = footage.add_event(
        stack.database_url,
        stack.data_dir,
        front,
        start=datetime.now(UTC) - timedelta(minutes=10),
        kind="face",
        with_clip=False,
    )
    log_in(page, stack, email)
    open_screen(page, "Events")
    expect(page.get_by_text("Showing 2 events, newest first")).to_be_visible()
    card = page.locator(f".st-key-event_{face}")
    expect(card.get_by_text("Face", exact=True)).to_be_visible()
    expect(card.get_by_text("A face appeared", exact=False)).to_be_visible()
    choose(page, "Type", "Face")
    expect(page.get_by_text("Showing 1 event, newest first")).to_be_visible()
    expect(page.locator(f".st-key-event_{intrusion}")).to_have_count(0)


def test_zones_preview_create_and_refuse_a_bad_polygon(
    page: Page, stack: Stack, footage: Footage
) -> None:
    email = new_email("zones")
    token = stack.token(email)
    camera = stack.add_camera(token, "Shop floor")
    footage.publish_snapshot(stack.media_dir, camera)

    log_in(page, stack, email)
    open_screen(page, "Zones")
    expect(page.get_by_text("No zones yet")).to_be_visible()
    preview = page.get_by_test_id("stImage").locator("img")
    expect(page.get_by_text("Latest picture; the zone being edited is yellow.")).to_be_visible()
    before = preview.get_attribute("src")

    page.get_by_role("textbox", name="Zone name", exact=True).fill("Till")
    points = page.get_by_role("textbox", name="Points, one “x, y” per line", exact=True)
    points.fill("0.1, 0.1\n0.9, 0.9\n0.9, 0.1\n0.1, 0.9")  # a bow tie: crosses itself
    points.press("Control+Enter")  # apply, as a user would (or by leaving the field)
    expect(preview).not_to_have_attribute("src", before or "")  # the draft is drawn
    page.get_by_role("button", name="Save zone").click()
    expect(page.get_by_text("crosses the edge from point")).to_be_visible()

    points.fill("0.2, 0.2\n0.6, 0.2\n0.6, 0.7\n0.2, 0.7")
    points.press("Control+Enter")
    page.get_by_role("button", name="Save zone").click()
    expect(page.get_by_text("Zone “Till” saved.")).to_be_visible()
    zone = page.locator("[class*='st-key-zone_']").filter(has_text="Till")
    expect(zone.get_by_text("intrusion alerts on · after 1 s inside")).to_be_visible()

    zone.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete zone").click()
    expect(page.get_by_text("Zone “Till” deleted.")).to_be_visible()
    expect(page.get_by_text("No zones yet")).to_be_visible()


def test_stats_chart_computed_hours_and_count_newer_ones_from_events(
    page: Page, stack: Stack, footage: Footage
) -> None:
    email = new_email("stats")
    token = stack.token(email)
    now = datetime.now(UTC)
    computed = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)
    for name, (intrusions, motions) in (("North", (2, 1)), ("South", (0, 1))):
        camera = stack.add_camera(token, name)
        # An hour the batch job has computed, as it leaves it in the lake...
        write_hourly_stats(
            stack.data_dir / "lake",
            {
                "camera_id": camera, "hour_start": computed, "frames": 3600,
                "detector_frames": 900, "detections": 40, "tracks": 3, "max_persons": 2,
                "faces": 0, "events": intrusions + motions, "intrusion_events": intrusions,
                "motion_events": motions, "computed_at": now,
            },
        )  # fmt: skip
        # ...an event in that hour (already in its counts), and a newer one it has not seen.
        footage.add_event(stack.database_url, stack.data_dir, camera, start=computed)
        footage.add_event(stack.database_url, stack.data_dir, camera, start=now)

    log_in(page, stack, email)
    open_screen(page, "Stats")
    expect(page.get_by_text("Counted from events since")).to_be_visible()
    metric = page.get_by_test_id("stMetric")
    expect(metric.filter(has_text="Events").get_by_test_id("stMetricValue")).to_have_text("6")
    expect(metric.filter(has_text="Intrusions").get_by_test_id("stMetricValue")).to_have_text("4")
    charts = page.get_by_test_id("stVegaLiteChart")
    expect(charts).to_have_count(3)
    expect(charts.first.locator("canvas, svg").first).to_be_visible()
