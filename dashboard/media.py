"""HTML for what the browser plays itself: the live grid (hls.js) and event clips (<video>).

Media URLs are the API's own paths (`/api/v1/...`) served on the dashboard's origin by the
passthrough (dashboard/passthrough.py). hls.js sends the token in an Authorization header;
<video> and <img> cannot send headers, so their URLs carry `?access_token=`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from dashboard.models import Event
from vigil import __version__

STATIC = "/vigil-static"  # dashboard/static, served by dashboard/server.py
# The version in the URL: an upgrade never runs against a browser's cached old script.
HLS_JS = f"{STATIC}/hls.min.js?v={__version__}"  # hls.js 1.7.4 (Apache-2.0, static/LICENSE)
LIVE_JS = f"{STATIC}/live.js?v={__version__}"  # the tile player around it
RETRY_SECONDS = 5


def with_token(path: str, token: str) -> str:
    separator = "&" if "?" in path else "?"
    return f"{path}{separator}access_token={quote(token, safe='')}"


@dataclass(frozen=True)
class LiveTile:
    camera_id: int
    name: str
    status: str
    live_url: str
    snapshot_url: str


def _tile(tile: LiveTile) -> str:
    name = escape(tile.name)
    return (
        f'<figure class="tile" data-camera="{tile.camera_id}" data-mode="starting"'
        f' data-live="{escape(tile.live_url)}" data-snapshot="{escape(tile.snapshot_url)}">'
        f'<video muted playsinline autoplay hidden aria-label="Live view of {name}"></video>'
        f'<img hidden alt="Latest picture from {name}">'
        f'<div class="note" role="status">Connecting to {name}…</div>'
        f'<figcaption><span class="name">{name}</span>'
        f'<span class="badge {escape(tile.status)}">{escape(tile.status)}</span></figcaption>'
        "</figure>"
    )


def live_grid_html(tiles: list[LiveTile], token: str, columns: int) -> str:
    # json.dumps plus escaping "</" keeps the token a plain JS string inside <script>.
    config = json.dumps({"token": token, "retryMs": RETRY_SECONDS * 1000}).replace("</", "<\\/")
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<style>{_LIVE_CSS.replace('COLUMNS', str(columns))}</style>"
        f'<script src="{HLS_JS}"></script></head><body>'
        f'<div class="grid">{"".join(_tile(t) for t in tiles)}</div>'
        f'<script>const VIGIL = {config};</script><script src="{LIVE_JS}"></script>'
        "</body></html>"
    )


def event_media_html(event: Event, token: str, label: str) -> str:
    """The clip as a <video> (its snapshot as poster), else the snapshot, else a note."""
    label = escape(label)
    style = 'style="width:100%;aspect-ratio:16/9;border-radius:0.5rem;background:#111"'
    poster = (
        f' poster="{escape(with_token(event.snapshot_url, token))}"' if event.snapshot_url else ""
    )
    if event.clip_url:
        src = escape(with_token(event.clip_url, token))
        return (
            f'<video class="event-clip" data-event="{escape(event.id)}" controls preload="metadata"'
            f' src="{src}"{poster} aria-label="Clip: {label}" {style}></video>'
        )
    if event.snapshot_url:
        src = escape(with_token(event.snapshot_url, token))
        return f'<img class="event-snapshot" src="{src}" alt="Snapshot: {label}" {style}>'
    return '<p style="opacity:0.7">No picture was kept for this event.</p>'


_LIVE_CSS = """
body { margin: 0; font-family: "Source Sans Pro", "Source Sans", system-ui, sans-serif; }
.grid { display: grid; grid-template-columns: repeat(COLUMNS, minmax(0, 1fr)); gap: 12px; }
.tile { position: relative; margin: 0; aspect-ratio: 16 / 9; background: #111;
        border-radius: 8px; overflow: hidden; }
.tile video, .tile img { width: 100%; height: 100%; object-fit: contain; display: block; }
[hidden] { display: none !important; }
.note { position: absolute; inset: 0; display: flex; align-items: center;
        justify-content: center; text-align: center; padding: 1rem; color: #ddd; }
figcaption { position: absolute; left: 8px; top: 8px; display: flex; gap: 6px;
             align-items: center; color: #fff; font-size: 14px; text-shadow: 0 1px 2px #000; }
.badge { font-size: 12px; padding: 1px 6px; border-radius: 4px; background: #666; }
.badge.online { background: #1b873f; } .badge.offline { background: #b86e00; }
.badge.error { background: #c62828; }
"""
