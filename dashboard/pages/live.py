"""Live: every enabled camera playing at once, in one grid."""

from __future__ import annotations

import math

import streamlit as st

from dashboard import session, ui
from dashboard.media import LiveTile, live_grid_html


def render() -> None:
    st.title("Live")
    session.show_flash()
    cameras = session.load("Loading your cameras", session.client().all_cameras)
    if not cameras:
        ui.no_cameras("No cameras yet — add one to watch it here.", icon=":material/videocam:")
        return
    enabled = [c for c in cameras if c.enabled]
    if not enabled:
        st.info("All your cameras are disabled. Enable one on the Cameras page to watch it.")
        return
    names = {c.id: c.name for c in enabled}
    left, right = st.columns([4, 1])
    chosen = left.multiselect(
        "Cameras shown",
        options=list(names),
        default=list(names),
        format_func=names.__getitem__,
        placeholder="Pick cameras to watch",
    )
    default_columns = min(4, max(1, math.ceil(math.sqrt(len(chosen) or 1))))
    columns = right.selectbox("Per row", [1, 2, 3, 4], index=default_columns - 1)
    hidden = len(cameras) - len(enabled)
    if hidden:
        st.caption(f"{hidden} disabled camera{'s are' if hidden > 1 else ' is'} not shown.")
    if not chosen:
        st.info("Pick at least one camera above.")
        return
    tiles = [
        LiveTile(c.id, c.name, c.status, c.live_url, c.snapshot_url)
        for c in enabled
        if c.id in chosen
    ]
    st.iframe(
        live_grid_html(tiles, session.token(), columns),
        height="content",
        alt=f"Live view of {len(tiles)} camera{'s' if len(tiles) != 1 else ''}",
    )
