"""The Alerts screen in Chromium: validation next to the field, a toggled kind that persists,
and a test message that shows in the delivery log."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.conftest import Stack, log_in, new_email, open_screen, settled

pytestmark = pytest.mark.browser


def test_toggle_persists_and_test_message_is_logged(page: Page, stack: Stack) -> None:
    email = new_email("alerts")
    token = stack.token(email)
    stack.add_camera(token, "Porch")
    log_in(page, stack, email)
    open_screen(page, "Alerts")

    form = page.get_by_test_id("stForm")
    recipients = form.get_by_role("textbox", name="Recipients")
    recipients.fill("not-an-address")
    form.get_by_role("button", name="Save alerts").click()
    expect(form.get_by_text("not a valid email address")).to_be_visible()
    settled(page)

    form.get_by_role("textbox", name="Recipients").fill("")
    motion = form.get_by_label("Motion alerts")
    expect(motion).not_to_be_checked()
    form.get_by_text("Motion alerts").click()
    expect(motion).to_be_checked()
    form.get_by_role("button", name="Save alerts").click()
    expect(page.get_by_text("Alerts of “Porch” saved.")).to_be_visible()

    # A new session (a page load signs out) reads the settings back from the API.
    log_in(page, stack, email)
    open_screen(page, "Alerts")
    expect(page.get_by_test_id("stForm").get_by_label("Motion alerts")).to_be_checked()
    expect(page.get_by_test_id("stForm").get_by_label("Intrusion alerts")).to_be_checked()

    expect(page.get_by_text("No alerts sent for this camera yet.")).to_be_visible()
    page.get_by_role("button", name="Send test").click()
    expect(page.get_by_text(f"Test to {email}: skipped")).to_be_visible()
    log = page.get_by_test_id("stTable")
    expect(log.get_by_text("no SMTP server configured").first).to_be_visible()
    expect(log.get_by_text(email).first).to_be_visible()
