"""Request limits: body size, enforced before any parsing, and requests in flight.

A declared Content-Length over the limit is refused before the application runs (so an endpoint
that ignores its body never acts on an oversized request); a chunked body is counted as it
streams in and refused as soon as it passes the limit. Either way the answer is a JSON 413 that
closes the connection, so the rest of the upload is never read.
"""

from __future__ import annotations

import asyncio

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CLOSE = {"Connection": "close"}


class BodyTooLargeError(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"request body larger than {limit} bytes", headers=CLOSE)


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers") or []:
        if name == b"content-length":
            return int(value) if value.isdigit() else None  # the server has validated it
    return None


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes
        declared = _declared_length(scope)
        if declared is not None and declared > limit:
            await self._refuse(scope, receive, send, BodyTooLargeError(limit))
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLargeError(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except BodyTooLargeError as exc:
            # FastAPI turns it into the same JSON 413 when it reads a body; this catches
            # readers that let it escape.
            if started:
                raise
            await self._refuse(scope, receive, send, exc)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, exc: BodyTooLargeError) -> None:
        response = JSONResponse({"detail": exc.detail}, status_code=413, headers=exc.headers)
        await response(scope, receive, send)


class ConcurrencyLimitMiddleware:
    """At most `limit` requests inside the application until their response starts; the rest
    wait here, on the event loop, holding neither a worker thread nor a database connection.

    FastAPI runs each sync dependency and endpoint as a separate worker-thread task, and a
    request keeps its database connection between them. When more requests than the pool has
    connections arrive at once, every worker thread can end up waiting for a connection while
    the requests holding the connections wait for a thread: nothing moves until the pool times
    out. With the limit at most the pool's size, a request always finds a connection. The
    session is closed before the response starts (deps.get_db), so streaming a clip does not
    hold a slot. Liveness and metrics are not limited.
    """

    UNLIMITED = frozenset({"/healthz", "/metrics"})

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.slots = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.UNLIMITED:
            await self.app(scope, receive, send)
            return
        await self.slots.acquire()
        held = True

        async def release_on_start(message: Message) -> None:
            nonlocal held
            if held and message["type"] == "http.response.start":
                held = False
                self.slots.release()
            await send(message)

        try:
            await self.app(scope, receive, release_on_start)
        finally:
            if held:
                self.slots.release()
