"""X-Forwarded-For is believed only from configured proxies: against a real uvicorn server
run the way `vigil api` runs it, a header sent from loopback does not move the client's
rate-limit key (it did, through uvicorn's own proxy_headers)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
import uvicorn

from api.app import UVICORN_OPTIONS, create_app
from vigil.embedded.process import free_port
from vigil.settings import Settings

Serve = Callable[[Settings], str]


@pytest.fixture
def serve() -> Iterator[Serve]:
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(settings: Settings) -> str:
        port = free_port()
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=port, **UVICORN_OPTIONS
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "API did not start"
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=15)


def _attempts(url: str, spoofed: list[str]) -> list[int]:
    return [
        httpx.post(
            f"{url}/api/v1/auth/login",
            json={"email": f"spray{i}@example.com", "password": "wrong one!"},
            headers={"X-Forwarded-For": address},
            timeout=30,
        ).status_code
        for i, address in enumerate(spoofed)
    ]


SPOOFED = ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]


def test_a_forwarded_for_header_from_an_untrusted_peer_is_ignored(
    serve: Serve, settings: Settings
) -> None:
    url = serve(settings.model_copy(update={"login_ip_rate_limit": "3/minute"}))
    # Four "addresses", one real peer (loopback): the fourth attempt is over the limit.
    assert _attempts(url, SPOOFED) == [401, 401, 401, 429]


def test_a_configured_proxy_is_believed(serve: Serve, settings: Settings) -> None:
    behind_proxy = settings.model_copy(
        update={"login_ip_rate_limit": "3/minute", "trusted_proxies": "127.0.0.1"}
    )
    url = serve(behind_proxy)
    assert _attempts(url, SPOOFED) == [401, 401, 401, 401]
    assert _attempts(url, [SPOOFED[0]] * 3) == [401, 401, 429]  # 203.0.113.1's fourth
