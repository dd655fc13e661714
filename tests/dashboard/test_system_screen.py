"""The System screen in a real browser: services' health, a camera's figures from the
dataflow's metrics, and storage against the cap; only the user's own cameras."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.dashboard.conftest import Stack, log_in, new_email, open_screen
from vigil.retention.usage import publish
from vigil.streaming.metrics import CameraMeter


@pytest.fixture
def meters() -> Iterator[list[CameraMeter]]:
    made: list[CameraMeter] = []
    yield made
    for meter in made:
        meter.forget()
    publish(Counter())


def test_system_screen_shows_health_figures_and_storage(
    page: Page, stack: Stack, meters: list[CameraMeter]
) -> None:
    email = new_email("system")
    token = stack.token(email)
    porch = stack.add_camera(token, "Porch")
    theirs = stack.add_camera(stack.token(new_email("other")), "Someone else's")
    for camera in (porch, theirs):
        meter = CameraMeter(camera)
        meters.append(meter)
        meter.analysed(True, 42.0)  # what the dataflow reports per analysed frame
        meter.reader(frames_in=30, dropped=5, queued=1)
    publish(Counter({("recordings", porch): 2_500_000, ("lake", theirs): 9_000_000}))

    log_in(page, stack, email)
    open_screen(page, "System")
    services = page.get_by_test_id("stMarkdownContainer")
    expect(services.filter(has_text="dataflow").first).to_be_visible()
    table = page.get_by_test_id("stTable")
    expect(table.get_by_role("row").filter(has_text="Porch")).to_contain_text("42")
    expect(table).not_to_contain_text("Someone else's")
    expect(table.get_by_role("row").filter(has_text="Porch")).to_contain_text("2.5 MB")
    used = page.get_by_test_id("stMetric").filter(has_text="Used by your cameras")
    expect(used).to_contain_text("2.5 MB")  # not the other user's lake
    expect(page.get_by_test_id("stVegaLiteChart").first).to_be_visible()
