"""Real loopback servers for alert tests: an SMTP server (aiosmtpd) that keeps what it
accepted and can refuse or hold messages on cue, and an HTTP server for webhooks."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from vigil.embedded import free_port


@dataclass
class Accepted:
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Mailbox:
    """The SMTP handler. `refuse` holds answers (e.g. "451 ...") for the next messages;
    `hold_at` makes the n-th message (1-based, counting every DATA) wait until released."""

    accepted: list[Accepted] = field(default_factory=list)
    refuse: list[str] = field(default_factory=list)
    data_commands: int = 0
    hold_at: int | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.data_commands += 1
            held = self.data_commands == self.hold_at
            answer = self.refuse.pop(0) if self.refuse else None
        if held:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait)
            return "451 held by the test, not accepted"
        if answer is not None:
            return answer
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.accepted.append(Accepted(list(envelope.rcpt_tos), message))
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [a.message for a in self.accepted]


@contextmanager
def smtp_server(**controller_options: Any) -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port, **controller_options)
    controller.start()
    try:
        yield mailbox, port
    finally:
        mailbox.release.set()
        controller.stop()


@dataclass
class Hook:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HookLog:
    received: list[Hook] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)  # status codes for the next requests


@contextmanager
def webhook_server() -> Iterator[tuple[HookLog, str]]:
    log = HookLog()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            log.received.append(Hook(self.path, dict(self.headers.items()), body))
            code = log.answers.pop(0) if log.answers else 204
            self.send_response(code)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield log, f"http://127.0.0.1:{server.server_address[1]}/hooks/vigil?token=abc123"
    finally:
        server.shutdown()
        server.server_close()
