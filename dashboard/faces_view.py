"""HTML of the Faces screen: the timeline strip (one row per identity, its visits placed on the
time axis with their best face), face thumbnails and clip players. Media URLs carry the token
(<img> and <video> cannot send headers), like the Events screen's."""

from __future__ import annotations

from datetime import datetime, tzinfo
from html import escape

from dashboard.formatting import local_time
from dashboard.media import with_token
from dashboard.models import Visit

THUMB = 40  # px, faces on the strip


def thumb_html(url: str | None, token: str, alt: str, size: int = 64) -> str:
    if not url:
        return f'<div class="face-thumb none" style="width:{size}px;height:{size}px"></div>'
    src = escape(with_token(url, token))
    return (
        f'<img class="face-thumb" src="{src}" alt="{escape(alt)}" width="{size}" height="{size}"'
        ' style="object-fit:cover;border-radius:6px;background:#222">'
    )


def strip_html(
    rows: list[tuple[str, list[Visit]]],
    since: datetime,
    until: datetime,
    token: str,
    tz: tzinfo,
) -> str:
    """One row per identity (title, visits), visits positioned between since and until."""
    span = max((until - since).total_seconds(), 1.0)

    def at(when: datetime) -> float:
        return min(max((when - since).total_seconds() / span * 100, 0.0), 100.0)

    lines = []
    for title, visits in rows:
        blocks = []
        for visit in visits:
            left = at(visit.start)
            width = max(at(visit.end) - left, 0.4)
            when = f"{local_time(visit.start, tz)} to {local_time(visit.end, tz, with_date=False)}"
            label = f"{title}, {when}, {len(visit.appearances)} faces"
            blocks.append(
                # Kept inside the track: a visit at the range's end still shows its face.
                f'<div class="visit" style="left:min({left:.3f}%, calc(100% - {THUMB}px));'
                f'min-width:{width:.3f}%"'
                f' title="{escape(label)}" data-face="{visit.face_id}">'
                f"{thumb_html(visit.thumbnail_url, token, label, THUMB)}</div>"
            )
        lines.append(
            f'<div class="row"><div class="who">{escape(title)}</div>'
            f'<div class="track">{"".join(blocks)}</div></div>'
        )
    axis = (
        f'<div class="axis"><span>{escape(local_time(since, tz))}</span>'
        f"<span>{escape(local_time(until, tz))}</span></div>"
    )
    return f'<div class="face-strip">{"".join(lines)}{axis}</div><style>{_CSS}</style>'


def clip_html(url: str, token: str, label: str) -> str:
    src = escape(with_token(url, token))
    return (
        f'<video class="face-clip" controls preload="metadata" src="{src}"'
        f' aria-label="{escape(label)}"'
        ' style="width:100%;aspect-ratio:16/9;border-radius:0.5rem;background:#111"></video>'
    )


def gallery_html(items: list[tuple[str | None, str]], token: str) -> str:
    """Face thumbnails with captions, wrapping."""
    cells = "".join(
        f'<figure style="margin:0;text-align:center">{thumb_html(url, token, caption, 72)}'
        f'<figcaption style="font-size:12px;opacity:0.7">{escape(caption)}</figcaption></figure>'
        for url, caption in items
    )
    return f'<div style="display:flex;flex-wrap:wrap;gap:8px">{cells}</div>'


_CSS = """
.face-strip { font-family: inherit; font-size: 13px; }
.face-strip .row { display: flex; align-items: center; gap: 8px; margin: 4px 0; }
.face-strip .who { width: 9rem; flex: none; overflow: hidden; text-overflow: ellipsis;
                   white-space: nowrap; }
.face-strip .track { position: relative; flex: 1; height: 44px; background: #8881;
                     border-radius: 6px; }
.face-strip .visit { position: absolute; top: 2px; height: 40px; border-radius: 6px;
                     background: #1e88e566; display: flex; }
.face-strip .axis { display: flex; justify-content: space-between; margin-left: 9.5rem;
                    opacity: 0.6; font-size: 12px; }
"""
