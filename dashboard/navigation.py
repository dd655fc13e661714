"""The dashboard's screens."""

from __future__ import annotations

import streamlit as st
from streamlit.navigation.page import StreamlitPage

from dashboard.pages import alerts, cameras, events, faces, live, stats, system, zones


def pages() -> dict[str, StreamlitPage]:
    """Every screen by its URL path, the first being the landing page. Built on every run:
    a page object carries per-run state, so it must not be shared between sessions."""
    screens = [
        (live.render, "live", "Live", ":material/live_tv:"),
        (events.render, "events", "Events", ":material/notifications:"),
        (faces.render, "faces", "Faces", ":material/face:"),
        (cameras.render, "cameras", "Cameras", ":material/videocam:"),
        (zones.render, "zones", "Zones", ":material/pentagon:"),
        (stats.render, "stats", "Stats", ":material/bar_chart:"),
        (system.render, "system", "System", ":material/monitor_heart:"),
        (alerts.render, "alerts", "Alerts", ":material/mail:"),
    ]
    return {
        path: st.Page(render, url_path=path, title=title, icon=icon, default=index == 0)
        for index, (render, path, title, icon) in enumerate(screens)
    }
