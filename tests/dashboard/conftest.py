"""The real thing for dashboard tests: `vigil api` and `vigil dashboard` as subprocesses on
loopback (temp SQLite, local object store), and Debian's Chromium driven by Playwright.

Streamlit renders over a websocket: tests wait for elements (Playwright's auto-waiting
`expect`), never for time. Every process is stopped at teardown, Chromium included (checked).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from tests.conftest import TEST_JWT_SECRET
from tests.dashboard.footage import Footage
from vigil.db.models import Camera
from vigil.db.session import session_scope
from vigil.embedded.process import free_port
from vigil.healthserver import HealthServer
from vigil.platform import HttpService

PASSWORD = "a quiet street at night"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
expect.set_options(timeout=30_000)  # a first Streamlit run imports pandas and altair


@dataclass(frozen=True)
class Stack:
    api_url: str
    dashboard_url: str
    data_dir: Path
    database_url: str

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    def token(self, email: str) -> str:
        """A user made through the API (faster than the sign-up screen), logged in."""
        api = f"{self.api_url}/api/v1"
        httpx.post(f"{api}/auth/signup", json={"email": email, "password": PASSWORD})
        login = httpx.post(f"{api}/auth/login", json={"email": email, "password": PASSWORD})
        login.raise_for_status()
        return str(login.json()["access_token"])

    def add_camera(self, token: str, name: str, url: str = "rtsp://cam.local/stream") -> int:
        response = httpx.post(
            f"{self.api_url}/api/v1/cameras",
            json={"name": name, "stream_url": url},
            headers={"Authorization": f"Bearer {token}"},
        )
        response.raise_for_status()
        return int(response.json()["id"])

    def report_status(self, camera_id: int, status: str, error: str | None, seen: datetime) -> None:
        """What the ingest service records about a camera, written where it writes it."""
        with session_scope(self.database_url) as session:
            camera = session.get(Camera, camera_id)
            assert camera is not None
            camera.status, camera.last_error, camera.last_seen_at = status, error, seen


def _environment(data_dir: Path, api_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIGIL_")}
    return env | {
        "VIGIL_DATA_DIR": str(data_dir),
        "VIGIL_DATABASE_URL": f"sqlite:///{data_dir / 'vigil.db'}",
        "VIGIL_JWT_SECRET": TEST_JWT_SECRET,
        "VIGIL_OBJECT_STORE": "local",
        "VIGIL_LOGIN_RATE_LIMIT": "1000/minute",
        "VIGIL_LOGIN_PAIR_RATE_LIMIT": "1000/minute",
        "VIGIL_SIGNUP_RATE_LIMIT": "1000/minute",
        "VIGIL_API_URL": f"http://127.0.0.1:{api_port}",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture(scope="session")
def telemetry() -> Iterator[str]:
    """A /healthz and /metrics endpoint serving this test process's Prometheus registry, as the
    dataflow and ingest services serve theirs: the System page's figures come through it."""
    server = HealthServer(lambda: (True, {}), free_port()).start()
    yield f"http://127.0.0.1:{server.port}"
    server.stop()


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory, telemetry: str) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("dashboard-stack")
    data_dir = root / "data"
    data_dir.mkdir()
    api_port, dashboard_port = free_port(), free_port()
    env = _environment(data_dir, api_port)
    env |= {"VIGIL_DATAFLOW_URL": telemetry, "VIGIL_INGEST_URL": telemetry}
    vigil = [sys.executable, "-m", "vigil"]
    subprocess.run([*vigil, "migrate"], env=env, cwd=root, check=True, capture_output=True)
    api = HttpService(
        "api",
        [*vigil, "api", "--host", "127.0.0.1", "--port", str(api_port)],
        f"http://127.0.0.1:{api_port}/readyz",
        log_dir=root / "logs",
        env=env,
        cwd=root,
        ready_timeout=60.0,
    )
    dashboard = HttpService(
        "dashboard",
        [*vigil, "dashboard", "--host", "127.0.0.1", "--port", str(dashboard_port)],
        f"http://127.0.0.1:{dashboard_port}/_stcore/health",
        log_dir=root / "logs",
        env=env,
        cwd=root,
        ready_timeout=60.0,
    )
    with api, dashboard:
        yield Stack(
            api_url=f"http://127.0.0.1:{api_port}",
            dashboard_url=f"http://127.0.0.1:{dashboard_port}",
            data_dir=data_dir,
            database_url=env["VIGIL_DATABASE_URL"],
        )


@pytest.fixture(scope="session")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Footage:
    return Footage.make(tmp_path_factory.mktemp("footage"))


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # An inert switch that Chromium ignores: it tags this run's processes so teardown can
    # check that none of them outlives the tests.
    marker = f"--vigil-test-run={uuid.uuid4().hex}"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=[*CHROMIUM_ARGS, marker]
        )
        yield chromium
        chromium.close()
    deadline = time.monotonic() + 15
    while (left := _processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert left == [], f"Chromium processes left running: {left}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser context: its own cookies, so its own Streamlit session."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


def new_email(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}@example.com"


def log_in(page: Page, stack: Stack, email: str, password: str = PASSWORD) -> None:
    page.goto(stack.dashboard_url)
    form = page.get_by_test_id("stForm").filter(has=page.get_by_role("button", name="Log in"))
    form.get_by_role("textbox", name="Email", exact=True).fill(email)
    form.get_by_role("textbox", name="Password", exact=True).fill(password)
    form.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def settled(page: Page) -> None:
    """Wait until the script run that drew what the test just waited for has finished: a
    widget that is redrawn by the end of a run may close a dropdown opened before that."""
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")


def open_screen(page: Page, name: str) -> None:
    """Through the sidebar, like a user: a page load would start a new, signed-out session."""
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=name).click()
    expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
    settled(page)


def choose(page: Page, label: str, option: str) -> None:
    """Pick an option of a selectbox with the keyboard (a click on it may only focus it).

    A script run that ends while the list is open redraws the box and closes the list (seen
    on a loaded CI machine): then open it again, a few times, as a user would.
    """
    box = page.get_by_role("combobox", name=label)
    wanted = page.get_by_role("option", name=option)
    for _ in range(3):
        settled(page)
        box.focus()
        box.press("ArrowDown")
        try:
            wanted.click(timeout=10_000)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError(f"option {option!r} of {label!r} never showed up")
