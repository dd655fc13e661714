"""Same-origin passthrough of the API's media for the browser (HLS, clips, snapshots).

The browser plays live video with hls.js, which fetches playlists and segments with XHR: a
cross-origin API would need CORS, and the API is often on loopback or a private Docker network
that the user's browser cannot reach at all. So the dashboard's own web server forwards
exactly the media GETs, under the API's own paths, to the API. Authentication stays the API's:
the request's bearer token (or `?access_token=`) goes through untouched and the API decides.
Nothing else is forwarded, so this is not an open proxy.
"""

from __future__ import annotations

import re

import httpx
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

_ID = r"[0-9]{1,10}"
_UUID = r"[0-9a-f-]{36}"
MEDIA_PATH = re.compile(
    rf"/api/v1/(?:cameras/{_ID}/(?:live/[A-Za-z0-9_.-]{{1,64}}|snapshot\.jpg)"
    rf"|events/{_UUID}/(?:clip|snapshot\.jpg)|clips/{_UUID}"
    rf"|faces/(?:{_ID}|detections/{_UUID})/thumbnail\.jpg)"
)
_REQUEST_HEADERS = ("authorization", "range", "if-none-match", "if-modified-since")
_RESPONSE_HEADERS = (
    "content-type",
    "content-length",
    "content-range",
    "content-encoding",
    "accept-ranges",
    "cache-control",
    "etag",
    "last-modified",
    "www-authenticate",
    "retry-after",
)


class MediaPassthrough:
    """Streams the allowed media requests from the API."""

    def __init__(self, api_url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        # Built on first use, inside the server's event loop.
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self.api_url,
                timeout=httpx.Timeout(30.0, connect=5.0),
                transport=self._transport,
            )
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def routes(self) -> list[Route]:
        return [Route("/api/v1/{path:path}", self.forward, methods=["GET", "HEAD"])]

    async def forward(self, request: Request) -> Response:
        path = request.url.path
        if not MEDIA_PATH.fullmatch(path):
            return JSONResponse({"detail": "not found"}, status_code=404)
        headers = {k: v for k in _REQUEST_HEADERS if (v := request.headers.get(k)) is not None}
        upstream_request = self.client.build_request(
            request.method, path, params=request.query_params, headers=headers
        )
        try:
            upstream = await self.client.send(upstream_request, stream=True)
        except httpx.TransportError:
            return JSONResponse({"detail": "the Vigil API is not reachable"}, status_code=502)
        return StreamingResponse(
            upstream.aiter_raw(),
            status_code=upstream.status_code,
            headers={k: v for k in _RESPONSE_HEADERS if (v := upstream.headers.get(k))},
            background=BackgroundTask(upstream.aclose),
        )
