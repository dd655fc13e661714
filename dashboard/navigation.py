"""The dashboard's screens, and links between them."""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage


def pages() -> dict[str, StreamlitPage]:
    """Every screen by its URL path, the first being the landing page. Built on every run:
    a page object carries per-run state, so it must not be shared between sessions."""
    from dashboard.pages import cameras, events, faces, live, stats, zones  # they link back

    screens = [
        (live.render, "live", "Live", ":material/live_tv:"),
        (events.render, "events", "Events", ":material/notifications:"),
        (faces.render, "faces", "Faces", ":material/face:"),
        (cameras.render, "cameras", "Cameras", ":material/videocam:"),
        (zones.render, "zones", "Zones", ":material/pentagon:"),
        (stats.render, "stats", "Stats", ":material/bar_chart:"),
    ]
    return {
        path: st.Page(render, url_path=path, title=title, icon=icon, default=index == 0)
        for index, (render, path, title, icon) in enumerate(screens)
    }


def link(name: str, label: str, icon: str | None = None) -> None:
    st.page_link(pages()[name], label=label, icon=icon)
