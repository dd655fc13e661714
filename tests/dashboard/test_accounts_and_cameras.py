"""Signing up and in, and managing cameras, through the real dashboard and API in Chromium."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Locator, Page, expect

from tests.dashboard.conftest import PASSWORD, Stack, log_in, new_email, open_screen

pytestmark = pytest.mark.browser


def _form(page: Page, button: str) -> Locator:
    return page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name=button))


def test_sign_up_log_out_and_log_in_again(page: Page, stack: Stack) -> None:
    email = new_email("ana")
    page.goto(stack.dashboard_url)
    page.get_by_role("tab", name="Create an account").click()
    signup = _form(page, "Create account")
    signup.get_by_role("textbox", name="Email", exact=True).fill(email)
    signup.get_by_role("textbox", name="Password", exact=True).fill("short")
    signup.get_by_role("button", name="Create account").click()
    # The API's own message, inside the form next to the password field.
    expect(signup.get_by_text("password must be at least 10 characters long")).to_be_visible()

    signup.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    signup.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Welcome to Vigil!")).to_be_visible()
    expect(page.get_by_text("No cameras yet — add one")).to_be_visible()
    expect(page.get_by_text(f"Signed in as {email}")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    login = _form(page, "Log in")
    login.get_by_role("textbox", name="Email", exact=True).fill(email)
    login.get_by_role("textbox", name="Password", exact=True).fill("not my password at all")
    login.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Incorrect email or password.")).to_be_visible()

    log_in(page, stack, email)
    expect(page.get_by_role("heading", name="Live", level=1)).to_be_visible()


def test_add_edit_disable_and_delete_a_camera(page: Page, stack: Stack) -> None:
    email = new_email("cams")
    stack.token(email)
    log_in(page, stack, email)
    open_screen(page, "Cameras")
    expect(page.get_by_text("No cameras yet — add one below.")).to_be_visible()

    add = _form(page, "Add camera")
    add.get_by_role("textbox", name="Name", exact=True).fill("Driveway")
    add.get_by_role("textbox", name="Stream URL", exact=True).fill("http://192.168.1.20/stream")
    add.get_by_role("button", name="Add camera").click()
    expect(add.get_by_text("must use the rtsp:// or rtsps:// scheme")).to_be_visible()

    url = "rtsp://admin:hunter2-secret@192.168.1.20:554/Streaming/Channels/101"
    add.get_by_role("textbox", name="Stream URL", exact=True).fill(url)
    add.get_by_role("button", name="Add camera").click()
    expect(page.get_by_text("Camera “Driveway” added.")).to_be_visible()
    card = page.locator("[class*='st-key-camera_card_']").filter(has_text="Driveway")
    expect(
        card.get_by_text("rtsp://admin:***@192.168.1.20:554/Streaming/Channels/101")
    ).to_be_visible()
    expect(card.get_by_text("unknown", exact=True)).to_be_visible()
    expect(card.get_by_text("Last seen never")).to_be_visible()
    assert "hunter2-secret" not in page.content()

    card.get_by_role("button", name="Edit").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("textbox", name="Name", exact=True).fill("Driveway north")
    dialog.get_by_role("button", name="Save changes").click()
    expect(page.get_by_text("Camera “Driveway north” saved.")).to_be_visible()

    card = page.locator("[class*='st-key-camera_card_']").filter(has_text="Driveway north")
    card.get_by_role("button", name="Disable").click()
    expect(card.get_by_text("disabled", exact=True)).to_be_visible()
    expect(card.get_by_role("button", name="Enable")).to_be_visible()

    card.get_by_role("button", name="More").click()
    page.get_by_role("button", name="Delete").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete camera").click()
    expect(page.get_by_text("Camera “Driveway north” deleted.")).to_be_visible()
    expect(page.get_by_text("No cameras yet — add one below.")).to_be_visible()


def test_another_user_sees_none_of_the_first_users_cameras(page: Page, stack: Stack) -> None:
    alice = stack.token(new_email("alice"))
    camera_id = stack.add_camera(alice, "Alice's porch")
    bob_email = new_email("bob")
    bob = stack.token(bob_email)
    gate = stack.add_camera(bob, "Bob's gate", "rtsp://bob:gate-pass-42@10.0.0.9/live")
    seen = datetime.now(UTC) - timedelta(minutes=7)
    stack.report_status(
        gate, "error", "rtsp://bob:gate-pass-42@10.0.0.9/live: 401 Unauthorized", seen
    )

    log_in(page, stack, bob_email)
    open_screen(page, "Cameras")
    card = page.locator("[class*='st-key-camera_card_']")
    expect(card).to_have_count(1)
    expect(card.get_by_text("error", exact=True)).to_be_visible()
    expect(card.get_by_text("Last seen 7 min ago")).to_be_visible()
    expect(
        card.get_by_text("Last error: rtsp://bob:***@10.0.0.9/live: 401 Unauthorized")
    ).to_be_visible()
    expect(page.get_by_text("1 camera: 1 error")).to_be_visible()
    expect(page.get_by_text("Alice's porch")).to_have_count(0)
    assert "gate-pass-42" not in page.content()

    # The dashboard's media passthrough leaves the decision to the API: 404 for Bob.
    media = f"{stack.dashboard_url}/api/v1/cameras/{camera_id}/snapshot.jpg"
    assert httpx.get(media, params={"access_token": bob}).status_code == 404
    assert httpx.get(media, params={"access_token": alice}).status_code == 404  # no picture yet
    assert httpx.get(media).status_code == 401
